"""End-to-end runs of ``inspect eval`` and ``inspect score`` with the contract task, offline.

Two evals run once per module: one where ``replay/solver`` responds through Inspect's generate()
over two epochs with the contracts' default jury, and one with saved responses, the jury bound as
a model role, and judge J3 failing on every call. The re-scoring test appends a second jury's
scores to a copy of the first log.

Expected figures follow from examples/replay_judges.yaml: with jury 'replay' capital-city
passes (score 1.0), unit-conversion fails (0.75), and incident-summary is UNSCORED because its
required root-cause criterion gets 1 PASS, 1 FAIL and 1 INVALID vote.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from inspect_ai.log import EvalLog, read_eval_log, read_eval_log_sample_summaries

from asymmetryzero_inspect.records import records_from_log
from asymmetryzero_inspect.verdict_score import RECORD_KEY, SUMMARY_KEY, VALUE_KEYS
from shared_contract.audit import Decision, VerdictRecord, VoteVerdict
from tests.inspect_support import (
    CONTRACTS,
    RESPONSES,
    SOLVER_USAGE,
    inspect_env,
    judge_rules,
    only_log,
    run_inspect,
    saved_answers,
    solver_rules,
    write_script,
)

pytestmark = pytest.mark.slow

EPOCHS = 2
CONTRACT_IDS = {"capital-city", "unit-conversion", "incident-summary"}
EXPECTED = {
    "capital-city": {"score": 1.0, "pass": 1, "unscored": 0, "coverage": 1.0, "split_items": 2, "narrow_splits": 1, "votes": 6, "invalid_votes": 0},
    "unit-conversion": {"score": 0.75, "pass": 0, "unscored": 0, "coverage": 1.0, "split_items": 2, "narrow_splits": 1, "votes": 6, "invalid_votes": 0},
    "incident-summary": {"score": math.nan, "pass": 0, "unscored": 1, "coverage": 0.6, "split_items": 2, "narrow_splits": 0, "votes": 9, "invalid_votes": 1},
}


class Run:
    """One finished inspect eval: its log, its folder and the sidecar records file."""

    def __init__(self, folder: Path, log_file: Path, records: Path | None, env: dict[str, str]):
        self.folder = folder
        self.log_file = log_file
        self.records = records
        self.env = env
        self.log: EvalLog = read_eval_log(str(log_file))


@pytest.fixture(scope="module")
def solver_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("solver_run")
    script = write_script(folder / "script.json", solver_rules() + judge_rules())
    env = inspect_env(folder / "logs", script)
    records = folder / "records.jsonl"
    run_inspect(
        [
            "eval", "asymmetryzero_inspect/contract_eval",
            "-T", f"contracts={CONTRACTS}",
            "-T", f"records={records}",
            "--model", "replay/solver",
            "--epochs", str(EPOCHS),
            "--ctl-server", "false",
        ],
        env,
        folder,
    )
    return Run(folder, only_log(folder / "logs"), records, env)


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("faulty_run")
    failing = {"judge": "J3", "replies": [{"error": {"status": 400, "message": "scripted provider failure"}}]}
    script = write_script(folder / "script.json", [failing, *judge_rules()])
    env = inspect_env(folder / "logs", script)
    run_inspect(
        [
            "eval", "asymmetryzero_inspect/contract_eval",
            "-T", f"contracts={CONTRACTS}",
            "-T", f"responses={RESPONSES}",
            "--model", "none",
            "--model-role", "jury=replay/J1,replay/J2,replay/J3",
            "--ctl-server", "false",
        ],
        env,
        folder,
    )
    return Run(folder, only_log(folder / "logs"), None, env)


def _value(run: Run, contract_id: str, epoch: int = 1, scorer: str = "contract_scorer") -> dict:
    sample = next(s for s in run.log.samples or [] if s.id == contract_id and s.epoch == epoch)
    assert sample.scores is not None
    return dict(sample.scores[scorer].value)  # type: ignore[arg-type]


def _metrics(log: EvalLog, scorer: str = "contract_scorer") -> dict[str, float]:
    assert log.results is not None
    found: dict[str, float] = {}
    for eval_score in log.results.scores:
        if eval_score.scorer != scorer:
            continue
        for name, metric in eval_score.metrics.items():
            key = name if eval_score.name == scorer else f"{eval_score.name}/{name}"
            found[key] = metric.value
    return found


def _same(actual: float, expected: float) -> bool:
    return (math.isnan(actual) and math.isnan(expected)) or actual == pytest.approx(expected)


def test_eval_runs_every_epoch(solver_run: Run) -> None:
    log = solver_run.log
    assert log.status == "success", log.error
    samples = log.samples or []
    assert len(samples) == len(CONTRACT_IDS) * EPOCHS
    assert {(s.id, s.epoch) for s in samples} == {(cid, e) for cid in CONTRACT_IDS for e in range(1, EPOCHS + 1)}


def test_score_value_keys_identical(solver_run: Run, faulty_run: Run) -> None:
    for run in (solver_run, faulty_run):
        for sample in run.log.samples or []:
            assert sample.scores is not None
            assert tuple(sample.scores["contract_scorer"].value) == VALUE_KEYS  # type: ignore[arg-type]


def test_scores_per_contract(solver_run: Run) -> None:
    for contract_id, expected in EXPECTED.items():
        for epoch in range(1, EPOCHS + 1):
            value = _value(solver_run, contract_id, epoch)
            for key, want in expected.items():
                assert _same(float(value[key]), float(want)), f"{contract_id} epoch {epoch} {key}: {value[key]} != {want}"
            assert value["cost_usd"] == 0.0


def test_unscored_score_is_nan_not_partial(solver_run: Run) -> None:
    value = _value(solver_run, "incident-summary")
    assert math.isnan(value["score"])
    record = next(r for r in records_from_log(solver_run.log) if r.contract_id == "incident-summary")
    assert record.outcome is Decision.UNSCORED
    # The record keeps the score of the decided criteria; the Score value must not report it.
    assert record.score == pytest.approx(1.0)


def test_metrics_skip_unscored(solver_run: Run) -> None:
    metrics = _metrics(solver_run.log)
    # NaN left out: (1.0 + 0.75) / 2, where counting it as 0 would give 0.583.
    assert metrics["score/mean"] == pytest.approx(0.875)
    assert metrics["pass/mean"] == pytest.approx(1 / 3)
    assert metrics["coverage/mean"] == pytest.approx((1.0 + 1.0 + 0.6) / 3)
    assert metrics["unscored/mean"] == pytest.approx(1 / 3)
    assert metrics["jury_split_rate"] == pytest.approx(2 / 6)
    assert metrics["invalid_vote_rate"] == pytest.approx(1 / 21)
    assert metrics["judge_cost_usd"] == 0.0


def test_latency_metric_sums_every_epoch(solver_run: Run) -> None:
    records = records_from_log(solver_run.log)
    assert len(records) == len(CONTRACT_IDS) * EPOCHS
    total = math.fsum(record.totals.latency_s for record in records)
    assert _metrics(solver_run.log)["judge_latency_s"] == pytest.approx(total)


def test_record_kept_without_loss(solver_run: Run) -> None:
    assert solver_run.records is not None
    lines = solver_run.records.read_text(encoding="utf-8").splitlines()
    sidecar = {(r.sample_id, r.epoch): r for r in (VerdictRecord.model_validate_json(line) for line in lines)}
    assert len(sidecar) == len(CONTRACT_IDS) * EPOCHS

    for sample in solver_run.log.samples or []:
        assert sample.scores is not None
        stored = sample.scores["contract_scorer"].metadata
        assert stored is not None
        record = VerdictRecord.model_validate(stored[RECORD_KEY])
        assert record == sidecar[(str(sample.id), sample.epoch)]
        assert record.run.framework == "inspect"
        assert record.sample_id == sample.id
        assert record.epoch == sample.epoch
        jury_votes = [vote for result in record.criteria for vote in result.votes]
        assert jury_votes
        assert all(vote.completion for vote in jury_votes)


def test_summary_small_and_in_sample_summaries(solver_run: Run) -> None:
    summaries = read_eval_log_sample_summaries(str(solver_run.log_file))
    assert summaries
    for summary in summaries:
        assert summary.scores is not None
        metadata = summary.scores["contract_scorer"].metadata
        assert metadata is not None
        assert len(json.dumps(metadata[SUMMARY_KEY])) <= 1024
        assert metadata[SUMMARY_KEY]["contract"] == summary.id
        assert "criteria_omitted" not in metadata[SUMMARY_KEY]
        assert metadata[RECORD_KEY] == "Key removed from summary (> 1k)"
    incident = next(s for s in summaries if s.id == "incident-summary")
    criteria = incident.scores["contract_scorer"].metadata[SUMMARY_KEY]["criteria"]  # type: ignore[index, union-attr]
    assert criteria["root-cause"] == "UNSCORED 1-1, 1 invalid"
    assert criteria["impact"] == "PASS 3-0"
    assert criteria["length"] == "PASS"


def test_explanation_lists_criteria_and_reasons(solver_run: Run) -> None:
    sample = next(s for s in solver_run.log.samples or [] if s.id == "unit-conversion")
    assert sample.scores is not None
    explanation = sample.scores["contract_scorer"].explanation or ""
    assert explanation.startswith("**FAIL**")
    assert "`rounding` (jury): FAIL 2-1" in explanation
    assert "J1 FAIL: 41.834 km has three decimal places." in explanation
    assert "`value` (numeric): PASS" in explanation


def test_judge_usage_under_jury_role(solver_run: Run) -> None:
    log = solver_run.log
    records = records_from_log(log)
    judge_input = sum(record.totals.input_tokens for record in records)
    judge_output = sum(record.totals.output_tokens for record in records)
    assert log.stats.role_usage.keys() == {"jury"}
    assert log.stats.role_usage["jury"].input_tokens == judge_input
    assert log.stats.role_usage["jury"].output_tokens == judge_output

    solver = log.stats.model_usage["replay/solver"]
    samples = len(CONTRACT_IDS) * EPOCHS
    assert solver.input_tokens == SOLVER_USAGE["input_tokens"] * samples
    assert solver.output_tokens == SOLVER_USAGE["output_tokens"] * samples

    for sample in log.samples or []:
        assert sample.scores is not None
        record = VerdictRecord.model_validate(sample.scores["contract_scorer"].metadata[RECORD_KEY])  # type: ignore[index]
        assert sample.role_usage["jury"].input_tokens == record.totals.input_tokens
        assert sample.model_usage["replay/solver"].input_tokens == SOLVER_USAGE["input_tokens"]


def test_failing_judge_votes_invalid(faulty_run: Run) -> None:
    log = faulty_run.log
    assert log.status == "success", log.error
    records = records_from_log(log)
    assert len(records) == len(CONTRACT_IDS)
    for record in records:
        assert record.jury.name == "role:jury"
        assert [seat["model"] for seat in record.jury.seats] == ["replay/J1", "replay/J2", "replay/J3"]
        for result in record.criteria:
            for vote in result.votes:
                if vote.model == "replay/J3":
                    assert vote.verdict is VoteVerdict.INVALID
                    assert vote.reason is not None and vote.reason.startswith("provider_error")
                else:
                    assert vote.verdict in (VoteVerdict.PASS, VoteVerdict.FAIL)

    by_id = {record.contract_id: record for record in records}
    assert by_id["capital-city"].outcome is Decision.PASS
    assert by_id["unit-conversion"].outcome is Decision.FAIL
    assert by_id["incident-summary"].outcome is Decision.UNSCORED
    assert math.isnan(_value(faulty_run, "incident-summary")["score"])

    metrics = _metrics(log)
    assert metrics["invalid_vote_rate"] == pytest.approx(1 / 3)
    # No criterion has a full panel of valid votes, so no split is counted.
    assert math.isnan(metrics["jury_split_rate"])


def test_replay_solver_sets_saved_answer(faulty_run: Run) -> None:
    answers = saved_answers()
    for sample in faulty_run.log.samples or []:
        assert sample.output.completion == answers[str(sample.id)]
    assert set(faulty_run.log.stats.model_usage) == {"replay/J1", "replay/J2"}
    assert set(faulty_run.log.stats.role_usage) == {"jury"}


def test_rescore_appends_second_jury(solver_run: Run) -> None:
    copy = solver_run.folder / "rescored.eval"
    shutil.copy2(solver_run.log_file, copy)
    run_inspect(
        [
            "score", str(copy),
            "--scorer", "asymmetryzero_inspect/contract_scorer",
            "-S", "jury=replay_b",
            "--action", "append",
            "--overwrite",
        ],
        solver_run.env,
        solver_run.folder,
    )
    log = read_eval_log(str(copy))
    for sample in log.samples or []:
        assert sample.scores is not None
        assert set(sample.scores) == {"contract_scorer", "contract_scorer1"}

    first = records_from_log(log, "contract_scorer")
    assert first == records_from_log(solver_run.log, "contract_scorer")
    second = records_from_log(log, "contract_scorer1")
    assert len(second) == len(CONTRACT_IDS) * EPOCHS
    for record in second:
        assert record.jury.name == "replay_b"
        assert [seat["model"] for seat in record.jury.seats] == [f"replay/B{i}" for i in range(1, 6)]

    by_id = {record.contract_id: record for record in second}
    assert by_id["incident-summary"].outcome is Decision.FAIL
    assert by_id["incident-summary"].score == pytest.approx(0.5)
    context = next(result for result in by_id["capital-city"].criteria if result.id == "context")
    assert context.split == "3-2"

    metrics = _metrics(log, "contract_scorer1")
    assert metrics["unscored/mean"] == 0.0
    assert metrics["score/mean"] == pytest.approx((1.0 + 0.75 + 0.5) / 3)
    assert _metrics(log, "contract_scorer")["score/mean"] == pytest.approx(0.875)


def test_rescore_with_judge_names(solver_run: Run) -> None:
    copy = solver_run.folder / "rescored_by_names.eval"
    shutil.copy2(solver_run.log_file, copy)
    run_inspect(
        [
            "score", str(copy),
            "--scorer", "asymmetryzero_inspect/contract_scorer",
            "-S", "judges=replay/B1,replay/B2,replay/B3",
            "--action", "append",
            "--overwrite",
        ],
        solver_run.env,
        solver_run.folder,
    )
    records = records_from_log(read_eval_log(str(copy)), "contract_scorer1")
    assert len(records) == len(CONTRACT_IDS) * EPOCHS
    for record in records:
        assert record.jury.name == "custom"
        assert [seat["seat"] for seat in record.jury.seats] == ["J1", "J2", "J3"]
        assert [seat["model"] for seat in record.jury.seats] == ["replay/B1", "replay/B2", "replay/B3"]

    by_id = {record.contract_id: record for record in records}
    context = next(result for result in by_id["capital-city"].criteria if result.id == "context")
    assert context.split == "3-0"
