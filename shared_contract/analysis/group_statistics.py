"""Statistics of one group of paired records: A against B, each jury alone, and both against expert labels.

All per-item values of a group go into one matrix of per-task sums, and one bootstrap over tasks
gives every interval (see ``sum_statistics``). Point estimates come from the functions of
``shared_contract.analysis.stats`` where it has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shared_contract.analysis.columns import (
    DECISION_LABELS,
    FAIL_CODE,
    INVALID_CODE,
    NO_SEAT,
    NOT_CALLED_CODE,
    PASS_CODE,
    UNSCORED_CODE,
)
from shared_contract.analysis.expert import NO_LABEL
from shared_contract.analysis.report_model import (
    JURY_KEYS,
    BootstrapSettings,
    Estimate,
    GroupComparison,
    JudgeAgreement,
    JuryStatistics,
    LabelComparison,
    LabelScores,
    SplitSummary,
    finite_or_none,
)
from shared_contract.analysis.stats import (
    McNemarResult,
    agreement_rate,
    classification_report,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    mcnemar_test,
    split_distribution,
)
from shared_contract.analysis.sum_statistics import (
    ColumnSums,
    StatisticFromSums,
    bootstrap_statistics,
    cohen_kappa_from_cells,
    f1_from_counts,
    fleiss_item_columns,
    fleiss_kappa_from_sums,
    fleiss_ratings_per_item,
    gwet_ac1_from_sums,
    gwet_item_columns,
    krippendorff_alpha_from_sums,
    krippendorff_item_columns,
    ratio,
)

_LABEL_NAMES = np.array(DECISION_LABELS)
Pair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class GroupItems:
    """Paired items of both juries: tasks (paired records) and paired jury criteria.

    Tuples hold jury A's array, then jury B's. Task arrays have one entry per paired record and
    criterion arrays one per paired jury criterion.
    """

    group_names: list[str]
    task_cluster: np.ndarray
    task_group: np.ndarray
    outcome: Pair
    score: Pair
    task_cost: Pair
    task_latency: Pair
    criterion_cluster: np.ndarray
    criterion_group: np.ndarray
    decision: Pair
    votes: Pair
    panel: Pair
    criterion_cost: Pair
    criterion_latency: Pair
    seats: tuple[tuple[str, ...], tuple[str, ...]]
    seat_models: tuple[tuple[str, ...], tuple[str, ...]]
    criterion_contract: np.ndarray
    criterion_id: np.ndarray
    criterion_solver: np.ndarray
    criterion_sample: np.ndarray
    label: np.ndarray

    @property
    def n_criteria(self) -> int:
        """Paired jury criteria."""
        return int(self.criterion_cluster.shape[0])

    @property
    def n_tasks(self) -> int:
        """Paired records."""
        return int(self.task_cluster.shape[0])


class _Collector:
    """Collects sum columns and statistics of one group, then bootstraps them together."""

    def __init__(self, sums: ColumnSums, n_clusters: int):
        self.sums = sums
        self.n_clusters = n_clusters
        self.functions: dict[str, StatisticFromSums] = {}
        self.n_items: dict[str, int] = {}
        self.points: dict[str, float] = {}

    def rate(self, name: str, level: str, numerator: np.ndarray, denominator: np.ndarray) -> None:
        """Add sum(numerator) / sum(denominator); n_items is the denominator's sum when it is a mask."""
        top = self.sums.add(level, numerator)
        bottom = self.sums.add(level, denominator)
        self.functions[name] = ratio(top, bottom)
        self.n_items[name] = int(np.count_nonzero(denominator)) if denominator.dtype == bool else int(denominator.size)

    def add(self, name: str, function: StatisticFromSums, n_items: int, point: float | None = None) -> None:
        """Add a statistic built on columns already summed, with an optional reference point estimate."""
        self.functions[name] = function
        self.n_items[name] = n_items
        if point is not None:
            self.points[name] = point

    def point(self, name: str, compute: Callable[[], float], n_items: int) -> None:
        """Use a reference function's value as the point estimate, when there are items to compute it on."""
        if n_items > 0:
            self.points[name] = compute()

    def finish(self, settings: BootstrapSettings) -> dict[str, Estimate]:
        """Run the shared bootstrap and return every statistic as an Estimate."""
        intervals = bootstrap_statistics(
            self.sums.matrix(), self.functions, settings.n_resamples, settings.confidence, settings.seed
        )
        estimates = {}
        for name, interval in intervals.items():
            value = finite_or_none(self.points.get(name, interval.estimate))
            estimates[name] = Estimate(
                estimate=value,
                low=None if value is None else finite_or_none(interval.low),
                high=None if value is None else finite_or_none(interval.high),
                n_items=self.n_items[name],
                n_clusters=interval.n_clusters,
            )
        return estimates


