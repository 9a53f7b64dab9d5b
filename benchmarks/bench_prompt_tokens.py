"""Count the uncached judge input tokens per verdict under four ways of prompting a jury.

Run: python benchmarks/bench_prompt_tokens.py [--criteria 1 5 20] [--evidence-tokens 500 5000]

Token counts come from the real tokenizer of the offline local judge (Qwen2.5-Coder-1.5B, read
with ``vocab_only=True``, so no model weights are evaluated) applied to the full chat prompt that
llama.cpp renders from the model's own chat template. Hosted judges use other tokenizers, so the
absolute counts differ there; the ratios between the layouts are what this benchmark is for.

Layouts, per graded task and judge:
- ``naive``: one request per criterion with the criterion first and the graded material after it,
  so requests differ from their first user tokens on and a provider can cache nothing of use.
- ``layout``: our per-criterion prompts (shared part first, criterion last) with no prompt cache.
- ``cached``: the same prompts with a provider prompt cache. A request's leading tokens that are
  identical, token for token, to the leading tokens of an earlier request of the same judge and
  task count as cached. The common prefix is measured on the token ids, never assumed. Three
  rules turn it into cached tokens:
    ``exact``     every token of the common prefix;
    ``openai``    OpenAI's automatic caching. Prompts under 1,024 tokens get nothing cached, and
                  longer ones get the common prefix rounded down to a multiple of 128 tokens.
    ``anthropic`` An explicit breakpoint after the shared part. The system prompt and shared part,
                  tokenized on their own, are cached when they come to at least ``--anthropic-min``
                  tokens (1,024 for Claude Sonnet and Opus, 2,048 for Claude Haiku) and their text
                  is identical to an earlier request's. The first request writes the cache, and
                  those tokens count as uncached here. Anthropic bills a cache write at 1.25x the
                  input rate and a cache read at 0.1x, which these token counts do not show.
- ``batched``: one request per judge and task that requests a verdict on every criterion, divided
  by the number of verdicts (with one criterion this is the per-criterion prompt).

Provider rules are as documented by OpenAI and Anthropic for their prompt caching; providers also
evict cached prefixes after minutes of disuse, which this model ignores: it assumes a task's
requests are sent one after another.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared_contract.loading import contract_from_data
from shared_contract.local_weights import ensure_local_weights
from shared_contract.prompts import JudgePrompt, batched_prompt, criterion_prompt
from shared_contract.schema import Contract

# A fixed marker code keeps the counts reproducible. A real nonce is 24 random hex digits too, and
# its token count varies by a token or two from task to task.
NONCE = "3f9a1c07d2b84e6f5a0c9e17"
OPENAI_MIN_TOKENS = 1024
OPENAI_STEP_TOKENS = 128
TARGET_CRITERIA = 5
TARGET_EVIDENCE_TOKENS = 2000
TARGET_CACHED_RATIO = 0.3
TARGET_BATCHED_RATIO = 0.25

TASK_PROMPT = (
    "Write the post-incident review of the payments outage for the engineering leadership, using "
    "the on-call log and the chat transcript of the incident channel. Cover the timeline, the root "
    "cause, the customer impact, what went well, what went badly, and the follow-up actions."
)

REQUIREMENTS = (
    "The review names the root cause: an expired TLS certificate on the payments gateway.",
    "The review states when the outage started and when service was fully restored, in UTC.",
    "The review quantifies the customer impact: the share of card payments that failed and for how long.",
    "The review gives a timeline with at least five timestamped events in chronological order.",
    "The review says how the problem was detected, and whether an alert or a customer report came first.",
    "The review explains why the certificate expiry was not caught by the existing renewal job.",
    "The review lists at least three follow-up actions, each with an owner team and a due date.",
    "The review distinguishes facts from the log from the author's own conclusions.",
    "The review blames a named individual for the outage.",
    "The review states that customer data was lost or exposed, which the log does not support.",
    "The review mentions the rollback that was attempted at 09:31 UTC and why it did not help.",
    "The review describes what went well during the response, with at least one concrete example.",
    "The review describes what went badly during the response, with at least one concrete example.",
    "The review says whether the incident breached the 99.95 percent monthly availability objective.",
    "The review is written for executives: it avoids unexplained internal host names and jargon.",
    "The review gives the number of merchants who contacted support, as recorded in the log.",
    "The review recommends monitoring certificate expiry dates with an alert at least 14 days ahead.",
    "The review contains a summary of at most five sentences before the detailed sections.",
    "The review invents timestamps, systems or people that do not appear in the log.",
    "The review states the severity level assigned to the incident and who declared it.",
)

_SERVICES = ("payments-gateway", "card-auth", "ledger", "fraud-scoring", "merchant-api", "settlement", "edge-proxy")
_PEOPLE = ("the on-call engineer", "the incident commander", "the payments lead", "the support lead", "the SRE on duty")
_EVENTS = (
    "{time} UTC: {service} error rate rose to {pct} percent; {person} acknowledged the page.",
    "{time} UTC: {person} checked the {service} dashboards and saw {count} failed TLS handshakes per minute.",
    "{time} UTC: support reported {count} merchant tickets about declined card payments.",
    "{time} UTC: {person} rolled back the last {service} deployment; the error rate stayed at {pct} percent.",
    "{time} UTC: {person} noted that the {service} certificate chain showed an expiry date of 3 March.",
    "{time} UTC: {service} latency at the 99th percentile reached {ms} ms while retries piled up.",
    "{time} UTC: {person} posted a status page update saying card payments were degraded.",
    "{time} UTC: {person} installed a renewed certificate on {service}; handshakes recovered within {ms} ms.",
    "{time} UTC: {service} queue depth fell from {count} to zero as settlement caught up.",
    "{time} UTC: {person} confirmed that no transactions were lost and that retries were idempotent.",
)


@dataclass(frozen=True)
class Row:
    """Uncached input tokens per verdict for one task shape, by layout and caching rule."""

    criteria: int
    evidence_tokens: int
    prompt_tokens: int
    shared_tokens: int
    common_prefix_tokens: int
    naive_common_prefix_tokens: int
    naive: float
    layout: float
    cached_exact: float
    cached_openai: float
    cached_anthropic: float
    batched: float


class ChatTokenizer:
    """Renders chat prompts with the local model's chat template and tokenizes them."""

    def __init__(self) -> None:
        """Load the local judge's vocabulary only (no weights are evaluated)."""
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._llama = Llama(model_path=str(ensure_local_weights()), vocab_only=True, verbose=False)
        metadata = self._llama.metadata
        eos = self._llama.detokenize([int(metadata["tokenizer.ggml.eos_token_id"])], special=True).decode("utf-8")
        self._formatter = Jinja2ChatFormatter(template=metadata["tokenizer.chat_template"], eos_token=eos, bos_token="")

    def render(self, system: str, user: str) -> str:
        """Return the prompt text that llama.cpp builds for a system and a user message."""
        messages: Any = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self._formatter(messages=messages).prompt

    def tokens(self, text: str) -> list[int]:
        """Tokenize text as llama.cpp tokenizes a rendered chat prompt (special tokens parsed)."""
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def common_prefix(first: Sequence[int], second: Sequence[int]) -> int:
    """Return the number of leading tokens two token sequences share."""
    length = 0
    for a, b in zip(first, second):
        if a != b:
            break
        length += 1
    return length


