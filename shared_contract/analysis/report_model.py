"""The jury comparison report: pydantic models that serialise to JSON and load back.

Undefined statistics (a kappa with a single observed category, a rate over no items) are None,
never NaN, so the JSON stays standard. Intervals are task-clustered percentile bootstrap
intervals; None where no interval was computed.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared_contract.analysis.stats import McNemarResult

REPORT_FORMAT = "asymmetryzero/jury-comparison/v1"
JURY_KEYS = ("A", "B")
OVERALL = "overall"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def finite_or_none(value: float | None) -> float | None:
    """Return value as a float, or None when it is None or NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


class Estimate(_Model):
    """A statistic with its percentile interval.

    Attributes:
        estimate: Value on all items, None when undefined.
        low: Lower interval bound, None when no interval was computed or the estimate is undefined.
        high: Upper interval bound, as ``low``.
        n_items: Items the statistic used (criterion decisions, tasks, votes or pairs).
        n_clusters: Tasks resampled by the bootstrap, None without an interval.
    """

    estimate: float | None
    low: float | None = None
    high: float | None = None
    n_items: int = 0
    n_clusters: int | None = None


class SplitSummary(_Model):
    """Distribution of vote splits within one jury, over criteria whose valid votes fill the panel.

    Attributes:
        panel_size: Seats of the most common panel; criteria of other panels are left out.
        counts: Criteria per split, from unanimous to the narrowest, such as "5-0" ... "3-2".
        shares: ``counts`` over ``n_items``.
        narrowest_majority_split: "3-2" for five seats, "2-1" for three.
        narrowest_majority_share: Share of criteria with that split, with its interval.
        n_items: Criteria whose PASS and FAIL votes fill the panel.
        n_incomplete: Criteria with an invalid or missing vote.
        n_other_panel: Criteria graded by a panel of another size.
    """

    panel_size: int
    counts: dict[str, int]
    shares: dict[str, float | None]
    narrowest_majority_split: str
    narrowest_majority_share: Estimate
    n_items: int
    n_incomplete: int
    n_other_panel: int = 0


class JudgeAgreement(_Model):
    """One seat's agreement with the strict majority of its own jury's valid votes.

    Attributes:
        seat: Seat name.
        model: Judge model of the seat.
        agreement_with_majority: Share of criteria, among those where the seat voted PASS or FAIL
            and the valid votes had a strict majority, on which the seat voted with the majority.
            The seat's own vote counts towards the majority.
        invalid_vote_rate: INVALID votes over the seat's called votes.
    """

    seat: str
    model: str
    agreement_with_majority: Estimate
    invalid_vote_rate: Estimate


class JuryStatistics(_Model):
    """Statistics within one jury on the matched jury criteria.

    Attributes:
        fleiss_kappa: Fleiss' kappa over criteria with the most common number of valid votes.
        krippendorff_alpha: Nominal Krippendorff's alpha over PASS and FAIL votes.
        gwet_ac1: Gwet's AC1 with the categories PASS and FAIL.
        splits: Vote split distribution.
        pass_rate: PASS decisions over PASS and FAIL decisions.
        unscored_rate: UNSCORED decisions over all matched criteria.
        invalid_vote_rate: INVALID votes over called votes.
        mean_cost_per_criterion_usd: Judge cost per criterion decision, over criteria with known prices.
        mean_cost_per_task_usd: Judge cost per task (record totals), over tasks with known prices.
        mean_latency_per_criterion_s: Judge latency summed over a criterion's votes (judge time, not wall time).
        mean_latency_per_task_s: Judge latency summed over a record's votes.
        judges: Per-seat agreement with the jury majority.
    """

    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    gwet_ac1: Estimate
    splits: SplitSummary
    pass_rate: Estimate
    unscored_rate: Estimate
    invalid_vote_rate: Estimate
    mean_cost_per_criterion_usd: Estimate
    mean_cost_per_task_usd: Estimate
    mean_latency_per_criterion_s: Estimate
    mean_latency_per_task_s: Estimate
    judges: list[JudgeAgreement]


class LabelScores(_Model):
    """A jury's criterion decisions scored against expert labels.

    Attributes:
        n_labelled: Matched criterion decisions with an expert label.
        n_decided: Those the jury decided PASS or FAIL; the scores below use only these.
        coverage: ``n_decided`` over ``n_labelled``.
        accuracy: Decisions equal to the label.
        cohen_kappa: Cohen's kappa between label and decision.
        precision: With PASS as the positive class.
        recall: With PASS as the positive class.
        f1: With PASS as the positive class.
        confusion: Counts keyed by expert label, then by jury decision (UNSCORED included).
    """

    n_labelled: int
    n_decided: int
    coverage: Estimate
    accuracy: Estimate
    cohen_kappa: Estimate
    precision: Estimate
    recall: Estimate
    f1: Estimate
    confusion: dict[str, dict[str, int]]


class LabelComparison(_Model):
    """Both juries against the expert labels.

    Attributes:
        juries: Scores per jury key.
        mcnemar: McNemar's test of jury A correct against jury B correct, on labelled criteria
            both juries decided; None when there is no such criterion.
    """

    juries: dict[str, LabelScores]
    mcnemar: McNemarResult | None = None


class CriterionLabelComparison(LabelComparison):
    """Label scores of one criterion of one contract, without intervals."""

    contract_id: str
    criterion_id: str


