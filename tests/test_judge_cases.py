"""Every hard judge-output case, graded through Inspect's model API with replayed completions."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from asymmetryzero_inspect import replay
from shared_contract.audit import Decision
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine, JuryLimits
from shared_contract.loading import ContractError, contract_from_data
from tests.case_support import INVALID_REASONS, case_contract, case_script, load_cases

CASES = {case["id"]: case for case in load_cases()}
JURY_CASES = [cid for cid, case in CASES.items() if cid not in ("J14", "J27")]


def _grade(case: dict, tmp_path: Path, protocol: str, samples: int = 1):
    script = tmp_path / f"{case['id']}-{protocol}.json"
    script.write_text(json.dumps(case_script(case, protocol)), encoding="utf-8")
    replay.reset_counters()
    contract = contract_from_data(case_contract(case, protocol))
    engine = JuryEngine(InspectBackend(), limits=JuryLimits(backoff_base_s=0.01))
    grader = Grader(engine)

    async def run():
        from inspect_ai.model import get_model

        models = {f"replay/{seat.model.split('/')[1]}": get_model(seat.model, script=str(script)) for seat in contract.juries["panel"]}
        engine.backend = InspectBackend(models)
        return await asyncio.gather(*(grader.grade(contract, Evidence(response=case["response"]), sample_id=str(i)) for i in range(samples)))

    return asyncio.run(run()), engine


@pytest.mark.parametrize("protocol", ["json", "grade_letter"])
@pytest.mark.parametrize("case_id", JURY_CASES)
def test_case_votes_and_decisions(case_id: str, protocol: str, tmp_path: Path) -> None:
    case = CASES[case_id]
    samples = int(case.get("samples", 1))
    records, engine = _grade(case, tmp_path, protocol, samples)
    expected = case["expected"]

    for record in records:
        for item in case["criteria"]:
            result = next(r for r in record.criteria if r.id == item["id"])
            want = item.get("expected", {})
            if "decision" in want:
                assert result.decision.value == want["decision"], f"{case_id}/{item['id']}: {result.reason}"
            for vote_expected, vote in zip(want.get("votes", []), result.votes, strict=False):
                assert vote.verdict.value == vote_expected["vote"], f"{case_id}/{item['id']}/{vote.seat}: {vote.reason}"
                code = INVALID_REASONS.get((case_id, item["id"], vote.seat))
                # Reason codes are those of the JSON protocol; the letter protocol's texts differ in places.
                if code is not None and protocol == "json" and vote.verdict.value == "INVALID":
                    assert vote.reason is not None and vote.reason.startswith(code), vote.reason
            tally = want.get("tally")
            if tally and result.tally is not None:
                assert (result.tally.panel, result.tally.passed, result.tally.failed, result.tally.invalid) == (
                    tally["panel"], tally["pass"], tally["fail"], tally["invalid"]
                )
        if len(case["criteria"]) == 1 and "decision" in expected:
            assert record.outcome.value == expected["decision"] or record.criteria[0].decision.value == expected["decision"]
        if "task_score" in expected and expected["task_score"] is not None:
            assert record.score == pytest.approx(expected["task_score"])
        if "coverage" in expected:
            assert record.coverage == pytest.approx(expected["coverage"])
        if expected.get("judge_calls") == 0:
            assert engine.calls == 0
            assert record.totals.judge_calls == 0


def test_case_request_settings_pinned(tmp_path: Path) -> None:
    records, _ = _grade(CASES["J06"], tmp_path, "json")
    for vote in records[0].criteria[0].votes:
        assert vote.settings["temperature"] == 0
        assert vote.settings["seed"] is not None
    assert records[0].criteria[0].split == "2-1"


def test_case_usage_counts_rate_limited_request(tmp_path: Path) -> None:
    records, _ = _grade(CASES["J22"], tmp_path, "json")
    totals = records[0].totals
    want = CASES["J22"]["expected"]["grader_usage"]
    assert totals.input_tokens == want["input_tokens"]
    assert totals.output_tokens == want["output_tokens"]
    assert totals.total_tokens == want["total_tokens"]
    assert totals.requests == want["requests"]
    assert totals.rate_limited == want["rate_limited"]


def test_case_global_rate_limit_waits(tmp_path: Path) -> None:
    started = time.perf_counter()
    records, _ = _grade(CASES["J23"], tmp_path, "json", samples=5)
    elapsed = time.perf_counter() - started
    attempts = [a for r in records for c in r.criteria for v in c.votes for a in v.attempts]
    limited = [a for a in attempts if a.status == "rate_limited"]
    assert len(limited) == 4
    assert all(a.retry_after_s == 2 for a in limited)
    assert elapsed >= 2.0
    assert all(r.outcome is Decision.PASS for r in records)


def test_case_prompt_holds_full_response(tmp_path: Path) -> None:
    case = CASES["J21"]
    records, _ = _grade(case, tmp_path, "json")
    assert records[0].evidence_chars == len(case["response"])
    assert records[0].criteria[0].decision is Decision.PASS


def test_case_no_positive_points_rejected() -> None:
    with pytest.raises(ContractError) as raised:
        contract_from_data(case_contract(CASES["J14"]))
    assert "no positive points" in str(raised.value)


def test_case_copy_matches_published() -> None:
    from tests.case_support import SHARED

    published = SHARED / "cases" / "judge_outputs.json"
    if not published.is_file():
        pytest.skip("published case file not present beside the repository")
    copy = Path(__file__).parent / "data" / "judge_outputs.json"
    assert copy.read_bytes() == published.read_bytes()