def build_evidence(tokenizer: ChatTokenizer, target_tokens: int, seed: int = 7) -> str:
    """Generate a deterministic on-call log of about ``target_tokens`` tokens (never fewer)."""
    chooser = random.Random(seed)
    lines: list[str] = []
    minutes = 9 * 60 + 12
    while True:
        template = chooser.choice(_EVENTS)
        lines.append(
            template.format(
                time=f"{minutes // 60:02d}:{minutes % 60:02d}",
                service=chooser.choice(_SERVICES),
                person=chooser.choice(_PEOPLE),
                pct=chooser.randint(2, 60),
                count=chooser.randint(3, 900),
                ms=chooser.randint(40, 4000),
            )
        )
        minutes += chooser.randint(0, 3)
        # Tokenizing every line's text again is quadratic, so count only every tenth line.
        if len(lines) % 10 == 0 and len(tokenizer.tokens("\n".join(lines))) >= target_tokens:
            break
    while len(lines) > 1 and len(tokenizer.tokens("\n".join(lines[:-1]))) >= target_tokens:
        lines.pop()
    return "\n".join(lines)


def build_contract(criteria: int) -> Contract:
    """Return a contract with ``criteria`` binary jury criteria taken from ``REQUIREMENTS``."""
    if not 1 <= criteria <= len(REQUIREMENTS):
        raise ValueError(f"criteria must be between 1 and {len(REQUIREMENTS)}, got {criteria}")
    return contract_from_data(
        {
            "id": f"bench-{criteria}",
            "task": {"prompt": TASK_PROMPT},
            "criteria": [{"id": f"R{index + 1:02d}", "requirement": text} for index, text in enumerate(REQUIREMENTS[:criteria])],
        }
    )


