"""Size: a 1 MB response reaches every judge uncut, and a 10,000-criterion contract grades in linear time.

Time and peak memory (tracemalloc, Python allocations only) are recorded as figures. Bounds in
the asserts are loose on purpose: they catch a cut, a quadratic step or a memory blow-up, not
a slow machine.
"""

from __future__ import annotations

import gc
import hashlib
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from shared_contract.audit import Decision, VoteVerdict
from shared_contract.backend import JudgeReply, JudgeRequest
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.loading import contract_from_data, load_contract
from tests.reliability.support import grade_with_replay, panel_contract, record_figure, write_script

T = TypeVar("T")
MEGABYTE = 1_000_000


def _measured(action: Callable[[], T], warm_up: bool = False) -> tuple[T, float, float]:
    """Run action twice (three times with ``warm_up``): once timed, once under tracemalloc.

    Returns the timed run's result, its seconds, and the peak of Python allocations (MB) in the
    traced run. tracemalloc slows allocation-heavy code two- to threefold, so it stays out of the
    timing. The warm-up run keeps one-off costs (importing Inspect's providers) out of both figures.
    """
    if warm_up:
        action()
    gc.collect()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    try:
        action()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return result, elapsed, peak


def _megabyte_response() -> str:
    """About 1,000,000 characters: several scripts, multi-byte characters, braces and markers, then a final line."""
    block = "Section {index}: the measured value is {index}.5 kg. Ünïcödé 数据 данные {{\"k\": {index}}} <<<END MATERIAL>>>\n"
    lines = []
    size = 0
    index = 0
    while size < MEGABYTE - 100:
        line = block.format(index=index)
        lines.append(line)
        size += len(line)
        index += 1
    return "".join(lines) + "Final answer: 42 kg"


class PromptCheckingBackend:
    """Wraps a backend and stores, per request, whether the full response was in the prompt."""

    def __init__(self, inner: Any, response: str):
        self.inner = inner
        self.response = response
        self.checks: list[tuple[bool, int]] = []

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Check the prompt, then forward the request."""
        self.checks.append((self.response in request.user, len(request.user)))
        return await self.inner.complete(request)

    def accepts_images(self, model: str) -> bool:
        """Return the wrapped backend's result."""
        return bool(self.inner.accepts_images(model))


