"""Provider faults injected by the replay provider: each fault kind alone, then a 10,000-vote soak.

The soak grades 100 samples x 20 criteria x 5 judges through JuryEngine, InspectBackend and the
replay provider with 30% of calls failing, and once more with no faults. Where a vote's retries
succeeded, its record must equal the fault-free one except in ``FAULT_FIELDS``.
"""

from __future__ import annotations

import random
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shared_contract.audit import RUN_SPECIFIC_FIELDS, VerdictRecord, Vote, VoteVerdict
from shared_contract.evidence import Evidence
from shared_contract.jury import JuryLimits
from shared_contract.loading import contract_from_data
from shared_contract.parity import diff_records
from tests.reliability.support import grade_with_replay, panel_contract, record_figure, verdict_rule, write_script

# Fields that may differ between a run with faults and a fault-free run when every retry succeeded:
# - attempts: every failed attempt is recorded, so a vote that was retried lists more attempts.
# - settings.max_tokens: after a truncated completion the retry requests twice the tokens, and the
#   vote records the settings of the request whose completion it used.
# - input_tokens, output_tokens, cost_usd and their totals: truncated and empty completions are
#   billed by the provider, so a vote that met one used more tokens.
# - totals.requests and totals.rate_limited count attempts.
# Verdicts, reasons, completions, rationales, parse status, prompt hashes, tallies, decisions,
# scores, outcome and coverage must all be equal.
FAULT_FIELDS = (
    "criteria.*.votes.*.attempts",
    "criteria.*.votes.*.settings.max_tokens",
    "criteria.*.votes.*.input_tokens",
    "criteria.*.votes.*.output_tokens",
    "criteria.*.votes.*.cost_usd",
    "totals.requests",
    "totals.rate_limited",
    "totals.input_tokens",
    "totals.output_tokens",
    "totals.total_tokens",
    "totals.cost_usd",
)
VOTE_FAULT_FIELDS = tuple(field.removeprefix("criteria.*.votes.*.") for field in FAULT_FIELDS if field.startswith("criteria."))

# Reasons an INVALID vote may give after its retries ran out, by the fault that caused it.
EXHAUSTED_REASONS = ("judge_rate_limited", "judge_server_error", "judge_timeout", "truncated", "no_verdict")

SOAK_JUDGES = ["A", "B", "C", "D", "E"]
SOAK_CRITERIA = [f"K{index:02d}" for index in range(1, 21)]
SOAK_SAMPLES = 100
SOAK_KINDS = [429, 429, 500, 502, 503, "timeout", "timeout", "hang", "truncated", "truncated", "empty", "empty"]
SOAK_JUDGING = {"attempt_timeout_s": 1.0, "max_attempts": 4, "max_total_s": 60, "reask_unparseable": 1}


def _soak_rules() -> list[dict[str, Any]]:
    chooser = random.Random(5)
    rules = []
    for judge in SOAK_JUDGES:
        for criterion in SOAK_CRITERIA:
            verdict = chooser.choice(["PASS", "PASS", "FAIL"])
            completion = f'Judge {judge} read the material for {criterion}.\n{{"verdict": "{verdict}", "reason": "{judge}-{criterion}"}}'
            rules.append(verdict_rule(judge, criterion, completion, (chooser.randint(80, 200), chooser.randint(10, 40))))
    return rules


def _votes(records: list[VerdictRecord]) -> list[tuple[str, str, Vote]]:
    return [(record.sample_id or "", result.id, vote) for record in records for result in record.criteria for vote in result.votes]


def _vote_differences(left: Vote, right: Vote) -> dict[str, tuple[Any, Any]]:
    a = left.model_dump(mode="json")
    b = right.model_dump(mode="json")
    ignored = set(VOTE_FAULT_FIELDS) | {"timing", "from_cache", "settings"}
    differences = {key: (a[key], b[key]) for key in a if key not in ignored and a[key] != b[key]}
    settings_a = {k: v for k, v in a["settings"].items() if k != "max_tokens"}
    settings_b = {k: v for k, v in b["settings"].items() if k != "max_tokens"}
    if settings_a != settings_b:
        differences["settings"] = (settings_a, settings_b)
    return differences


