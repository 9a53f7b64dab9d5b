"""Jury comparison: hand-computed tables, checks against the reference libraries, loaders, outputs, CLI.

The hand table: two juries of three judges grade two contracts (c1, c2) with three jury criteria
(K1-K3) for two solvers (s1, s2), so each jury makes 12 criterion decisions. Votes are written as
strings, one letter per seat J1, J2, J3: P = PASS, F = FAIL, I = INVALID. A decision is the strict
majority of the 3 seats (2 or more), else UNSCORED.

    record   crit  jury A  decision   jury B  decision   agree  common (both decided, all valid)
    c1 s1    K1    PPP     PASS       PPF     PASS       yes    yes
    c1 s1    K2    PFF     FAIL       PPP     PASS       no     yes
    c1 s1    K3    PPI     PASS       PPP     PASS       yes    no (A has an invalid vote)
    c2 s1    K1    FFF     FAIL       FFP     FAIL       yes    yes
    c2 s1    K2    PIF     UNSCORED   PFF     FAIL       no     no
    c2 s1    K3    PPF     PASS       PPF     PASS       yes    yes
    c1 s2    K1    PPP     PASS       PPP     PASS       yes    yes
    c1 s2    K2    FFP     FAIL       FFF     FAIL       yes    yes
    c1 s2    K3    PFF     FAIL       FFP     FAIL       yes    yes
    c2 s2    K1    PPF     PASS       III     UNSCORED   no     no
    c2 s2    K2    FFF     FAIL       FFF     FAIL       yes    yes
    c2 s2    K3    PFI     UNSCORED   PIF     UNSCORED   yes    no
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa
from typer.testing import CliRunner

from shared_contract.analysis.bootstrap import clustered_bootstrap_ratio_ci
from shared_contract.analysis.cli_compare import compare_command
from shared_contract.analysis.columns import columns_from_records
from shared_contract.analysis.compare import (
    ContractHashMismatchError,
    DuplicateRecordError,
    NoMatchedRecordsError,
    compare_records,
)
from shared_contract.analysis.expert import ExpertLabelError, load_expert_labels
from shared_contract.analysis.html_report import report_html
from shared_contract.analysis.render import report_csv, report_rows
from shared_contract.analysis.report_model import ComparisonReport
from shared_contract.analysis.sources import RecordSourceError, load_records
from shared_contract.analysis.stats import fleiss_kappa, gwet_ac1, krippendorff_alpha
from shared_contract.analysis.sum_statistics import (
    ColumnSums,
    bootstrap_statistics,
    fleiss_item_columns,
    fleiss_kappa_from_sums,
    fleiss_ratings_per_item,
    gwet_ac1_from_sums,
    gwet_item_columns,
    krippendorff_alpha_from_sums,
    krippendorff_item_columns,
    ratio,
)
from shared_contract.audit import CriterionResult, Decision, Tally, VerdictRecord, Vote, VoteTiming, VoteVerdict
from shared_contract.cli import app
from shared_contract.grading import totals

LETTERS = {"P": VoteVerdict.PASS, "F": VoteVerdict.FAIL, "I": VoteVerdict.INVALID, "N": VoteVerdict.NOT_CALLED}

# (contract, solver) -> criterion -> (jury A votes, jury B votes), as in the module docstring.
HAND_VOTES = {
    ("c1", "s1"): {"K1": ("PPP", "PPF"), "K2": ("PFF", "PPP"), "K3": ("PPI", "PPP")},
    ("c2", "s1"): {"K1": ("FFF", "FFP"), "K2": ("PIF", "PFF"), "K3": ("PPF", "PPF")},
    ("c1", "s2"): {"K1": ("PPP", "PPP"), "K2": ("FFP", "FFF"), "K3": ("PFF", "FFP")},
    ("c2", "s2"): {"K1": ("PPF", "III"), "K2": ("FFF", "FFF"), "K3": ("PFI", "PIF")},
}
# Task outcomes and scores per jury: (A outcome, A score), (B outcome, B score).
HAND_OUTCOMES = {
    ("c1", "s1"): (("PASS", 1.0), ("PASS", 1.0)),
    ("c2", "s1"): (("FAIL", 0.25), ("PASS", 0.75)),
    ("c1", "s2"): (("PASS", 0.75), ("PASS", 0.5)),
    ("c2", "s2"): (("UNSCORED", None), ("FAIL", 0.0)),
}
COST_PER_VOTE = {"A": 0.01, "B": 0.002}
LATENCY_PER_VOTE = {"A": 2.0, "B": 0.5}


def majority(votes: str) -> Decision:
    """Strict majority of the panel, one seat per letter."""
    if 2 * votes.count("P") > len(votes):
        return Decision.PASS
    if 2 * votes.count("F") > len(votes):
        return Decision.FAIL
    return Decision.UNSCORED


def criterion(criterion_id: str, votes: str, cost: float | None = 0.0, latency: float = 0.0, method: str = "jury") -> CriterionResult:
    """Build a jury criterion result from a vote string (seat J1 is the first letter)."""
    vote_list = [
        Vote(
            seat=f"J{index + 1}",
            model=f"judge-{index + 1}",
            verdict=LETTERS[letter],
            cost_usd=None if cost is None or letter == "N" else cost,
            timing=VoteTiming(latency_s=latency),
        )
        for index, letter in enumerate(votes)
    ]
    tally = Tally(
        panel=len(votes), passed=votes.count("P"), failed=votes.count("F"), invalid=votes.count("I"), not_called=votes.count("N")
    )
    return CriterionResult(
        id=criterion_id, method=method, weight=1.0, polarity="positive", decision=majority(votes),
        split=tally.split, tally=tally, votes=vote_list,
    )


def record(
    contract_id: str,
    solver: str | None,
    criteria: Sequence[CriterionResult],
    outcome: str = "PASS",
    score: float | None = 1.0,
    sample_id: str | None = "1",
    epoch: int | None = 1,
    contract_hash: str | None = None,
    jury: str = "A",
) -> VerdictRecord:
    """Build a verdict record; totals are summed from the votes with the grader's function."""
    return VerdictRecord(
        contract_id=contract_id,
        contract_version="1",
        contract_hash=contract_hash or f"hash-{contract_id}",
        sample_id=sample_id,
        epoch=epoch,
        solver=solver,
        evidence_digest="digest",
        jury={"name": jury},
        criteria=list(criteria),
        score=score,
        outcome=Decision(outcome),
        coverage=1.0,
        totals=totals(list(criteria)),
    )