def naive_user(prompt: JudgePrompt) -> str:
    """Reorder a per-criterion prompt so the criterion and answer format come before the graded material."""
    return prompt.criterion_user + "\n\n" + prompt.shared_user


def _cached_total(prompts: list[list[int]], cached_of: Any) -> int:
    """Sum the uncached tokens of a task's requests sent in order, given each request's cached count."""
    total = 0
    for position, tokens in enumerate(prompts):
        total += len(tokens) - cached_of(position, tokens)
    return total


def measure(tokenizer: ChatTokenizer, criteria: int, evidence_tokens: int, anthropic_min: int) -> Row:
    """Build one task shape's prompts in every layout and count their uncached tokens per verdict."""
    contract = build_contract(criteria)
    material = build_evidence(tokenizer, evidence_tokens)

    prompts: list[JudgePrompt] = [criterion_prompt(contract, criterion, material, NONCE) for criterion in contract.criteria]
    ours = [tokenizer.tokens(tokenizer.render(prompt.system, prompt.user)) for prompt in prompts]
    naive = [tokenizer.tokens(tokenizer.render(prompt.system, naive_user(prompt))) for prompt in prompts]

    # The breakpoint prefix is sent as its own content block, so it is tokenized on its own.
    rendered = tokenizer.render(prompts[0].system, prompts[0].user)
    shared_text = rendered[: rendered.index(prompts[0].shared_user) + len(prompts[0].shared_user)]
    shared_tokens = len(tokenizer.tokens(shared_text))
    shared_texts = [prompt.system + "\0" + prompt.shared_user for prompt in prompts]

    def longest_earlier_prefix(position: int, tokens: list[int]) -> int:
        return max((common_prefix(tokens, earlier) for earlier in ours[:position]), default=0)

    def openai_rule(position: int, tokens: list[int]) -> int:
        if len(tokens) < OPENAI_MIN_TOKENS:
            return 0
        prefix = longest_earlier_prefix(position, tokens)
        return prefix // OPENAI_STEP_TOKENS * OPENAI_STEP_TOKENS if prefix >= OPENAI_MIN_TOKENS else 0

    def anthropic_rule(position: int, tokens: list[int]) -> int:
        seen = shared_texts[position] in shared_texts[:position]
        return shared_tokens if seen and shared_tokens >= anthropic_min else 0

    # Batched mode sends all binary criteria in one request, and a single criterion as a per-criterion prompt.
    batched = batched_prompt(contract, contract.criteria, material, NONCE) if criteria > 1 else prompts[0]
    batched_tokens = len(tokenizer.tokens(tokenizer.render(batched.system, batched.user)))

    common = [longest_earlier_prefix(position, tokens) for position, tokens in enumerate(ours)][1:]
    naive_common = [max(common_prefix(tokens, earlier) for earlier in naive[:position]) for position, tokens in enumerate(naive) if position]
    return Row(
        criteria=criteria,
        evidence_tokens=len(tokenizer.tokens(material)),
        prompt_tokens=len(ours[0]),
        shared_tokens=shared_tokens,
        common_prefix_tokens=min(common, default=0),
        naive_common_prefix_tokens=max(naive_common, default=0),
        naive=sum(len(tokens) for tokens in naive) / criteria,
        layout=sum(len(tokens) for tokens in ours) / criteria,
        cached_exact=_cached_total(ours, longest_earlier_prefix) / criteria,
        cached_openai=_cached_total(ours, openai_rule) / criteria,
        cached_anthropic=_cached_total(ours, anthropic_rule) / criteria,
        batched=batched_tokens / criteria,
    )