# ---------------------------------------------------------------------------------------------
# Vote counts


@dataclass(frozen=True)
class _VoteCounts:
    passed: np.ndarray
    failed: np.ndarray
    invalid: np.ndarray
    called: np.ndarray

    @classmethod
    def of(cls, votes: np.ndarray) -> _VoteCounts:
        passed = np.count_nonzero(votes == PASS_CODE, axis=1).astype(np.int64)
        failed = np.count_nonzero(votes == FAIL_CODE, axis=1).astype(np.int64)
        invalid = np.count_nonzero(votes == INVALID_CODE, axis=1).astype(np.int64)
        return cls(passed=passed, failed=failed, invalid=invalid, called=passed + failed + invalid)

    @property
    def valid(self) -> np.ndarray:
        return self.passed + self.failed


def _vote_matrix(votes: np.ndarray) -> np.ndarray:
    """Return votes as floats (0 FAIL, 1 PASS) with NaN for invalid, uncalled and absent votes."""
    matrix = votes.astype(np.float64)
    matrix[(votes != PASS_CODE) & (votes != FAIL_CODE)] = np.nan
    return matrix


# ---------------------------------------------------------------------------------------------
# The group


def compare_group(
    name: str, items: GroupItems, criterion_mask: np.ndarray, task_mask: np.ndarray, settings: BootstrapSettings
) -> GroupComparison:
    """Compute every statistic of one group of paired records.

    Args:
        name: Group name for the report.
        items: Paired items of all groups.
        criterion_mask: Paired criteria in the group.
        task_mask: Paired records in the group.
        settings: Bootstrap settings.

    Returns:
        The group's comparison.
    """
    criteria = np.flatnonzero(criterion_mask)
    tasks = np.flatnonzero(task_mask)
    cluster_ids = np.concatenate([items.criterion_cluster[criteria], items.task_cluster[tasks]])
    unique_clusters, inverse = np.unique(cluster_ids, return_inverse=True)
    n_clusters = int(unique_clusters.shape[0])
    sums = ColumnSums(n_clusters, {"criterion": inverse[: criteria.size], "task": inverse[criteria.size :]})
    collector = _Collector(sums, n_clusters)

    decisions = (items.decision[0][criteria], items.decision[1][criteria])
    counts = (_VoteCounts.of(items.votes[0][criteria]), _VoteCounts.of(items.votes[1][criteria]))
    panels = (items.panel[0][criteria], items.panel[1][criteria])

    mcnemar = _between_juries(collector, decisions, counts, panels)
    flips = _outcomes(collector, items, tasks)
    _costs(collector, items, criteria, tasks)
    jury_parts = [
        _within_jury(collector, key, items.votes[index][criteria], decisions[index], counts[index], panels[index])
        for index, key in enumerate(JURY_KEYS)
    ]
    labels = items.label[criteria]
    has_labels = bool(np.any(labels != NO_LABEL))
    if has_labels:
        _label_statistics(collector, labels, decisions)

    estimates = collector.finish(settings)

    juries = {
        key: _jury_statistics(key, estimates, part, items.seats[index], items.seat_models[index])
        for index, (key, part) in enumerate(zip(JURY_KEYS, jury_parts, strict=True))
    }
    return GroupComparison(
        group=name,
        n_tasks=int(tasks.size),
        n_task_clusters=n_clusters,
        n_criteria=int(criteria.size),
        decision_agreement=estimates["decision_agreement"],
        common_subset_agreement=estimates["common_subset_agreement"],
        common_subset_share=estimates["common_subset_share"],
        cohen_kappa=estimates["cohen_kappa"],
        cohen_kappa_common_subset=estimates["cohen_kappa_common_subset"],
        mcnemar=mcnemar,
        outcome_agreement=estimates["outcome_agreement"],
        outcome_flip_rate=estimates["outcome_flip_rate"],
        outcome_flips=flips,
        mean_score_difference=estimates["mean_score_difference"],
        cost_ratio_per_criterion=estimates["cost_ratio_per_criterion"],
        cost_ratio_per_task=estimates["cost_ratio_per_task"],
        latency_ratio_per_criterion=estimates["latency_ratio_per_criterion"],
        latency_ratio_per_task=estimates["latency_ratio_per_task"],
        juries=juries,
        labels=_label_comparison(estimates, labels, decisions) if has_labels else None,
    )


