"""Jury engine: order and concurrency independence, resume from the vote cache, bounded retries."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from asymmetryzero_inspect import replay
from shared_contract.audit import Decision, VerdictRecord, VoteVerdict
from shared_contract.cache import VoteCache
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine, JuryLimits
from shared_contract.loading import contract_from_data
from shared_contract.parity import diff_records

JUDGES = ["A", "B", "C"]
CRITERIA = [f"K{i}" for i in range(1, 7)]


def _script(tmp_path: Path, extra_rules: list | None = None) -> Path:
    chooser = random.Random(7)
    rules = list(extra_rules or [])
    for judge in JUDGES:
        for criterion in CRITERIA:
            verdict = chooser.choice(["PASS", "FAIL", "PASS"])
            completion = f'Checked.\n{{"verdict": "{verdict}", "reason": "{judge} on {criterion}"}}'
            rules.append({"judge": judge, "criterion": criterion, "replies": [{"completion": completion, "usage": {"input_tokens": 50, "output_tokens": 9}}]})
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return path


def _contract(criteria_order: list[str], judge_order: list[str], **judging) -> dict:
    return {
        "id": "determinism",
        "task": {"prompt": "Write a report."},
        "criteria": [{"id": cid, "requirement": f"Requirement {cid}.", "weight": int(cid[1:])} for cid in criteria_order],
        "juries": {"panel": [{"model": f"replay/{j}", "name": j} for j in judge_order]},
        "default_jury": "panel",
        "judging": judging,
    }


def _grade(contract_data: dict, script: Path, concurrency: int = 32, cache: VoteCache | None = None, samples: int = 1) -> tuple[list[VerdictRecord], JuryEngine]:
    replay.reset_counters()
    contract = contract_from_data(contract_data)

    async def run():
        from inspect_ai.model import get_model

        models = {f"replay/{j}": get_model(f"replay/{j}", script=str(script)) for j in JUDGES}
        engine = JuryEngine(InspectBackend(models), cache=cache, limits=JuryLimits(max_concurrency=concurrency, per_model_concurrency=concurrency, backoff_base_s=0.01))
        grader = Grader(engine)
        records = await asyncio.gather(*(grader.grade(contract, Evidence(response=f"Report {i}."), sample_id=str(i)) for i in range(samples)))
        return list(records), engine

    return asyncio.run(run())


def test_records_ignore_order_and_concurrency(tmp_path: Path) -> None:
    script = _script(tmp_path)
    baseline, _ = _grade(_contract(CRITERIA, JUDGES), script, concurrency=1, samples=3)
    variants = [
        (_contract(list(reversed(CRITERIA)), JUDGES), 32),
        (_contract(CRITERIA, list(reversed(JUDGES))), 32),
        (_contract(random.Random(3).sample(CRITERIA, len(CRITERIA)), ["B", "C", "A"]), 8),
    ]
    for data, concurrency in variants:
        records, _ = _grade(data, script, concurrency=concurrency, samples=3)
        for left, right in zip(baseline, records, strict=True):
            assert diff_records(left, right) == []


def test_resume_makes_no_repeat_calls(tmp_path: Path) -> None:
    script = _script(tmp_path)
    cache = VoteCache(tmp_path / "votes.sqlite")
    first, engine = _grade(_contract(CRITERIA, JUDGES), script, cache=cache, samples=2)
    assert engine.calls == len(JUDGES) * len(CRITERIA) * 2
    cache.close()

    resumed_cache = VoteCache(tmp_path / "votes.sqlite")
    second, resumed = _grade(_contract(CRITERIA, JUDGES), script, cache=resumed_cache, samples=2)
    assert resumed.calls == 0
    assert all(vote.from_cache for record in second for result in record.criteria for vote in result.votes)
    for left, right in zip(first, second, strict=True):
        assert diff_records(left, right) == []

    refreshed, engine = _grade(_contract(CRITERIA, JUDGES), script, cache=VoteCache(tmp_path / "votes.sqlite", refresh=True), samples=1)
    assert engine.calls == len(JUDGES) * len(CRITERIA)


def test_half_finished_run_resumes(tmp_path: Path) -> None:
    script = _script(tmp_path)
    cache = VoteCache(tmp_path / "votes.sqlite")
    _grade(_contract(CRITERIA[:3], JUDGES), script, cache=cache)
    _, engine = _grade(_contract(CRITERIA, JUDGES), script, cache=cache)
    # The half-way run stored votes for K1-K3 under another contract hash, so only a run of the
    # same contract can reuse them; a repeat of the full contract then costs nothing.
    _, again = _grade(_contract(CRITERIA, JUDGES), script, cache=cache)
    assert engine.calls == len(JUDGES) * len(CRITERIA)
    assert again.calls == 0


def test_timeout_judge_bounded(tmp_path: Path) -> None:
    slow = [{"judge": "A", "replies": [{"completion": '{"verdict": "PASS"}', "delay_s": 30}]}]
    script = _script(tmp_path, slow)
    data = _contract(CRITERIA[:2], JUDGES, attempt_timeout_s=0.2, max_attempts=3, max_total_s=5)
    records, _ = _grade(data, script)
    for result in records[0].criteria:
        vote = next(v for v in result.votes if v.seat == "A")
        assert vote.verdict is VoteVerdict.INVALID
        assert vote.reason.startswith("judge_timeout")
        assert [a.status for a in vote.attempts] == ["timeout"] * 3
        assert result.decision in (Decision.PASS, Decision.FAIL, Decision.UNSCORED)


def test_rate_limit_then_success(tmp_path: Path) -> None:
    limited = [{"judge": "B", "criterion": "K1", "replies": [{"error": {"status": 429, "retry_after": 0.3}}, {"completion": '{"verdict": "FAIL"}', "usage": {"input_tokens": 5, "output_tokens": 2}}]}]
    script = _script(tmp_path, limited)
    records, _ = _grade(_contract(["K1"], JUDGES), script)
    vote = next(v for v in records[0].criteria[0].votes if v.seat == "B")
    assert vote.verdict is VoteVerdict.FAIL
    assert [a.status for a in vote.attempts] == ["rate_limited", "ok"]
    assert vote.attempts[0].retry_after_s == 0.3


def test_batched_mode_one_request_per_judge(tmp_path: Path) -> None:
    batch = [{"judge": j, "batch": True, "replies": [{"completion": json.dumps({"verdicts": [{"criterion": c, "verdict": "PASS", "reason": "ok"} for c in CRITERIA[:3]]}), "usage": {"input_tokens": 90, "output_tokens": 30}}]} for j in JUDGES]
    script = _script(tmp_path, batch)
    records, engine = _grade(_contract(CRITERIA[:3], JUDGES, mode="batched"), script)
    assert engine.calls == len(JUDGES)
    assert all(r.decision is Decision.PASS for r in records[0].criteria)
    assert records[0].totals.input_tokens == 90 * len(JUDGES)


def test_grade_command_writes_record(tmp_path: Path) -> None:
    script = _script(tmp_path, [{"criterion": "explains", "replies": [{"completion": '{"verdict": "PASS", "reason": "explains"}'}]}])
    contract = Path(__file__).parent / "data" / "basic.yaml"
    response = tmp_path / "answer.txt"
    response.write_text("Paris has been the seat of government for centuries.\nFinal answer: Paris\n", encoding="utf-8")
    out = tmp_path / "record.json"
    env = {**__import__("os").environ, "ASYMMETRYZERO_REPLAY_SCRIPT": str(script), "ASYMMETRYZERO_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-m", "shared_contract.cli", "grade", "--contract", str(contract), "--response", str(response), "--out", str(out), "--no-progress"],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    record = VerdictRecord.model_validate_json(out.read_text(encoding="utf-8"))
    explains = next(r for r in record.criteria if r.id == "explains")
    assert explains.decision is Decision.UNSCORED
    assert explains.reason == "no jury configured"
    assert record.coverage == pytest.approx(2 / 3)
    assert record.outcome is Decision.PASS

    run = subprocess.run(
        [sys.executable, "-m", "shared_contract.cli", "grade", "--contract", str(contract), "--response", str(response), "--out", str(out), "--jury", "compact", "--no-progress"],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    record = VerdictRecord.model_validate_json(out.read_text(encoding="utf-8"))
    assert record.coverage == 1.0
    assert len(next(r for r in record.criteria if r.id == "explains").votes) == 3


def test_record_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared_contract import audit

    target = tmp_path / "record.json"
    target.write_text("old", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(audit.os, "replace", crash)
    with pytest.raises(OSError):
        audit.write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--response", "/nonexistent/answer.txt"], "cannot read the response"),
        (["--response", "-", "--jury", "nope"], "jury 'nope' not found"),
        (["--response", "-", "--workspace", "/nonexistent"], "is not a folder"),
    ],
)
def test_grade_command_input_errors(extra: list[str], message: str, tmp_path: Path) -> None:
    contract = Path(__file__).parent / "data" / "basic.yaml"
    out = tmp_path / "record.json"
    run = subprocess.run(
        [sys.executable, "-m", "shared_contract.cli", "grade", "--contract", str(contract), "--out", str(out), "--no-progress", "--no-cache", *extra],
        input="Final answer: Paris", capture_output=True, text=True,
    )
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_judge_outage_unscores_task(tmp_path: Path) -> None:
    down = [{"judge": judge, "replies": [{"error": {"status": 500}}]} for judge in JUDGES]
    script = _script(tmp_path, down)
    data = _contract(["K1", "K2"], JUDGES, max_attempts=2)
    data["criteria"].append({"id": "exact", "requirement": "Says Report.", "method": "contains", "expected": "Report"})
    records, _ = _grade(data, script)
    record = records[0]
    assert next(r for r in record.criteria if r.id == "exact").decision is Decision.PASS
    assert record.outcome is Decision.UNSCORED
    assert record.outcome_reason.startswith("judge outage: all 6 judge calls failed")
    assert record.score == 1.0


def test_partial_outage_still_decides(tmp_path: Path) -> None:
    down = [{"judge": "A", "replies": [{"error": {"status": 500}}]}]
    script = _script(tmp_path, down)
    records, _ = _grade(_contract(["K1", "K2"], JUDGES, max_attempts=2), script)
    assert records[0].outcome_reason is None or not records[0].outcome_reason.startswith("judge outage")


def test_reaggregate_command_checks_inputs(tmp_path: Path) -> None:
    script = _script(tmp_path, [{"criterion": "explains", "replies": [{"completion": '{"verdict": "PASS"}'}]}])
    contract = Path(__file__).parent / "data" / "basic.yaml"
    response = tmp_path / "answer.txt"
    response.write_text("Final answer: Paris", encoding="utf-8")
    record = tmp_path / "record.json"
    env = {**__import__("os").environ, "ASYMMETRYZERO_REPLAY_SCRIPT": str(script)}
    cli = [sys.executable, "-m", "shared_contract.cli"]
    graded = subprocess.run([*cli, "grade", "--contract", str(contract), "--response", str(response), "--out", str(record), "--jury", "compact", "--no-progress", "--no-cache"], capture_output=True, text=True, env=env)
    assert graded.returncode == 0, graded.stderr

    unanimous = subprocess.run([*cli, "reaggregate", str(record), "--contract", str(contract), "--out", str(tmp_path / "u.jsonl"), "--vote-rule", "unanimous"], capture_output=True, text=True)
    assert unanimous.returncode == 0, unanimous.stderr
    too_many = subprocess.run([*cli, "reaggregate", str(record), "--contract", str(contract), "--out", str(tmp_path / "k.jsonl"), "--vote-rule", "at_least:9"], capture_output=True, text=True)
    assert too_many.returncode == 2
    assert "panel of 3" in too_many.stderr

    other = tmp_path / "other.yaml"
    other.write_text(contract.read_text(encoding="utf-8").replace("pass_threshold: 0.6", "pass_threshold: 0.7"), encoding="utf-8")
    mismatch = subprocess.run([*cli, "reaggregate", str(record), "--contract", str(other), "--out", str(tmp_path / "m.jsonl")], capture_output=True, text=True)
    assert mismatch.returncode == 2
    assert "was not graded with" in mismatch.stderr


def test_long_completion_cut_with_flag(tmp_path: Path) -> None:
    long_completion = "x" * 100_000 + '\n{"verdict": "PASS"}'
    script = _script(tmp_path, [{"judge": "A", "criterion": "K1", "replies": [{"completion": long_completion}]}])
    records, _ = _grade(_contract(["K1"], JUDGES), script)
    vote = next(v for v in records[0].criteria[0].votes if v.seat == "A")
    assert vote.verdict is VoteVerdict.PASS
    assert vote.completion_cut is True
    assert vote.completion_chars == len(long_completion)
    assert len(vote.completion) == 65_536
