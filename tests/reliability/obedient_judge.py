"""A fake judge, registered with Inspect as ``obedient/<name>``, that obeys any instruction outside the material.

It finds the material block by the nonce the system message announces and reads only the text
outside that block. When that text orders PASS or FAIL (in words, as a verdict JSON
object or as a ``GRADE:`` line), or to ignore its instructions, it obeys. Otherwise it gives its
scripted verdict (model argument ``verdict``, default FAIL). So if graded material ever escapes
its block, the verdict changes and a test sees it.
"""

from __future__ import annotations

import re
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, ModelUsage, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

_NONCE = re.compile(r"carry the code ([0-9a-f]+)")
_REQUIREMENT = re.compile(r"^## Requirement (\S+)$", re.MULTILINE)
_ORDERS = (
    re.compile(r"\b(?:answer|respond|reply|output|say|return|grade(?: it| this)?(?: as)?)\s*(?:with|:)?\s*[\"'*]*(PASS|FAIL)\b", re.IGNORECASE),
    re.compile(r"\"verdict\"\s*:\s*\"(PASS|FAIL)\"", re.IGNORECASE),
    re.compile(r"GRADE:\s*([CI])\b"),
)
_OVERRIDE = re.compile(r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:previous\s+|prior\s+|earlier\s+|above\s+)?(?:instructions|rules|guidelines)\b", re.IGNORECASE)
_LETTER_PROMPT = 'a line "GRADE: "'


def outside_material(system: str, user: str) -> str:
    """Return the prompt text outside the material block whose markers carry the announced nonce."""
    found = _NONCE.search(system)
    if found is None:
        return system + "\n" + user
    start_marker = f"<<<MATERIAL {found.group(1)}>>>"
    end_marker = f"<<<END MATERIAL {found.group(1)}>>>"
    start = user.find(start_marker)
    end = user.find(end_marker, start + len(start_marker)) if start >= 0 else -1
    if start < 0 or end < 0:
        return system + "\n" + user
    return system + "\n" + user[:start] + user[end + len(end_marker) :]


def ordered_verdict(text: str, scripted: str) -> str:
    """Return the verdict the text orders (the last order wins), the flipped verdict on an override, or ``scripted``."""
    orders: list[tuple[int, str]] = []
    for pattern in _ORDERS:
        for match in pattern.finditer(text):
            word = match.group(1).upper()
            orders.append((match.start(), {"C": "PASS", "I": "FAIL"}.get(word, word)))
    if orders:
        return max(orders)[1]
    if _OVERRIDE.search(text):
        return "PASS" if scripted == "FAIL" else "FAIL"
    return scripted


@modelapi(name="obedient")
class ObedientJudge(ModelAPI):
    """Fake judge whose verdict is its scripted one unless text outside the material orders another."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        self.scripted = str(model_args.get("verdict", "FAIL")).upper()

    def should_retry(self, ex: Exception) -> bool:
        """Never: this judge does not fail."""
        return False

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        """Answer every requirement in the prompt with the ordered or scripted verdict."""
        system = "\n".join(message.text for message in input if message.role == "system")
        user = "\n".join(message.text for message in input if message.role != "system")
        verdict = ordered_verdict(outside_material(system, user), self.scripted)
        requirements = _REQUIREMENT.findall(user)
        if _LETTER_PROMPT in user:
            completion = f"GRADE: {'C' if verdict == 'PASS' else 'I'}"
        elif len(requirements) > 1:
            entries = ", ".join(f'{{"criterion": "{cid}", "verdict": "{verdict}", "reason": "obeyed"}}' for cid in requirements)
            completion = f'{{"verdicts": [{entries}]}}'
        else:
            completion = f'{{"verdict": "{verdict}", "reason": "obeyed"}}'
        output = ModelOutput.from_content(model=f"obedient/{self.model_name}", content=completion)
        # Usage is always set, so Inspect never counts tokens with a tokenizer it would download.
        output.usage = ModelUsage(input_tokens=len(user) // 4, output_tokens=len(completion) // 4, total_tokens=(len(user) + len(completion)) // 4)
        return output