def _between_juries(
    collector: _Collector, decisions: Pair, counts: tuple[_VoteCounts, _VoteCounts], panels: Pair
) -> McNemarResult | None:
    decision_a, decision_b = decisions
    n_items = decision_a.shape[0]
    everything = np.ones(n_items, dtype=bool)
    decided_a = decision_a != UNSCORED_CODE
    decided_b = decision_b != UNSCORED_CODE
    both_decided = decided_a & decided_b
    # The strict common subset: both juries decided, and every seat of both panels voted PASS or FAIL.
    common = both_decided & (counts[0].valid == panels[0]) & (counts[1].valid == panels[1])
    agree = decision_a == decision_b

    collector.rate("decision_agreement", "criterion", agree, everything)
    collector.rate("common_subset_agreement", "criterion", agree & common, common)
    collector.rate("common_subset_share", "criterion", common, everything)

    labels_a = _LABEL_NAMES[decision_a]
    labels_b = _LABEL_NAMES[decision_b]
    collector.point("decision_agreement", lambda: agreement_rate(labels_a, labels_b), n_items)
    n_common = int(np.count_nonzero(common))
    collector.point("common_subset_agreement", lambda: agreement_rate(labels_a[common], labels_b[common]), n_common)

    cells = [collector.sums.add("criterion", (decision_a == i) & (decision_b == j)) for i in range(3) for j in range(3)]
    collector.add("cohen_kappa", cohen_kappa_from_cells(cells, 3), n_items)
    collector.point("cohen_kappa", lambda: cohen_kappa(labels_a, labels_b, categories=DECISION_LABELS), n_items)

    common_cells = [
        collector.sums.add("criterion", common & (decision_a == i) & (decision_b == j))
        for i in (FAIL_CODE, PASS_CODE)
        for j in (FAIL_CODE, PASS_CODE)
    ]
    collector.add("cohen_kappa_common_subset", cohen_kappa_from_cells(common_cells, 2), n_common)
    collector.point(
        "cohen_kappa_common_subset",
        lambda: cohen_kappa(labels_a[common], labels_b[common], categories=DECISION_LABELS[:2]),
        n_common,
    )

    if not both_decided.any():
        return None
    return mcnemar_test(decision_a[both_decided] == PASS_CODE, decision_b[both_decided] == PASS_CODE)


def _outcomes(collector: _Collector, items: GroupItems, tasks: np.ndarray) -> dict[str, int]:
    outcome_a, outcome_b = items.outcome[0][tasks], items.outcome[1][tasks]
    everything = np.ones(tasks.size, dtype=bool)
    both_decided = (outcome_a != UNSCORED_CODE) & (outcome_b != UNSCORED_CODE)
    flip = both_decided & (outcome_a != outcome_b)
    collector.rate("outcome_agreement", "task", outcome_a == outcome_b, everything)
    collector.rate("outcome_flip_rate", "task", flip, both_decided)

    score_a, score_b = items.score[0][tasks], items.score[1][tasks]
    both_scored = ~np.isnan(score_a) & ~np.isnan(score_b)
    collector.rate("mean_score_difference", "task", np.where(both_scored, score_b - score_a, 0.0), both_scored)

    return {
        "A PASS, B FAIL": int(np.count_nonzero(flip & (outcome_a == PASS_CODE))),
        "A FAIL, B PASS": int(np.count_nonzero(flip & (outcome_a == FAIL_CODE))),
    }


def _costs(collector: _Collector, items: GroupItems, criteria: np.ndarray, tasks: np.ndarray) -> None:
    levels = (
        ("criterion", criteria, items.criterion_cost, items.criterion_latency),
        ("task", tasks, items.task_cost, items.task_latency),
    )
    for level, rows, cost, latency in levels:
        cost_a, cost_b = cost[0][rows], cost[1][rows]
        known_both = ~np.isnan(cost_a) & ~np.isnan(cost_b)
        collector.rate(
            f"cost_ratio_per_{level}", level, np.where(known_both, cost_b, 0.0), np.where(known_both, cost_a, 0.0)
        )
        collector.n_items[f"cost_ratio_per_{level}"] = int(np.count_nonzero(known_both))
        collector.rate(f"latency_ratio_per_{level}", level, latency[1][rows], latency[0][rows])

        for index, key in enumerate(JURY_KEYS):
            known = ~np.isnan(cost[index][rows])
            collector.rate(f"{key}.mean_cost_per_{level}_usd", level, np.where(known, cost[index][rows], 0.0), known)
            collector.rate(
                f"{key}.mean_latency_per_{level}_s", level, latency[index][rows], np.ones(rows.size, dtype=bool)
            )