def _single_kind_vote(kind: object, tmp_path: Path, **judging: Any) -> Vote:
    contract = contract_from_data(panel_contract("one-fault-kind", [{"id": "K1", "requirement": "Any."}], ["A"], **judging))
    script = {"rules": [verdict_rule("A", "K1", '{"verdict": "PASS", "reason": "fine"}')], "fault_rate": 1.0, "fault_kinds": [kind], "hang_s": 30}
    records, _ = grade_with_replay(contract, [Evidence(response="Paris.")], write_script(tmp_path / "script.json", script))
    return records[0].criteria[0].votes[0]


@pytest.mark.parametrize(
    ("kind", "reason", "statuses"),
    [
        (429, "judge_rate_limited", ["rate_limited"] * 3),
        (503, "judge_server_error", ["server_error"] * 3),
        ("timeout", "judge_timeout", ["timeout"] * 3),
        ("hang", "judge_timeout", ["timeout"] * 3),
        ("truncated", "truncated", ["truncated", "truncated"]),
        ("empty", "no_verdict", ["unparseable", "ok"]),
    ],
)
def test_fault_kind_always_on(kind: object, reason: str, statuses: list[str], tmp_path: Path) -> None:
    vote = _single_kind_vote(kind, tmp_path, max_attempts=3, attempt_timeout_s=0.2, max_total_s=10)

    assert vote.verdict is VoteVerdict.INVALID
    assert vote.reason is not None and vote.reason.startswith(reason), vote.reason
    assert [attempt.status for attempt in vote.attempts] == statuses


def test_truncated_retry_asks_more_tokens(tmp_path: Path) -> None:
    vote = _single_kind_vote("truncated", tmp_path)

    assert [attempt.max_tokens for attempt in vote.attempts] == [1024, 2048]
    assert vote.completion == '{"verdict": "PASS", "reason": "fine"}'[:18]


def test_default_fault_kinds_unchanged(tmp_path: Path) -> None:
    """Scripts without ``fault_kinds`` keep the statuses (and random sequence) they always had."""
    criteria = [{"id": f"K{index}", "requirement": "Any."} for index in range(1, 41)]
    contract = contract_from_data(panel_contract("default-kinds", criteria, ["A"], max_attempts=20, max_total_s=30))
    rules = [verdict_rule("A", item["id"], '{"verdict": "FAIL"}') for item in criteria]
    script = write_script(tmp_path / "script.json", {"rules": rules, "fault_rate": 0.5, "seed": 3})

    records, _ = grade_with_replay(contract, [Evidence(response="Paris.")], script)

    statuses = Counter(attempt.status for result in records[0].criteria for attempt in result.votes[0].attempts)
    assert set(statuses) <= {"ok", "rate_limited", "server_error"}
    assert statuses["rate_limited"] + statuses["server_error"] > 0
    assert all(result.votes[0].verdict is VoteVerdict.FAIL for result in records[0].criteria)


def _seed_faulting_first_call_only(rate: float) -> int:
    """Find a seed whose first global call faults and whose second does not (the replay's own draw)."""
    for seed in range(10_000):
        first = random.Random(f"{seed}:1").random() < rate
        second = random.Random(f"{seed}:2").random() < rate
        if first and not second:
            return seed
    raise AssertionError("no seed found")


@pytest.mark.parametrize("kind", ["truncated", "empty"])
def test_fault_keeps_rule_sequence(kind: str, tmp_path: Path) -> None:
    """An injected truncation or empty completion does not use up the rule's next scripted reply."""
    contract = contract_from_data(panel_contract("sequence", [{"id": "K1", "requirement": "Any."}], ["A"]))
    replies = [{"completion": '{"verdict": "FAIL", "reason": "first reply"}'}, {"completion": '{"verdict": "PASS", "reason": "second reply"}'}]
    seed = _seed_faulting_first_call_only(0.5)
    script = {"rules": [{"judge": "A", "criterion": "K1", "replies": replies}], "fault_rate": 0.5, "seed": seed, "fault_kinds": [kind]}

    records, _ = grade_with_replay(contract, [Evidence(response="Paris.")], write_script(tmp_path / "script.json", script))

    vote = records[0].criteria[0].votes[0]
    assert [attempt.status for attempt in vote.attempts] == ["truncated" if kind == "truncated" else "unparseable", "ok"]
    assert vote.verdict is VoteVerdict.FAIL
    assert vote.rationale == "first reply"