class GroupComparison(_Model):
    """Jury A against jury B on one group of matched records (one solver, or all of them).

    Attributes:
        group: Group value (a solver name) or "overall".
        n_tasks: Matched records (graded samples).
        n_task_clusters: Distinct tasks (contract and sample id), the bootstrap's clusters.
        n_criteria: Matched criteria that both juries judged.
        decision_agreement: Criteria with the same decision (PASS, FAIL or UNSCORED) from both juries.
        common_subset_agreement: Agreement on criteria both juries decided PASS or FAIL with every
            seat's vote valid.
        common_subset_share: Share of criteria in that common subset.
        cohen_kappa: Cohen's kappa between the juries' decisions over all matched criteria, with
            UNSCORED as a third category.
        cohen_kappa_common_subset: Cohen's kappa on the common subset (PASS and FAIL only).
        mcnemar: McNemar's test of PASS by A against PASS by B on criteria both decided.
        outcome_agreement: Tasks with the same outcome (PASS, FAIL or UNSCORED).
        outcome_flip_rate: Tasks whose outcome is PASS in one jury and FAIL in the other, over
            tasks both juries decided.
        outcome_flips: Counts of the two flip directions.
        mean_score_difference: Mean of B's task score minus A's, over tasks both scored.
        cost_ratio_per_criterion: B's judge cost over A's, summed over criteria with known prices in both.
        cost_ratio_per_task: The same over record totals.
        latency_ratio_per_criterion: B's summed judge latency over A's, per criterion.
        latency_ratio_per_task: The same over record totals.
        juries: Within-jury statistics by jury key.
        labels: Both juries against expert labels, when labels were given.
    """

    group: str
    n_tasks: int
    n_task_clusters: int
    n_criteria: int
    decision_agreement: Estimate
    common_subset_agreement: Estimate
    common_subset_share: Estimate
    cohen_kappa: Estimate
    cohen_kappa_common_subset: Estimate
    mcnemar: McNemarResult | None = None
    outcome_agreement: Estimate
    outcome_flip_rate: Estimate
    outcome_flips: dict[str, int]
    mean_score_difference: Estimate
    cost_ratio_per_criterion: Estimate
    cost_ratio_per_task: Estimate
    latency_ratio_per_criterion: Estimate
    latency_ratio_per_task: Estimate
    juries: dict[str, JuryStatistics]
    labels: LabelComparison | None = None


class JurySource(_Model):
    """Where a jury's records came from and what they contain.

    Attributes:
        key: "A" or "B".
        source: The path or description given for the records.
        jury_names: Jury names found in the records.
        seats: Seat names that voted, sorted.
        seat_models: Judge model per seat.
        n_records: Records loaded.
        n_unmatched_records: Records with no counterpart in the other jury, left out.
        n_unmatched_criteria: Criterion results of matched records with no counterpart, left out.
    """

    key: str
    source: str
    jury_names: list[str]
    seats: list[str]
    seat_models: dict[str, str]
    n_records: int
    n_unmatched_records: int
    n_unmatched_criteria: int


class HashMismatch(_Model):
    """A contract id graded under different contract hashes by the two juries."""

    contract_id: str
    hashes_a: list[str]
    hashes_b: list[str]


class BootstrapSettings(_Model):
    """Settings of the task-clustered percentile bootstrap."""

    n_resamples: int
    confidence: float
    seed: int | None


class LabelSource(_Model):
    """The expert label file and how many of its labels matched a criterion decision."""

    source: str
    n_labels: int
    n_matched_labels: int
    n_unmatched_labels: int
    per_criterion: list[CriterionLabelComparison] = Field(default_factory=list)


class ComparisonReport(_Model):
    """The jury comparison: per group (overall first, then by solver), A against B and each jury alone.

    Attributes:
        format: Report format version.
        created_at: UTC timestamp, ISO 8601.
        by: Grouping key: "solver", "contract" or "none".
        juries: Source and content of each jury's records, by key.
        n_matched_records: Records paired across the juries.
        n_matched_criteria: Paired criterion results that both juries judged.
        n_non_jury_criteria: Paired criterion results decided by deterministic checks, left out of
            criterion-level statistics (both juries see the same check result).
        allow_hash_mismatch: Whether records of different contract hashes were paired by contract id.
        hash_mismatches: Contract ids whose hashes differ between the juries.
        bootstrap: Bootstrap settings.
        groups: Per-group comparisons, "overall" first.
        labels: Expert label source and per-criterion scores, when labels were given.
        notes: Facts a reader needs to trust the numbers (records left out, mismatches allowed).
    """

    format: Literal["asymmetryzero/jury-comparison/v1"] = REPORT_FORMAT
    created_at: str
    by: str
    juries: dict[str, JurySource]
    n_matched_records: int
    n_matched_criteria: int
    n_non_jury_criteria: int
    allow_hash_mismatch: bool
    hash_mismatches: list[HashMismatch] = Field(default_factory=list)
    bootstrap: BootstrapSettings
    groups: list[GroupComparison]
    labels: LabelSource | None = None
    notes: list[str] = Field(default_factory=list)

    def group(self, name: str) -> GroupComparison:
        """Return the comparison of one group.

        Raises:
            KeyError: If no group has that name.
        """
        for group in self.groups:
            if group.group == name:
                return group
        raise KeyError(f"group {name!r} not in the report; groups: {[group.group for group in self.groups]}")