def _cell(value: float, naive: float) -> str:
    return f"{value:,.0f} ({value / naive:.2f}x)"


def print_table(rows: list[Row]) -> None:
    """Print the rows as a Markdown table: uncached input tokens per verdict and the ratio to naive."""
    print("| criteria | evidence tokens | prompt tokens | common prefix | naive | layout, no cache | cached, exact | cached, OpenAI rule | cached, Anthropic rule | batched |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        cells = [_cell(value, row.naive) for value in (row.naive, row.layout, row.cached_exact, row.cached_openai, row.cached_anthropic, row.batched)]
        prefix = f"{row.common_prefix_tokens:,} of {row.prompt_tokens:,}" if row.criteria > 1 else "-"
        print(f"| {row.criteria} | {row.evidence_tokens:,} | {row.prompt_tokens:,} | {prefix} | " + " | ".join(cells) + " |")


def check_targets(rows: list[Row]) -> bool:
    """Print each target check for tasks of at least 5 criteria and 2,000 evidence tokens; return whether all pass."""
    passed = True
    for row in rows:
        if row.criteria < TARGET_CRITERIA or row.evidence_tokens < TARGET_EVIDENCE_TOKENS:
            continue
        for name, value, limit in (
            ("cached, exact", row.cached_exact, TARGET_CACHED_RATIO),
            ("cached, OpenAI rule", row.cached_openai, TARGET_CACHED_RATIO),
            ("cached, Anthropic rule", row.cached_anthropic, TARGET_CACHED_RATIO),
            ("batched", row.batched, TARGET_BATCHED_RATIO),
        ):
            ratio = value / row.naive
            met = ratio <= limit
            passed = passed and met
            print(f"{row.criteria} criteria, {row.evidence_tokens:,} evidence tokens, {name}: {ratio:.3f}x naive (target <= {limit}x): {'met' if met else 'MISSED'}")
    return passed


def main(argv: list[str] | None = None) -> int:
    """Measure every requested task shape, print the table and the target checks.

    Returns:
        0 when every target is met, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--criteria", type=int, nargs="+", default=[1, 5, 20], help="task sizes to measure, in jury criteria per task")
    parser.add_argument("--evidence-tokens", type=int, nargs="+", default=[500, 5000], help="sizes of the graded material, in tokens")
    parser.add_argument("--anthropic-min", type=int, default=1024, help="minimum cacheable prefix of the Anthropic rule, in tokens")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)

    tokenizer = ChatTokenizer()
    rows = [measure(tokenizer, criteria, size, args.anthropic_min) for size in args.evidence_tokens for criteria in args.criteria]
    print(f"Python {platform.python_version()}; tokenizer: local judge qwen2.5-coder-1.5b (Q4_K_M GGUF), chat template applied")
    print("Cells: uncached input tokens per verdict (ratio to naive).\n")
    print_table(rows)
    print()
    print(f"Naive layout: longest common prefix between two requests of a task = {max(row.naive_common_prefix_tokens for row in rows)} tokens.")
    print(f"Anthropic rule: breakpoint prefix (system prompt + shared part) = {', '.join(f'{row.shared_tokens:,}' for row in rows)} tokens.\n")
    passed = check_targets(rows)
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
