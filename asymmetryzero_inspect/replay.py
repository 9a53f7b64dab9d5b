"""A model provider that replays scripted completions, for offline tests and regression runs.

Model names are ``replay/<judge>`` and the script comes from ``-M script=FILE`` or the
``ASYMMETRYZERO_REPLAY_SCRIPT`` variable. A script is JSON or YAML::

    rules:
      - judge: J1              # the name after "replay/"; omit to match any judge
        criterion: K1          # matched against the prompt's "## Requirement <id>" line
        prompt_contains: ...   # optional substring of the prompt
        replies:               # the n-th call of this rule gets the n-th reply (the last repeats)
          - completion: '{"verdict": "PASS", "reason": "..."}'
            finish_reason: stop            # or length, content_filter
            usage: {input_tokens: 120, output_tokens: 30}
            error: {status: 429, retry_after: 1}   # raise instead of answering
            delay_s: 30                            # sleep first (to exercise timeouts)
            unless_prompt_contains: ...            # use 'otherwise' when the prompt lacks this text
            otherwise: {completion: ...}
    global_faults: {first_n: 4, status: 429, retry_after: 2}   # faults on the first calls of any judge
    fault_rate: 0.3              # share of calls that fail with a random transient fault
    fault_kinds: [429, 503, timeout, hang, truncated, empty]  # optional; repeat a kind to weight it
    hang_s: 3600                 # how long a 'hang' fault sleeps before it answers
    seed: 1

Without ``fault_kinds`` a random fault is an HTTP 429, 500, 502 or 503. The kinds are an HTTP
status (raised as a provider error; a 429 carries Retry-After 0), ``timeout`` (the provider
raises a timeout error at once), ``hang`` (the call sleeps ``hang_s`` seconds, so the caller's
own time limit has to end it), ``truncated`` (the first half of the scripted completion, cut at
the token limit) and ``empty`` (an empty completion). Truncated and empty completions report
the usage of the scripted reply they replace. Random faults never advance a rule's reply
counter, so a script replays the same sequence of replies with or without them.

The replies are decided by the script alone; the provider never looks at the graded material
to choose a verdict. A prompt that no rule matches gets a completion with no verdict.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, ModelUsage, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

_REQUIREMENT = re.compile(r"^## Requirement (\S+)$", re.MULTILINE)
_lock = threading.Lock()
_counters: dict[str, defaultdict[Any, int]] = defaultdict(lambda: defaultdict(int))
_scripts: dict[str, dict[str, Any]] = {}
_FAULT_KINDS = frozenset({"timeout", "hang", "truncated", "empty"})


class ReplayProviderError(Exception):
    """A scripted transport failure, shaped like an HTTP error (``status_code``, ``retry_after``)."""

    def __init__(self, status_code: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class ReplayTimeoutError(TimeoutError):
    """A scripted provider timeout, raised at once instead of after a wait."""


def load_script(path: str) -> dict[str, Any]:
    """Read and cache a replay script; counters are shared by every model using the same script."""
    with _lock:
        if path not in _scripts:
            text = Path(path).read_text(encoding="utf-8")
            _scripts[path] = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        return _scripts[path]


def reset_counters() -> None:
    """Forget how many calls each rule has had (tests that reuse a script in one process)."""
    with _lock:
        _counters.clear()
        _scripts.clear()


def _prompt_text(messages: list[ChatMessage]) -> str:
    return "\n".join(message.text for message in messages)


@modelapi(name="replay")
class ReplayModel(ModelAPI):
    """Replays scripted completions by judge name, criterion id and call count."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        script = model_args.get("script") or os.environ.get("ASYMMETRYZERO_REPLAY_SCRIPT")
        if not script:
            raise ValueError("replay model needs a script: pass -M script=FILE or set ASYMMETRYZERO_REPLAY_SCRIPT")
        self.script_path = str(Path(script).resolve())
        self.script = load_script(self.script_path)
        self.judge = model_name

    def should_retry(self, ex: Exception) -> bool:
        """Never: the caller's retry loop must see every scripted failure."""
        return False

    def connection_key(self) -> str:
        """One connection pool per judge, so judges do not share Inspect's concurrency slots."""
        return f"replay/{self.judge}"

    def _rule(self, prompt: str) -> tuple[int, dict[str, Any]] | None:
        match = _REQUIREMENT.findall(prompt)
        criterion = match[0] if len(match) == 1 else None
        for index, rule in enumerate(self.script.get("rules", [])):
            if rule.get("judge") not in (None, self.judge):
                continue
            if "criterion" in rule and rule["criterion"] != criterion:
                continue
            if "batch" in rule and bool(rule["batch"]) != (len(match) > 1):
                continue
            if "prompt_contains" in rule and rule["prompt_contains"] not in prompt:
                continue
            return index, rule
        return None

    def _global_fault(self) -> ReplayProviderError | str | None:
        """Return this call's injected fault: a provider error, a fault kind name, or None."""
        faults = self.script.get("global_faults")
        rate = float(self.script.get("fault_rate", 0.0))
        with _lock:
            counters = _counters[self.script_path]
            counters["__global__"] += 1
            call = counters["__global__"]
        if faults and call <= int(faults.get("first_n", 0)):
            return ReplayProviderError(int(faults.get("status", 429)), "scripted global fault", faults.get("retry_after"))
        if rate > 0:
            chooser = random.Random(f"{self.script.get('seed', 0)}:{call}")
            if chooser.random() < rate:
                kinds = self.script.get("fault_kinds")
                if not kinds:
                    status = chooser.choice([429, 500, 502, 503])
                    return ReplayProviderError(status, f"scripted random fault {status}", 0.0 if status == 429 else None)
                kind = str(chooser.choice(kinds))
                if kind.isdigit():
                    status = int(kind)
                    return ReplayProviderError(status, f"scripted random fault {status}", 0.0 if status == 429 else None)
                if kind not in _FAULT_KINDS:
                    raise ValueError(f"unknown fault kind {kind!r} in {self.script_path}; use an HTTP status or one of {sorted(_FAULT_KINDS)}")
                return kind
        return None

    async def generate(
        self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        """Return the scripted reply for this call, or raise its scripted failure."""
        prompt = _prompt_text(input)
        fault = self._global_fault()
        if isinstance(fault, ReplayProviderError):
            raise fault
        if fault == "timeout":
            raise ReplayTimeoutError("scripted random fault: provider timed out")
        if fault == "hang":
            await asyncio.sleep(float(self.script.get("hang_s", 3600)))

        found = self._rule(prompt)
        if found is None:
            return self._output("I have no scripted reply for this prompt.", "stop", {})
        index, rule = found
        with _lock:
            counters = _counters[self.script_path]
            call = counters[(self.judge, index)]
            if fault not in ("truncated", "empty"):
                counters[(self.judge, index)] += 1
        replies = rule.get("replies") or [rule]
        reply = replies[min(call, len(replies) - 1)]
        if "unless_prompt_contains" in reply and reply["unless_prompt_contains"] not in prompt:
            reply = reply.get("otherwise", reply)

        usage = reply.get("usage") or {}
        if fault == "truncated":
            completion = str(reply.get("completion", ""))
            return self._output(completion[: len(completion) // 2], "length", usage)
        if fault == "empty":
            return self._output("", "stop", usage)

        if reply.get("delay_s"):
            await asyncio.sleep(float(reply["delay_s"]))
        error = reply.get("error")
        if error:
            raise ReplayProviderError(int(error.get("status", 500)), error.get("message", "scripted error"), error.get("retry_after"))
        return self._output(reply.get("completion", ""), reply.get("finish_reason", "stop"), usage)

    def _output(self, completion: str, finish_reason: str, usage: dict[str, int]) -> ModelOutput:
        stop = {"length": "max_tokens", "content_filter": "content_filter"}.get(finish_reason, "stop")
        output = ModelOutput.from_content(model=f"replay/{self.judge}", content=completion, stop_reason=stop)  # type: ignore[arg-type]
        input_tokens = int(usage.get("input_tokens", 0))
        output_tokens = int(usage.get("output_tokens", 0))
        # Usage is always set: without it Inspect would count tokens with a tokenizer it downloads.
        output.usage = ModelUsage(input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens)
        return output