@pytest.mark.slow
def test_soak_ten_thousand_votes(tmp_path: Path) -> None:
    contract = contract_from_data(panel_contract("soak", [{"id": c, "requirement": f"Requirement {c}."} for c in SOAK_CRITERIA], SOAK_JUDGES, **SOAK_JUDGING))
    evidences = [Evidence(response=f"Report number {index}: the results are in the table.") for index in range(SOAK_SAMPLES)]
    rules = _soak_rules()
    clean_script = write_script(tmp_path / "clean.json", {"rules": rules})
    faulty_script = write_script(tmp_path / "faulty.json", {"rules": rules, "fault_rate": 0.3, "seed": 11, "fault_kinds": SOAK_KINDS, "hang_s": 30})
    limits = JuryLimits(max_concurrency=64, per_model_concurrency=64, backoff_base_s=0.0, backoff_max_s=0.0)

    started = time.perf_counter()
    clean, clean_engine = grade_with_replay(contract, evidences, clean_script, limits)
    clean_s = time.perf_counter() - started
    started = time.perf_counter()
    faulty, faulty_engine = grade_with_replay(contract, evidences, faulty_script, limits)
    faulty_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    clean_votes = _votes(clean)
    faulty_votes = _votes(faulty)
    assert len(clean_votes) == SOAK_SAMPLES * len(SOAK_CRITERIA) * len(SOAK_JUDGES)
    assert len(faulty_votes) == len(clean_votes)
    assert all(vote.verdict is not VoteVerdict.INVALID for _, _, vote in clean_votes)
    assert clean_engine.calls == len(clean_votes)

    # Every vote is valid or INVALID with the reason of the fault that exhausted its retries.
    invalid = [vote for _, _, vote in faulty_votes if vote.verdict is VoteVerdict.INVALID]
    assert all(vote.verdict in (VoteVerdict.PASS, VoteVerdict.FAIL, VoteVerdict.INVALID) for _, _, vote in faulty_votes)
    for vote in invalid:
        assert vote.reason is not None and vote.reason.startswith(EXHAUSTED_REASONS), vote.reason
        assert vote.attempts and vote.attempts[-1].status != "ok" or vote.reason.startswith("no_verdict")

    # Votes whose retries succeeded equal the fault-free votes outside the fault fields.
    differing_votes = []
    for (sample, criterion, clean_vote), (_, _, faulty_vote) in zip(clean_votes, faulty_votes, strict=True):
        if faulty_vote.verdict is VoteVerdict.INVALID:
            continue
        differences = _vote_differences(clean_vote, faulty_vote)
        if differences:
            differing_votes.append((sample, criterion, clean_vote.seat, differences))
    assert differing_votes == []

    # Whole records without an INVALID vote equal the fault-free records outside the fault fields.
    equal_records = 0
    for clean_record, faulty_record in zip(clean, faulty, strict=True):
        if faulty_record.totals.invalid_votes:
            continue
        assert diff_records(clean_record, faulty_record, RUN_SPECIFIC_FIELDS + FAULT_FIELDS) == []
        equal_records += 1

    attempts = Counter(attempt.status for _, _, vote in faulty_votes for attempt in vote.attempts)
    injected = sum(count for status, count in attempts.items() if status != "ok")
    retried_ok = sum(1 for _, _, vote in faulty_votes if vote.verdict is not VoteVerdict.INVALID and len(vote.attempts) > 1)
    assert injected / faulty_engine.calls == pytest.approx(0.3, abs=0.03)
    assert len(invalid) < 0.02 * len(faulty_votes)

    record_figure("faults.votes", len(faulty_votes))
    record_figure("faults.calls", faulty_engine.calls)
    record_figure("faults.injected", injected)
    record_figure("faults.injected_by_status", dict(sorted((s, c) for s, c in attempts.items() if s != "ok")))
    record_figure("faults.votes_retried_and_valid", retried_ok)
    record_figure("faults.votes_invalid_after_retries", len(invalid))
    record_figure("faults.invalid_by_reason", dict(Counter(vote.reason.split(":")[0] for vote in invalid if vote.reason)))
    record_figure("faults.votes_missing", len(clean_votes) - len(faulty_votes))
    record_figure("faults.records_equal_to_fault_free", f"{equal_records} of {sum(1 for r in faulty if not r.totals.invalid_votes)}")
    record_figure("faults.crashes", 0)
    record_figure("faults.seconds_fault_free", round(clean_s, 1))
    record_figure("faults.seconds_with_faults", round(faulty_s, 1))
    record_figure("faults.peak_rss_mb", round(peak_mb))