# ---------------------------------------------------------------------------------------------
# Within one jury


@dataclass(frozen=True)
class _JuryPart:
    splits: SplitSummary
    split_share_name: str


def _within_jury(
    collector: _Collector,
    key: str,
    votes: np.ndarray,
    decision: np.ndarray,
    counts: _VoteCounts,
    panel: np.ndarray,
) -> _JuryPart:
    n_items = decision.shape[0]
    passed, failed = counts.passed, counts.failed
    matrix = _vote_matrix(votes) if votes.shape[1] >= 2 else None

    ratings_per_item = fleiss_ratings_per_item(passed, failed)
    fleiss_columns = collector.sums.add_many("criterion", fleiss_item_columns(passed, failed, ratings_per_item))
    n_fleiss = int(np.count_nonzero(passed + failed == ratings_per_item)) if ratings_per_item else 0
    collector.add(f"{key}.fleiss_kappa", fleiss_kappa_from_sums(fleiss_columns, ratings_per_item), n_fleiss)

    alpha_columns = collector.sums.add_many("criterion", krippendorff_item_columns(passed, failed))
    n_pairable = int(np.count_nonzero(passed + failed >= 2))
    collector.add(f"{key}.krippendorff_alpha", krippendorff_alpha_from_sums(alpha_columns), n_pairable)

    gwet_columns = collector.sums.add_many("criterion", gwet_item_columns(passed, failed))
    collector.add(f"{key}.gwet_ac1", gwet_ac1_from_sums(gwet_columns), n_pairable)

    if matrix is not None and n_items > 0:
        categories = (float(FAIL_CODE), float(PASS_CODE))
        collector.point(f"{key}.fleiss_kappa", lambda: fleiss_kappa(matrix, categories).kappa, n_fleiss)
        collector.point(f"{key}.krippendorff_alpha", lambda: krippendorff_alpha(matrix, categories), n_pairable)
        collector.point(f"{key}.gwet_ac1", lambda: gwet_ac1(matrix, categories), n_pairable)

    decided = decision != UNSCORED_CODE
    collector.rate(f"{key}.pass_rate", "criterion", decision == PASS_CODE, decided)
    collector.rate(f"{key}.unscored_rate", "criterion", ~decided, np.ones(n_items, dtype=bool))
    collector.rate(f"{key}.invalid_vote_rate", "criterion", counts.invalid, counts.called)
    collector.n_items[f"{key}.invalid_vote_rate"] = int(counts.called.sum())

    splits, split_share_name = _splits(collector, key, passed, failed, panel)
    _judges(collector, key, votes, passed, failed)
    return _JuryPart(splits=splits, split_share_name=split_share_name)


def _splits(
    collector: _Collector, key: str, passed: np.ndarray, failed: np.ndarray, panel: np.ndarray
) -> tuple[SplitSummary, str]:
    name = f"{key}.narrowest_majority_share"
    if panel.size == 0 or not np.any(panel > 0):
        collector.rate(name, "criterion", np.zeros(panel.size, dtype=bool), np.zeros(panel.size, dtype=bool))
        empty = SplitSummary(
            panel_size=0,
            counts={},
            shares={},
            narrowest_majority_split="",
            narrowest_majority_share=Estimate(estimate=None),
            n_items=0,
            n_incomplete=0,
            n_other_panel=int(panel.size),
        )
        return empty, name

    # One distribution needs one panel size: the most common one, the larger on a tie.
    panel_counts = np.bincount(panel[panel > 0])
    panel_size = len(panel_counts) - 1 - int(np.argmax(panel_counts[::-1]))
    same_panel = panel == panel_size
    distribution = split_distribution(passed[same_panel], failed[same_panel], panel_size) if same_panel.any() else None

    narrowest_majority = panel_size // 2 + 1
    complete = same_panel & (passed + failed == panel_size)
    narrow = complete & (np.maximum(passed, failed) == narrowest_majority)
    collector.rate(name, "criterion", narrow, complete)

    summary = SplitSummary(
        panel_size=panel_size,
        counts=distribution.counts if distribution else {},
        shares={split: finite_or_none(share) for split, share in distribution.shares.items()} if distribution else {},
        narrowest_majority_split=f"{narrowest_majority}-{panel_size - narrowest_majority}",
        narrowest_majority_share=Estimate(estimate=None),
        n_items=distribution.n_items if distribution else 0,
        n_incomplete=distribution.n_incomplete if distribution else 0,
        n_other_panel=int(np.count_nonzero(~same_panel)),
    )
    return summary, name