def hand_records(jury: str) -> list[VerdictRecord]:
    """Build one jury's four records of the hand table."""
    side = 0 if jury == "A" else 1
    records = []
    for (contract_id, solver), criteria in HAND_VOTES.items():
        results = [
            criterion(criterion_id, votes[side], COST_PER_VOTE[jury], LATENCY_PER_VOTE[jury])
            for criterion_id, votes in criteria.items()
        ]
        outcome, score = HAND_OUTCOMES[(contract_id, solver)][side]
        records.append(record(contract_id, solver, results, outcome, score, jury=jury))
    return records


@pytest.fixture(scope="module")
def hand_report() -> ComparisonReport:
    return compare_records(hand_records("A"), hand_records("B"), n_resamples=500)


# ---------------------------------------------------------------------------------------------
# Hand-computed values


def test_hand_decision_agreement(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    assert overall.n_criteria == 12
    assert overall.n_tasks == 4
    # Agreeing rows: c1s1 K1 K3, c2s1 K1 K3, c1s2 K1 K2 K3, c2s2 K2 K3 = 9 of 12.
    assert overall.decision_agreement.estimate == pytest.approx(9 / 12)
    # s1: c1 K1 K3 and c2 K1 K3 = 4 of 6. s2: all but c2 K1 = 5 of 6.
    assert hand_report.group("s1").decision_agreement.estimate == pytest.approx(4 / 6)
    assert hand_report.group("s2").decision_agreement.estimate == pytest.approx(5 / 6)


def test_hand_common_subset(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    # Common rows: c1s1 K1 K2, c2s1 K1 K3, c1s2 K1 K2 K3, c2s2 K2 = 8; all agree but c1s1 K2: 7 of 8.
    assert overall.common_subset_agreement.estimate == pytest.approx(7 / 8)
    assert overall.common_subset_agreement.n_items == 8
    assert overall.common_subset_share.estimate == pytest.approx(8 / 12)
    # s1: common c1 K1 K2, c2 K1 K3, agreeing 3 of 4. s2: common c1 K1 K2 K3, c2 K2, agreeing 4 of 4.
    assert hand_report.group("s1").common_subset_agreement.estimate == pytest.approx(3 / 4)
    assert hand_report.group("s2").common_subset_agreement.estimate == pytest.approx(1.0)


def test_hand_split_shares(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    splits_a = overall.juries["A"].splits
    # A complete rows (3 valid votes): 9. 3-0: c1s1 K1, c2s1 K1, c1s2 K1, c2s2 K2 = 4; 2-1: 5.
    assert splits_a.panel_size == 3
    assert splits_a.narrowest_majority_split == "2-1"
    assert splits_a.counts == {"3-0": 4, "2-1": 5}
    assert splits_a.n_items == 9
    assert splits_a.n_incomplete == 3
    assert splits_a.narrowest_majority_share.estimate == pytest.approx(5 / 9)
    # B complete rows: 10 (c2s2 K1 and K3 have invalid votes). 3-0: c1s1 K2 K3, c1s2 K1 K2, c2s2 K2 = 5.
    splits_b = overall.juries["B"].splits
    assert splits_b.counts == {"3-0": 5, "2-1": 5}
    assert splits_b.narrowest_majority_share.estimate == pytest.approx(5 / 10)


def test_hand_cohen_kappa(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    # A: 5 PASS, 5 FAIL, 2 UNSCORED; B: 5, 5, 2. p_o = 9/12, p_e = (25 + 25 + 4) / 144 = 0.375.
    assert overall.cohen_kappa.estimate == pytest.approx((0.75 - 0.375) / (1 - 0.375))
    # Common subset: A 3 PASS 5 FAIL, B 4 PASS 4 FAIL; p_o = 7/8, p_e = (12 + 20) / 64 = 0.5.
    assert overall.cohen_kappa_common_subset.estimate == pytest.approx((0.875 - 0.5) / 0.5)

    table = np.array([[4, 0, 1], [1, 4, 0], [0, 1, 1]])  # rows A FAIL/PASS/UNSCORED, columns B
    assert overall.cohen_kappa.estimate == pytest.approx(cohens_kappa(table, return_results=False))


def test_hand_mcnemar(hand_report: ComparisonReport) -> None:
    result = hand_report.group("overall").mcnemar
    assert result is not None
    # Both decided: 9 rows. Only c1s1 K2 differs, with B PASS and A FAIL.
    assert (result.n_pairs, result.n_only_a, result.n_only_b) == (9, 0, 1)
    assert result.exact
    assert result.p_value == pytest.approx(1.0)


def test_hand_outcomes(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    # Same outcome: c1s1 and c1s2, 2 of 4. Both decided: c1s1, c2s1, c1s2; c2s1 flips FAIL to PASS.
    assert overall.outcome_agreement.estimate == pytest.approx(0.5)
    assert overall.outcome_flip_rate.estimate == pytest.approx(1 / 3)
    assert overall.outcome_flips == {"A PASS, B FAIL": 0, "A FAIL, B PASS": 1}
    # Both scored: (1.0 - 1.0) + (0.75 - 0.25) + (0.5 - 0.75) = 0.25 over 3 tasks.
    assert overall.mean_score_difference.estimate == pytest.approx(0.25 / 3)
    assert overall.mean_score_difference.n_items == 3


def test_hand_cost_and_latency(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    # Every criterion has 3 called votes: A costs 0.03 and B 0.006 per criterion, so B/A = 0.2.
    assert overall.cost_ratio_per_criterion.estimate == pytest.approx(0.2)
    assert overall.cost_ratio_per_task.estimate == pytest.approx(0.2)
    assert overall.latency_ratio_per_criterion.estimate == pytest.approx(0.25)
    assert overall.latency_ratio_per_task.estimate == pytest.approx(0.25)
    jury_a = overall.juries["A"]
    assert jury_a.mean_cost_per_criterion_usd.estimate == pytest.approx(0.03)
    assert jury_a.mean_cost_per_task_usd.estimate == pytest.approx(0.09)
    assert jury_a.mean_latency_per_criterion_s.estimate == pytest.approx(6.0)


def test_hand_judge_agreement(hand_report: ComparisonReport) -> None:
    judges = {judge.seat: judge for judge in hand_report.group("overall").juries["A"].judges}
    # A's majority of valid votes is tied on c2s1 K2 (P, F) and c2s2 K3 (P, F), so 10 rows count
    # for J1, which votes against the majority on c1s1 K2 and c1s2 K3: 8 of 10.
    assert judges["J1"].agreement_with_majority.estimate == pytest.approx(8 / 10)
    assert judges["J1"].agreement_with_majority.n_items == 10
    # J3 is INVALID on c1s1 K3 and c2s2 K3 and sits on the tie of c2s1 K2: 9 rows. It dissents on
    # c2s1 K3, c1s2 K2 and c2s2 K1: 6 of 9.
    assert judges["J3"].agreement_with_majority.estimate == pytest.approx(6 / 9)
    assert judges["J3"].invalid_vote_rate.estimate == pytest.approx(2 / 12)


def test_hand_invalid_and_unscored_rates(hand_report: ComparisonReport) -> None:
    overall = hand_report.group("overall")
    # A: 3 INVALID of 36 called votes; B: 4 of 36 (III on c2s2 K1, one on c2s2 K3).
    assert overall.juries["A"].invalid_vote_rate.estimate == pytest.approx(3 / 36)
    assert overall.juries["B"].invalid_vote_rate.estimate == pytest.approx(4 / 36)
    assert overall.juries["A"].unscored_rate.estimate == pytest.approx(2 / 12)
    # A decided 10: PASS on c1s1 K1 K3, c2s1 K3, c1s2 K1, c2s2 K1.
    assert overall.juries["A"].pass_rate.estimate == pytest.approx(5 / 10)


def test_intervals_bracket_estimates(hand_report: ComparisonReport) -> None:
    for row in report_rows(hand_report):
        if row.estimate is None or row.low is None:
            continue
        assert row.low <= row.estimate + 1e-12, row
        assert row.estimate <= row.high + 1e-12, row


# ---------------------------------------------------------------------------------------------
# Within-jury coefficients against the reference libraries


def _vote_matrix(records: Sequence[VerdictRecord]) -> np.ndarray:
    rows = []
    for item in records:
        for result in item.criteria:
            rows.append([{"PASS": 1.0, "FAIL": 0.0}.get(vote.verdict.value, np.nan) for vote in result.votes])
    return np.array(rows)


def test_hand_within_jury_coefficients(hand_report: ComparisonReport) -> None:
    for key in ("A", "B"):
        matrix = _vote_matrix(hand_records(key))
        jury = hand_report.group("overall").juries[key]
        assert jury.fleiss_kappa.estimate == pytest.approx(fleiss_kappa(matrix).kappa)
        assert jury.krippendorff_alpha.estimate == pytest.approx(
            krippendorff.alpha(reliability_data=matrix.T, level_of_measurement="nominal")
        )
        assert jury.gwet_ac1.estimate == pytest.approx(gwet_ac1(matrix, (0.0, 1.0)))

        complete = matrix[~np.isnan(matrix).any(axis=1)]
        counts, _ = aggregate_raters(complete.astype(int))
        assert jury.fleiss_kappa.estimate == pytest.approx(statsmodels_fleiss_kappa(counts, method="fleiss"))


@pytest.mark.parametrize("seed", range(6))
def test_sum_forms_match_stats(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_raters = 60, 5
    matrix = rng.choice([0.0, 1.0], size=(n_items, n_raters), p=[0.3, 0.7])
    matrix[rng.random(matrix.shape) < 0.15] = np.nan
    passed = np.count_nonzero(matrix == 1.0, axis=1)
    failed = np.count_nonzero(matrix == 0.0, axis=1)

    sums = ColumnSums(1, {"item": np.zeros(n_items, dtype=np.int64)})
    ratings = fleiss_ratings_per_item(passed, failed)
    fleiss_columns = sums.add_many("item", fleiss_item_columns(passed, failed, ratings))
    alpha_columns = sums.add_many("item", krippendorff_item_columns(passed, failed))
    gwet_columns = sums.add_many("item", gwet_item_columns(passed, failed))
    totals_row = sums.matrix()

    assert fleiss_kappa_from_sums(fleiss_columns, ratings)(totals_row)[0] == pytest.approx(fleiss_kappa(matrix).kappa)
    assert krippendorff_alpha_from_sums(alpha_columns)(totals_row)[0] == pytest.approx(krippendorff_alpha(matrix))
    assert gwet_ac1_from_sums(gwet_columns)(totals_row)[0] == pytest.approx(gwet_ac1(matrix, (0.0, 1.0)))


def test_sum_forms_undefined_on_one_category() -> None:
    passed = np.array([3, 3, 2])
    failed = np.array([0, 0, 0])
    sums = ColumnSums(1, {"item": np.zeros(3, dtype=np.int64)})
    fleiss_columns = sums.add_many("item", fleiss_item_columns(passed, failed, 3))
    alpha_columns = sums.add_many("item", krippendorff_item_columns(passed, failed))
    gwet_columns = sums.add_many("item", gwet_item_columns(passed, failed))
    totals_row = sums.matrix()
    assert math.isnan(fleiss_kappa_from_sums(fleiss_columns, 3)(totals_row)[0])
    assert math.isnan(krippendorff_alpha_from_sums(alpha_columns)(totals_row)[0])
    # AC1 stays defined: unanimous PASS is perfect agreement with q = 2.
    assert gwet_ac1_from_sums(gwet_columns)(totals_row)[0] == pytest.approx(1.0)


def test_shared_bootstrap_matches_ratio_ci() -> None:
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 40, size=500)
    hits = rng.random(500) < 0.7
    reference = clustered_bootstrap_ratio_ci(hits.astype(float), np.ones(500), clusters, n_resamples=300, seed=11)

    _, dense = np.unique(clusters, return_inverse=True)
    sums = ColumnSums(int(dense.max()) + 1, {"item": dense})
    top, bottom = sums.add("item", hits), sums.add("item", np.ones(500))
    shared = bootstrap_statistics(sums.matrix(), {"rate": ratio(top, bottom)}, n_resamples=300, seed=11)["rate"]
    assert shared.estimate == pytest.approx(reference.estimate)
    assert shared.low == pytest.approx(reference.low)
    assert shared.high == pytest.approx(reference.high)


# ---------------------------------------------------------------------------------------------
# Pairing rules


def test_hash_mismatch_rejected() -> None:
    records_b = hand_records("B")
    records_b[0] = records_b[0].model_copy(update={"contract_hash": "another-hash"})
    with pytest.raises(ContractHashMismatchError, match="allow-hash-mismatch"):
        compare_records(hand_records("A"), records_b, n_resamples=50)


def test_hash_mismatch_allowed_with_note() -> None:
    records_b = [item.model_copy(update={"contract_hash": "v2"}) if item.contract_id == "c1" else item for item in hand_records("B")]
    report = compare_records(hand_records("A"), records_b, allow_hash_mismatch=True, n_resamples=50)
    assert report.n_matched_records == 4
    assert [mismatch.contract_id for mismatch in report.hash_mismatches] == ["c1"]
    assert any("different contract hashes" in note for note in report.notes)
    assert report.group("overall").decision_agreement.estimate == pytest.approx(9 / 12)


def test_duplicate_record_rejected() -> None:
    records_a = hand_records("A")
    with pytest.raises(DuplicateRecordError, match="more than one record"):
        compare_records(records_a + records_a[:1], hand_records("B"), n_resamples=50)


def test_no_pairs_rejected() -> None:
    records_b = [item.model_copy(update={"solver": f"other-{item.solver}"}) for item in hand_records("B")]
    with pytest.raises(NoMatchedRecordsError):
        compare_records(hand_records("A"), records_b, n_resamples=50)


def test_unpaired_and_check_criteria_left_out() -> None:
    records_a = hand_records("A")
    records_b = hand_records("B")
    exact = CriterionResult(id="final", method="exact", weight=1.0, polarity="positive", decision=Decision.PASS)
    records_a[0] = records_a[0].model_copy(update={"criteria": [*records_a[0].criteria, exact]})
    records_b[0] = records_b[0].model_copy(update={"criteria": [*records_b[0].criteria, exact]})
    extra = record("c3", "s1", [criterion("K1", "PPP")])
    report = compare_records([*records_a, extra], records_b, n_resamples=50)
    assert report.n_non_jury_criteria == 1
    assert report.juries["A"].n_unmatched_records == 1
    assert report.group("overall").n_criteria == 12
    assert report.group("overall").decision_agreement.estimate == pytest.approx(9 / 12)


def test_grouping_by_contract_and_none() -> None:
    by_contract = compare_records(hand_records("A"), hand_records("B"), by="contract", n_resamples=50)
    assert [group.group for group in by_contract.groups] == ["overall", "c1", "c2"]
    # c1: all agree but s1 K2, 5 of 6. c2: s1 K2 and s2 K1 differ, 4 of 6.
    assert by_contract.group("c1").decision_agreement.estimate == pytest.approx(5 / 6)
    assert by_contract.group("c2").decision_agreement.estimate == pytest.approx(4 / 6)
    only_overall = compare_records(hand_records("A"), hand_records("B"), by="none", n_resamples=50)
    assert [group.group for group in only_overall.groups] == ["overall"]
    with pytest.raises(ValueError, match="by is 'judge'"):
        compare_records(hand_records("A"), hand_records("B"), by="judge")


def test_task_clusters_join_solvers() -> None:
    report = compare_records(hand_records("A"), hand_records("B"), n_resamples=50)
    # Tasks are (contract, sample): c1 and c2, each graded for both solvers.
    assert report.group("overall").n_task_clusters == 2
    assert report.group("overall").decision_agreement.n_clusters == 2


def test_columns_follow_sorted_seats() -> None:
    first = record("c1", "s1", [criterion("K1", "PPF")])
    reordered = first.model_copy(
        update={"criteria": [first.criteria[0].model_copy(update={"votes": list(reversed(first.criteria[0].votes))})]}
    )
    assert columns_from_records([first]).votes.tolist() == columns_from_records([reordered]).votes.tolist()


# ---------------------------------------------------------------------------------------------
# Expert labels

LABELS_CSV = """contract_id,criterion_id,solver,label
c1,K1,s1,PASS
c1,K2,s1,FAIL
c1,K3,s1,fail
c2,K1,s1,FAIL
c2,K2,s1,FAIL
c2,K3,s1,PASS
c9,K1,s1,PASS
"""


def test_labels_hand_values(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(LABELS_CSV, encoding="utf-8")
    report = compare_records(hand_records("A"), hand_records("B"), labels=load_expert_labels(path), n_resamples=200)
    assert report.labels is not None
    assert (report.labels.n_labels, report.labels.n_matched_labels, report.labels.n_unmatched_labels) == (7, 6, 1)

    scores_a = report.group("overall").labels.juries["A"]
    # A on s1: P F P / F U P against P F F / F F P. Decided 5 (c2 K2 is UNSCORED), correct 4.
    assert scores_a.n_labelled == 6
    assert scores_a.coverage.estimate == pytest.approx(5 / 6)
    assert scores_a.accuracy.estimate == pytest.approx(4 / 5)
    # TP 2 (c1 K1, c2 K3), FP 1 (c1 K3), FN 0.
    assert scores_a.precision.estimate == pytest.approx(2 / 3)
    assert scores_a.recall.estimate == pytest.approx(1.0)
    assert scores_a.f1.estimate == pytest.approx(0.8)
    # p_o = 4/5; label marginals PASS 2 FAIL 3, decisions PASS 3 FAIL 2: p_e = 12/25.
    assert scores_a.cohen_kappa.estimate == pytest.approx((0.8 - 0.48) / 0.52)
    assert scores_a.confusion == {"FAIL": {"FAIL": 2, "PASS": 1, "UNSCORED": 1}, "PASS": {"FAIL": 0, "PASS": 2, "UNSCORED": 0}}

    # B on s1: P P P / F F P: correct c1 K1, c2 K1 K2 K3 = 4 of 6.
    assert report.group("overall").labels.juries["B"].accuracy.estimate == pytest.approx(4 / 6)
    assert report.group("s2").labels is None

    per_criterion = {(item.contract_id, item.criterion_id): item for item in report.labels.per_criterion}
    assert per_criterion[("c1", "K3")].juries["A"].accuracy.estimate == 0.0
    assert per_criterion[("c2", "K2")].juries["A"].n_decided == 0
    assert per_criterion[("c2", "K2")].juries["A"].accuracy.estimate is None


def test_labels_sample_id_wins(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("contract_id,criterion_id,solver,label,sample_id\nc1,K1,s1,FAIL,\nc1,K1,s1,PASS,1\n", encoding="utf-8")
    report = compare_records(hand_records("A"), hand_records("B"), labels=load_expert_labels(path), n_resamples=50)
    assert report.group("overall").labels.juries["A"].accuracy.estimate == 1.0
    assert report.labels.n_unmatched_labels == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contract_id,criterion_id,label\nc1,K1,PASS\n", "lacks the column"),
        ("contract_id,criterion_id,solver,label\nc1,K1,s1,MAYBE\n", "use PASS or FAIL"),
        ("contract_id,criterion_id,solver,label\nc1,K1,s1,PASS\nc1,K1,s1,FAIL\n", "repeats the label"),
    ],
)
def test_labels_invalid_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpertLabelError, match=message):
        load_expert_labels(path)


# ---------------------------------------------------------------------------------------------
# Record sources


def _write_jsonl(path: Path, records: Sequence[VerdictRecord]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(item.to_json(indent=None) + "\n" for item in records), encoding="utf-8")
    return path


def test_load_json_jsonl_and_folder(tmp_path: Path) -> None:
    records = hand_records("A")
    single = tmp_path / "one.json"
    single.write_text(records[0].to_json(), encoding="utf-8")
    listed = tmp_path / "folder" / "list.json"
    listed.parent.mkdir()
    listed.write_text(json.dumps([item.model_dump(mode="json", by_alias=True) for item in records[:2]]), encoding="utf-8")
    _write_jsonl(tmp_path / "folder" / "more.jsonl", records[2:])
    (tmp_path / "folder" / "logs.json").write_text('{"x.eval": {}}', encoding="utf-8")

    assert load_records(single) == records[:1]
    assert load_records(listed) == records[:2]
    assert load_records(tmp_path / "folder") == records
    with pytest.raises(RecordSourceError, match="neither a verdict record"):
        load_records(tmp_path / "folder" / "logs.json")
    with pytest.raises(RecordSourceError, match="not found"):
        load_records(tmp_path / "missing.jsonl")


def test_load_harbor_job_folder(tmp_path: Path) -> None:
    records = hand_records("A")
    job = tmp_path / "job"
    for index, item in enumerate(records):
        trial = job / f"trial-{index}"
        (trial / "verifier").mkdir(parents=True)
        bare = item.model_copy(update={"sample_id": None, "solver": None})
        (trial / "verifier" / "reward-details.json").write_text(bare.to_json(), encoding="utf-8")
        result = {"task_name": f"task-{index}", "agent_info": {"name": "oracle", "model_info": {"name": "m", "provider": "p"}}}
        (trial / "result.json").write_text(json.dumps(result), encoding="utf-8")

    from_trials = load_records(job)
    assert [item.sample_id for item in from_trials] == [f"task-{index}" for index in range(4)]
    assert {item.solver for item in from_trials} == {"p/m"}

    _write_jsonl(job / "asymmetryzero-records.jsonl", records)
    assert load_records(job) == records


def test_core_imports_without_inspect() -> None:
    code = (
        "import sys\n"
        "sys.modules['inspect_ai'] = None\n"
        "sys.modules['harbor'] = None\n"
        "import shared_contract.analysis.sources, shared_contract.analysis.compare, shared_contract.analysis.cli_compare\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr


def test_inspect_log_without_inspect_raises(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['inspect_ai'] = None\n"
        "from shared_contract.analysis.sources import load_records\n"
        f"load_records({str(tmp_path / 'run.eval')!r})\n"
    )
    (tmp_path / "run.eval").write_bytes(b"")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert finished.returncode != 0
    assert "needs inspect_ai" in finished.stderr


# ---------------------------------------------------------------------------------------------
# Outputs and command line


def test_json_round_trip(hand_report: ComparisonReport) -> None:
    loaded = ComparisonReport.model_validate_json(hand_report.model_dump_json())
    assert loaded == hand_report


def test_csv_one_row_per_statistic(hand_report: ComparisonReport) -> None:
    lines = report_csv(hand_report).splitlines()
    assert lines[0] == "group,jury,seat,criterion,statistic,estimate,low,high,n_items,n_clusters"
    keys = [tuple(line.split(",")[:5]) for line in lines[1:]]
    assert len(keys) == len(set(keys))
    assert ("s1", "A vs B", "", "", "decision_agreement") in keys
    assert ("overall", "A", "J1", "", "judge_agreement_with_majority") in keys


def test_html_self_contained(hand_report: ComparisonReport) -> None:
    page = report_html(hand_report)
    assert page.count("data:image/png;base64,") == 4
    assert "<style>" in page
    assert "http://" not in page and "https://" not in page
    assert "Decision agreement" in page


def test_compare_command_writes_files(tmp_path: Path) -> None:
    path_a = _write_jsonl(tmp_path / "a.jsonl", hand_records("A"))
    path_b = _write_jsonl(tmp_path / "b.jsonl", hand_records("B"))
    report, written = compare_command(path_a, path_b, out_dir=tmp_path / "out", n_resamples=100)
    assert [path.name for path in written] == ["jury-comparison.json", "jury-comparison.csv", "jury-comparison.html"]
    saved = ComparisonReport.model_validate_json((tmp_path / "out" / "jury-comparison.json").read_text(encoding="utf-8"))
    assert saved.group("overall").common_subset_agreement.estimate == pytest.approx(7 / 8)
    assert report.juries["A"].source == str(path_a)


def test_cli_compare_exit_codes(tmp_path: Path) -> None:
    path_a = _write_jsonl(tmp_path / "a.jsonl", hand_records("A"))
    path_b = _write_jsonl(tmp_path / "b.jsonl", hand_records("B"))
    runner = CliRunner()
    finished = runner.invoke(app, ["compare", str(path_a), str(path_b), "--resamples", "100", "--out", str(tmp_path / "out"), "--format", "csv"])
    assert finished.exit_code == 0, finished.output
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["jury-comparison.csv"]

    changed = [item.model_copy(update={"contract_hash": "v2"}) for item in hand_records("B")]
    path_changed = _write_jsonl(tmp_path / "changed.jsonl", changed)
    rejected = runner.invoke(app, ["compare", str(path_a), str(path_changed)])
    assert rejected.exit_code == 2
    allowed = runner.invoke(app, ["compare", str(path_a), str(path_changed), "--allow-hash-mismatch", "--resamples", "50"])
    assert allowed.exit_code == 0, allowed.output


# ---------------------------------------------------------------------------------------------
# End to end: two real `inspect eval` runs with two replay juries, then `asymmetryzero compare`.
#
# Jury A has five judges (A1-A5), jury B three (B1-B3). Both grade the same saved responses to
# two contracts, each with one exact check (left out of the criterion statistics) and three jury
# criteria. Letters as in the hand table; X is a completion without a verdict (INVALID).
#
#     contract criterion  jury A  decision   jury B  decision   agree  common
#     alpha    q1         PPPPP   PASS       PPP     PASS       yes    yes
#     alpha    q2         PPPFF   PASS       FFP     FAIL       no     yes
#     alpha    q3         PPFFX   UNSCORED   PPF     PASS       no     no
#     beta     q1         FFFFP   FAIL       FFF     FAIL       yes    yes
#     beta     q2         PPPFF   PASS       PPP     PASS       yes    yes
#     beta     q3         FFFPP   FAIL       PXF     UNSCORED   no     no
#
# Agreement 3/6; common subset 4 rows, 3 agreeing; A's complete rows are all but alpha q3, with
# 3-2 splits on alpha q2, beta q2 and beta q3 (3/5); B's complete rows are all but beta q3, with
# 2-1 splits on alpha q2 and alpha q3 (2/5).

E2E_VOTES = {
    ("alpha", "q1"): ("PPPPP", "PPP"),
    ("alpha", "q2"): ("PPPFF", "FFP"),
    ("alpha", "q3"): ("PPFFX", "PPF"),
    ("beta", "q1"): ("FFFFP", "FFF"),
    ("beta", "q2"): ("PPPFF", "PPP"),
    ("beta", "q3"): ("FFFPP", "PXF"),
}


def _e2e_contract(contract_id: str) -> dict:
    return {
        "id": contract_id,
        "title": f"Contract {contract_id}",
        "task": {"prompt": f"Answer the {contract_id} question and end with 'Final answer: 42'."},
        "criteria": [
            {"id": "final", "requirement": "The final answer is 42.", "method": "exact", "expected": "42"},
            *({"id": f"q{index}", "requirement": f"Requirement {index} of {contract_id}."} for index in (1, 2, 3)),
        ],
        "juries": {
            "jury_a": [{"model": f"replay/A{index}"} for index in range(1, 6)],
            "jury_b": [{"model": f"replay/B{index}"} for index in range(1, 4)],
        },
        "default_jury": "jury_a",
        "judging": {"max_attempts": 1, "reask_unparseable": 0},
    }


def _e2e_rules() -> list[dict]:
    completions = {
        "P": '{"verdict": "PASS", "reason": "met"}',
        "F": '{"verdict": "FAIL", "reason": "not met"}',
        "X": "I would rather not say.",
    }
    rules = []
    for (contract_id, criterion_id), votes_by_jury in E2E_VOTES.items():
        for prefix, votes in zip(("A", "B"), votes_by_jury, strict=True):
            for index, letter in enumerate(votes, start=1):
                rules.append(
                    {
                        "judge": f"{prefix}{index}",
                        "criterion": criterion_id,
                        "prompt_contains": f"Requirement {criterion_id[1]} of {contract_id}.",
                        "replies": [{"completion": completions[letter], "usage": {"input_tokens": 80, "output_tokens": 12}}],
                    }
                )
    return rules


@pytest.mark.slow
def test_inspect_runs_compared_end_to_end(tmp_path: Path) -> None:
    import yaml

    from tests.inspect_support import inspect_env, only_log, run_inspect, write_script

    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for contract_id in ("alpha", "beta"):
        (contracts / f"{contract_id}.yaml").write_text(yaml.safe_dump(_e2e_contract(contract_id)), encoding="utf-8")
    responses = tmp_path / "responses.jsonl"
    responses.write_text(
        "".join(json.dumps({"id": cid, "response": f"The {cid} answer.\nFinal answer: 42"}) + "\n" for cid in ("alpha", "beta")),
        encoding="utf-8",
    )
    script = write_script(tmp_path / "judges.json", _e2e_rules())

    logs = {}
    for jury in ("jury_a", "jury_b"):
        log_dir = tmp_path / f"logs_{jury}"
        arguments = ["eval", "asymmetryzero_inspect/contract_eval", "-T", f"contracts={contracts}"]
        arguments += ["-T", f"responses={responses}", "-T", f"jury={jury}", "--model", "none"]
        run_inspect(arguments, inspect_env(log_dir, script), tmp_path)
        logs[jury] = only_log(log_dir)

    out = tmp_path / "report"
    command = [sys.executable, "-m", "shared_contract.cli", "compare", str(logs["jury_a"]), str(logs["jury_b"])]
    command += ["--out", str(out), "--resamples", "500"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr

    report = ComparisonReport.model_validate_json((out / "jury-comparison.json").read_text(encoding="utf-8"))
    overall = report.group("overall")
    assert report.n_matched_records == 2
    assert report.n_non_jury_criteria == 2
    assert overall.n_criteria == 6
    assert overall.decision_agreement.estimate == pytest.approx(3 / 6)
    assert overall.common_subset_agreement.estimate == pytest.approx(3 / 4)
    assert overall.common_subset_share.estimate == pytest.approx(4 / 6)
    # A: 3 PASS, 2 FAIL, 1 UNSCORED; B the same. p_o = 1/2, p_e = (9 + 4 + 1) / 36.
    assert overall.cohen_kappa.estimate == pytest.approx((0.5 - 14 / 36) / (1 - 14 / 36))

    splits_a = overall.juries["A"].splits
    assert splits_a.panel_size == 5
    assert splits_a.counts == {"5-0": 1, "4-1": 1, "3-2": 3}
    assert splits_a.narrowest_majority_share.estimate == pytest.approx(3 / 5)
    splits_b = overall.juries["B"].splits
    assert splits_b.counts == {"3-0": 3, "2-1": 2}
    assert splits_b.narrowest_majority_share.estimate == pytest.approx(2 / 5)
    assert overall.juries["A"].invalid_vote_rate.estimate == pytest.approx(1 / 30)
    assert overall.juries["B"].invalid_vote_rate.estimate == pytest.approx(1 / 18)

    # Task outcomes come from the contracts' aggregation; check the report against the records.
    records_a = {item.contract_id: item for item in load_records(logs["jury_a"])}
    records_b = {item.contract_id: item for item in load_records(logs["jury_b"])}
    same = [records_a[cid].outcome == records_b[cid].outcome for cid in records_a]
    assert overall.outcome_agreement.estimate == pytest.approx(sum(same) / len(same))
    assert [group.group for group in report.groups] == ["overall", records_a["alpha"].solver]

    page = (out / "jury-comparison.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