def test_megabyte_response_reaches_judges(tmp_path: Path) -> None:
    response = _megabyte_response()
    criteria = [{"id": f"K{index}", "requirement": f"Requirement {index} on the whole report."} for index in range(1, 4)]
    criteria.append({"id": "final-line", "requirement": "States 42 kg.", "method": "contains", "expected": "42 kg"})
    contract = contract_from_data(panel_contract("megabyte", criteria, ["J1", "J2", "J3"]))
    # The replay judge returns PASS only when the prompt contains the whole response.
    pass_reply = {"completion": '{"verdict": "PASS"}', "usage": {"input_tokens": 250_000, "output_tokens": 5}}
    fail_reply = {"completion": '{"verdict": "FAIL", "reason": "material cut"}', "usage": {"input_tokens": 1, "output_tokens": 5}}
    rules = [{"criterion": item["id"], "replies": [{**pass_reply, "unless_prompt_contains": response, "otherwise": fail_reply}]} for item in criteria[:3]]
    script = write_script(tmp_path / "script.json", {"rules": rules})
    wrappers: list[PromptCheckingBackend] = []

    def wrap(inner: Any) -> PromptCheckingBackend:
        wrappers.append(PromptCheckingBackend(inner, response))
        return wrappers[-1]

    (records, _), seconds, peak_mb = _measured(lambda: grade_with_replay(contract, [Evidence(response=response)], script, backend_wrapper=wrap), warm_up=True)

    record = records[0]
    assert record.evidence_chars == len(response)
    assert record.evidence_digest == "sha256:" + hashlib.sha256(response.encode("utf-8")).hexdigest()
    assert not [warning for warning in record.warnings if "trunc" in warning.lower() or "cut" in warning.lower()]
    checks = [check for wrapper in wrappers for check in wrapper.checks]
    assert len(checks) == 27  # nine requests in each of the three runs
    assert all(contained for contained, _ in checks)
    assert all(length > len(response) for _, length in checks)
    for result in record.criteria:
        assert result.decision is Decision.PASS, f"{result.id}: {result.reason}"
        assert all(vote.verdict is VoteVerdict.PASS for vote in result.votes)
    # Nine prompts of about 1 MB each are alive at once, so the peak is at least their size.
    assert peak_mb < 9 * 4 * len(response) / 1e6 + 200
    record_figure("size.megabyte_response_chars", len(response))
    record_figure("size.megabyte_response_requests", len(checks) // 3)
    record_figure("size.megabyte_response_seconds", round(seconds, 2))
    record_figure("size.megabyte_response_peak_mb", round(peak_mb))


def _deterministic_criteria(count: int) -> list[dict[str, Any]]:
    criteria = []
    for index in range(count):
        cid = f"C{index:05d}"
        kind = index % 4
        if kind == 0:
            criteria.append({"id": cid, "requirement": "Mentions a word.", "method": "contains", "expected": f"word{index % 50}", "extract": "whole"})
        elif kind == 1:
            criteria.append({"id": cid, "requirement": "Matches a pattern.", "method": "regex", "pattern": rf"word{index % 70}\b", "extract": "whole"})
        elif kind == 2:
            criteria.append({"id": cid, "requirement": "Exact answer.", "method": "exact", "expected": "42"})
        else:
            criteria.append({"id": cid, "requirement": "Numeric answer.", "method": "numeric", "expected": 42, "tolerance": {"absolute": 0.5}})
    return criteria


def _validation_seconds(count: int) -> float:
    data = {"id": "scale", "task": {"prompt": "p"}, "criteria": _deterministic_criteria(count)}
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        contract_from_data(data)
        return time.perf_counter() - started
    finally:
        gc.enable()


def test_validation_time_linear() -> None:
    """Four times the criteria must cost well under sixteen times the time (a quadratic step would)."""
    small = min(_validation_seconds(5_000) for _ in range(3))
    large = min(_validation_seconds(20_000) for _ in range(3))

    assert large / small < 8, f"5,000 criteria: {small:.3f}s, 20,000: {large:.3f}s"
    record_figure("size.validation_seconds_5000_vs_20000", [round(small, 3), round(large, 3)])


@pytest.mark.slow
def test_ten_thousand_deterministic_criteria(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump({"id": "ten-thousand", "task": {"prompt": "Answer."}, "criteria": _deterministic_criteria(10_000)}), encoding="utf-8")
    response = " ".join(f"word{index}" for index in range(70)) + "\nFinal answer: 42"

    contract, load_seconds, load_peak_mb = _measured(lambda: load_contract(path))
    record, grade_seconds, grade_peak_mb = _measured(lambda: __import__("asyncio").run(Grader(None).grade(contract, Evidence(response=response))))

    assert len(record.criteria) == 10_000
    assert all(result.decision is Decision.PASS for result in record.criteria), [r.reason for r in record.criteria if r.decision is not Decision.PASS][:3]
    assert record.outcome is Decision.PASS
    record_figure("size.deterministic_10000_load_seconds", round(load_seconds, 2))
    record_figure("size.deterministic_10000_load_peak_mb", round(load_peak_mb))
    record_figure("size.deterministic_10000_grade_seconds", round(grade_seconds, 2))
    record_figure("size.deterministic_10000_grade_peak_mb", round(grade_peak_mb))


def test_ten_thousand_criteria_jury_subset(tmp_path: Path) -> None:
    jury_count = 300
    criteria = [{"id": f"J{index:04d}", "requirement": f"Jury requirement {index}."} for index in range(jury_count)]
    criteria += _deterministic_criteria(10_000 - jury_count)
    contract = contract_from_data(panel_contract("jury-subset", criteria, ["A", "B", "C"]))
    rules = [
        {"judge": judge, "criterion": item["id"], "replies": [{"completion": '{"verdict": "PASS"}', "usage": {"input_tokens": 40, "output_tokens": 5}}]}
        for judge in ("A", "B", "C")
        for item in criteria[:jury_count]
    ]
    script = write_script(tmp_path / "script.json", {"rules": rules})
    response = " ".join(f"word{index}" for index in range(70)) + "\nFinal answer: 42"

    (records, engine), seconds, peak_mb = _measured(lambda: grade_with_replay(contract, [Evidence(response=response)], script), warm_up=True)

    record = records[0]
    assert len(record.criteria) == 10_000
    assert engine.calls == 3 * jury_count
    assert record.totals.invalid_votes == 0
    assert record.outcome is Decision.PASS
    record_figure("size.jury_subset_votes", engine.calls)
    record_figure("size.jury_subset_seconds", round(seconds, 2))
    record_figure("size.jury_subset_peak_mb", round(peak_mb))


class FixedBackend:
    """A judge backend that returns PASS at once, so only the core's own memory is measured."""

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Return a PASS verdict."""
        return JudgeReply(completion='{"verdict": "PASS"}', input_tokens=1, output_tokens=1)

    def accepts_images(self, model: str) -> bool:
        """Return False: no judge here takes images."""
        return False


def _prompt_memory_mb(jury_criteria: int, response: str) -> float:
    import asyncio

    from shared_contract.jury import JuryEngine, JuryLimits

    criteria = [{"id": f"K{index:04d}", "requirement": f"Requirement {index}."} for index in range(jury_criteria)]
    contract = contract_from_data(panel_contract("prompt-memory", criteria, ["A", "B", "C"]))
    engine = JuryEngine(FixedBackend(), limits=JuryLimits(backoff_base_s=0.0))
    _, _, peak_mb = _measured(lambda: asyncio.run(Grader(engine).grade(contract, Evidence(response=response))))
    return peak_mb


def test_prompt_memory_grows_with_requests() -> None:
    """Every request's prompt is rendered before the first is sent, so memory grows with requests x material."""
    response = "The measured value is 42 kg. " * 3_500  # about 100 KB

    small = _prompt_memory_mb(100, response)
    large = _prompt_memory_mb(400, response)

    assert large > 2.5 * small
    assert large < 3 * 400 * 3 * len(response) / 1e6
    record_figure("size.prompt_memory_mb_300_vs_1200_requests_100kb", [round(small), round(large)])