def _majority(passed: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Return the strict majority of valid votes per item: PASS_CODE, FAIL_CODE, or -1 on a tie."""
    return np.where(passed > failed, PASS_CODE, np.where(failed > passed, FAIL_CODE, -1))


def _judges(collector: _Collector, key: str, votes: np.ndarray, passed: np.ndarray, failed: np.ndarray) -> None:
    majority = _majority(passed, failed)
    for column in range(votes.shape[1]):
        vote = votes[:, column]
        valid = (vote == PASS_CODE) | (vote == FAIL_CODE)
        counted = valid & (majority >= 0)
        collector.rate(f"{key}.judge.{column}.agreement", "criterion", counted & (vote == majority), counted)
        called = (vote != NO_SEAT) & (vote != NOT_CALLED_CODE)
        collector.rate(f"{key}.judge.{column}.invalid", "criterion", vote == INVALID_CODE, called)


def _jury_statistics(
    key: str, estimates: dict[str, Estimate], part: _JuryPart, seats: tuple[str, ...], models: tuple[str, ...]
) -> JuryStatistics:
    splits = part.splits.model_copy(update={"narrowest_majority_share": estimates[part.split_share_name]})
    judges = [
        JudgeAgreement(
            seat=seat,
            model=model,
            agreement_with_majority=estimates[f"{key}.judge.{column}.agreement"],
            invalid_vote_rate=estimates[f"{key}.judge.{column}.invalid"],
        )
        for column, (seat, model) in enumerate(zip(seats, models, strict=True))
    ]
    return JuryStatistics(
        fleiss_kappa=estimates[f"{key}.fleiss_kappa"],
        krippendorff_alpha=estimates[f"{key}.krippendorff_alpha"],
        gwet_ac1=estimates[f"{key}.gwet_ac1"],
        splits=splits,
        pass_rate=estimates[f"{key}.pass_rate"],
        unscored_rate=estimates[f"{key}.unscored_rate"],
        invalid_vote_rate=estimates[f"{key}.invalid_vote_rate"],
        mean_cost_per_criterion_usd=estimates[f"{key}.mean_cost_per_criterion_usd"],
        mean_cost_per_task_usd=estimates[f"{key}.mean_cost_per_task_usd"],
        mean_latency_per_criterion_s=estimates[f"{key}.mean_latency_per_criterion_s"],
        mean_latency_per_task_s=estimates[f"{key}.mean_latency_per_task_s"],
        judges=judges,
    )


# ---------------------------------------------------------------------------------------------
# Expert labels


def _label_statistics(collector: _Collector, labels: np.ndarray, decisions: Pair) -> None:
    labelled = labels != NO_LABEL
    for index, key in enumerate(JURY_KEYS):
        decision = decisions[index]
        decided = labelled & (decision != UNSCORED_CODE)
        prefix = f"labels.{key}"
        collector.rate(f"{prefix}.coverage", "criterion", decided, labelled)
        collector.rate(f"{prefix}.accuracy", "criterion", decided & (decision == labels), decided)

        cells = [
            collector.sums.add("criterion", decided & (labels == truth) & (decision == predicted))
            for truth in (FAIL_CODE, PASS_CODE)
            for predicted in (FAIL_CODE, PASS_CODE)
        ]
        n_decided = int(np.count_nonzero(decided))
        collector.add(f"{prefix}.cohen_kappa", cohen_kappa_from_cells(cells, 2), n_decided)
        # Row-major cells: index 3 is (PASS, PASS), 1 is (FAIL, PASS) and 2 is (PASS, FAIL).
        true_positive, false_positive, false_negative = cells[3], cells[1], cells[2]
        predicted_positive = collector.sums.add("criterion", decided & (decision == PASS_CODE))
        actual_positive = collector.sums.add("criterion", decided & (labels == PASS_CODE))
        collector.add(f"{prefix}.precision", ratio(true_positive, predicted_positive), n_decided)
        collector.add(f"{prefix}.recall", ratio(true_positive, actual_positive), n_decided)
        collector.add(f"{prefix}.f1", f1_from_counts(true_positive, false_positive, false_negative), n_decided)

        if n_decided:
            report = classification_report(_LABEL_NAMES[labels[decided]], _LABEL_NAMES[decision[decided]])
            collector.points[f"{prefix}.accuracy"] = report.accuracy
            collector.points[f"{prefix}.cohen_kappa"] = report.cohen_kappa
            collector.points[f"{prefix}.precision"] = report.precision
            collector.points[f"{prefix}.recall"] = report.recall
            collector.points[f"{prefix}.f1"] = report.f1


def _confusion(labels: np.ndarray, decision: np.ndarray) -> dict[str, dict[str, int]]:
    labelled = labels != NO_LABEL
    return {
        DECISION_LABELS[truth]: {
            DECISION_LABELS[predicted]: int(np.count_nonzero(labelled & (labels == truth) & (decision == predicted)))
            for predicted in (FAIL_CODE, PASS_CODE, UNSCORED_CODE)
        }
        for truth in (FAIL_CODE, PASS_CODE)
    }


def _label_mcnemar(labels: np.ndarray, decisions: Pair) -> McNemarResult | None:
    both = (labels != NO_LABEL) & (decisions[0] != UNSCORED_CODE) & (decisions[1] != UNSCORED_CODE)
    if not both.any():
        return None
    return mcnemar_test(decisions[0][both] == labels[both], decisions[1][both] == labels[both])


def _label_comparison(estimates: dict[str, Estimate], labels: np.ndarray, decisions: Pair) -> LabelComparison:
    juries = {}
    n_labelled = int(np.count_nonzero(labels != NO_LABEL))
    for index, key in enumerate(JURY_KEYS):
        prefix = f"labels.{key}"
        juries[key] = LabelScores(
            n_labelled=n_labelled,
            n_decided=estimates[f"{prefix}.accuracy"].n_items,
            coverage=estimates[f"{prefix}.coverage"],
            accuracy=estimates[f"{prefix}.accuracy"],
            cohen_kappa=estimates[f"{prefix}.cohen_kappa"],
            precision=estimates[f"{prefix}.precision"],
            recall=estimates[f"{prefix}.recall"],
            f1=estimates[f"{prefix}.f1"],
            confusion=_confusion(labels, decisions[index]),
        )
    return LabelComparison(juries=juries, mcnemar=_label_mcnemar(labels, decisions))


def label_scores_without_intervals(items: GroupItems, rows: np.ndarray) -> LabelComparison:
    """Score both juries against the expert labels on some paired criteria, without intervals.

    Args:
        items: Paired items with labels attached.
        rows: Criterion rows to score, all labelled.

    Returns:
        Point estimates and confusion tables per jury, and McNemar's test between the juries.
    """
    labels = items.label[rows]
    decisions = (items.decision[0][rows], items.decision[1][rows])
    juries = {}
    for index, key in enumerate(JURY_KEYS):
        decision = decisions[index]
        decided = decision != UNSCORED_CODE
        n_decided = int(np.count_nonzero(decided))
        values: dict[str, float | None] = dict.fromkeys(("accuracy", "cohen_kappa", "precision", "recall", "f1"))
        if n_decided:
            report = classification_report(_LABEL_NAMES[labels[decided]], _LABEL_NAMES[decision[decided]])
            values = {
                "accuracy": report.accuracy,
                "cohen_kappa": report.cohen_kappa,
                "precision": report.precision,
                "recall": report.recall,
                "f1": report.f1,
            }
        juries[key] = LabelScores(
            n_labelled=int(rows.size),
            n_decided=n_decided,
            coverage=Estimate(estimate=n_decided / rows.size if rows.size else None, n_items=int(rows.size)),
            confusion=_confusion(labels, decision),
            **{name: Estimate(estimate=finite_or_none(value), n_items=n_decided) for name, value in values.items()},
        )
    return LabelComparison(juries=juries, mcnemar=_label_mcnemar(labels, decisions))


__all__ = ["GroupItems", "compare_group", "label_scores_without_intervals"]
