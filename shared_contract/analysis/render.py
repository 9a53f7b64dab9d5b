"""Render a comparison report as statistic rows, a CSV file, JSON and rich terminal tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.table import Table

from shared_contract.analysis.report_model import (
    JURY_KEYS,
    OVERALL,
    ComparisonReport,
    Estimate,
    GroupComparison,
    LabelComparison,
)
from shared_contract.analysis.stats import McNemarResult

BETWEEN = "A vs B"

# Between-jury statistics in display order, with the text shown in tables.
BETWEEN_STATISTICS = {
    "decision_agreement": "Decision agreement",
    "common_subset_agreement": "Agreement, strict common subset",
    "common_subset_share": "Strict common subset share",
    "cohen_kappa": "Cohen's kappa",
    "cohen_kappa_common_subset": "Cohen's kappa, common subset",
    "outcome_agreement": "Task outcome agreement",
    "outcome_flip_rate": "Task outcome flip rate",
    "mean_score_difference": "Mean task score, B - A",
    "cost_ratio_per_criterion": "Cost B/A per criterion",
    "cost_ratio_per_task": "Cost B/A per task",
    "latency_ratio_per_criterion": "Latency B/A per criterion",
    "latency_ratio_per_task": "Latency B/A per task",
}
WITHIN_STATISTICS = {
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "narrowest_majority_share": "Narrowest-majority split share",
    "pass_rate": "PASS rate",
    "unscored_rate": "UNSCORED rate",
    "invalid_vote_rate": "Invalid vote rate",
    "mean_cost_per_criterion_usd": "Cost per criterion (USD)",
    "mean_cost_per_task_usd": "Cost per task (USD)",
    "mean_latency_per_criterion_s": "Judge latency per criterion (s)",
    "mean_latency_per_task_s": "Judge latency per task (s)",
}
LABEL_STATISTICS = {
    "coverage": "Labelled criteria decided",
    "accuracy": "Accuracy",
    "cohen_kappa": "Cohen's kappa",
    "precision": "Precision (PASS)",
    "recall": "Recall (PASS)",
    "f1": "F1 (PASS)",
}


@dataclass(frozen=True)
class StatisticRow:
    """One statistic of one group, as written to the CSV file.

    ``jury`` is "A", "B" or "A vs B"; ``seat`` names a judge for per-judge rows; ``criterion`` is
    "contract_id/criterion_id" for per-criterion label rows. Undefined values are None.
    """

    group: str
    jury: str
    seat: str
    criterion: str
    statistic: str
    estimate: float | None
    low: float | None
    high: float | None
    n_items: int | None
    n_clusters: int | None


def _row(group: str, jury: str, statistic: str, value: Estimate, seat: str = "", criterion: str = "") -> StatisticRow:
    return StatisticRow(
        group, jury, seat, criterion, statistic, value.estimate, value.low, value.high, value.n_items, value.n_clusters
    )


def _count_row(group: str, jury: str, statistic: str, value: float | None, n_items: int | None = None, criterion: str = "") -> StatisticRow:
    return StatisticRow(group, jury, "", criterion, statistic, value, None, None, n_items, None)


def _mcnemar_rows(group: str, prefix: str, result: McNemarResult | None, criterion: str = "") -> Iterator[StatisticRow]:
    if result is None:
        return
    yield _count_row(group, BETWEEN, f"{prefix}mcnemar_statistic", result.statistic, result.n_pairs, criterion)
    yield _count_row(group, BETWEEN, f"{prefix}mcnemar_p_value", result.p_value, result.n_pairs, criterion)


def _label_rows(group: str, labels: LabelComparison, criterion: str = "") -> Iterator[StatisticRow]:
    for key, scores in labels.juries.items():
        for name in LABEL_STATISTICS:
            yield _row(group, key, f"label_{name}", getattr(scores, name), criterion=criterion)
    yield from _mcnemar_rows(group, "label_", labels.mcnemar, criterion)


def group_rows(group: GroupComparison) -> Iterator[StatisticRow]:
    """Yield every statistic of one group as rows."""
    name = group.group
    for statistic in BETWEEN_STATISTICS:
        yield _row(name, BETWEEN, statistic, getattr(group, statistic))
    yield from _mcnemar_rows(name, "", group.mcnemar)
    for direction, count in group.outcome_flips.items():
        yield _count_row(name, BETWEEN, f"outcome_flips ({direction})", count)

    for key in JURY_KEYS:
        jury = group.juries[key]
        for statistic in WITHIN_STATISTICS:
            value = jury.splits.narrowest_majority_share if statistic == "narrowest_majority_share" else getattr(jury, statistic)
            yield _row(name, key, statistic, value)
        for split, share in jury.splits.shares.items():
            yield _count_row(name, key, f"split_share {split}", share, jury.splits.n_items)
        for judge in jury.judges:
            yield _row(name, key, "judge_agreement_with_majority", judge.agreement_with_majority, seat=judge.seat)
            yield _row(name, key, "judge_invalid_vote_rate", judge.invalid_vote_rate, seat=judge.seat)

    if group.labels is not None:
        yield from _label_rows(name, group.labels)


def report_rows(report: ComparisonReport) -> list[StatisticRow]:
    """Flatten a report into rows: every group's statistics, then per-criterion label scores."""
    rows = [row for group in report.groups for row in group_rows(group)]
    if report.labels is not None:
        for item in report.labels.per_criterion:
            rows.extend(_label_rows(OVERALL, item, criterion=f"{item.contract_id}/{item.criterion_id}"))
    return rows


def report_csv(report: ComparisonReport) -> str:
    """Return the report as CSV text, one row per statistic per group (and per jury, seat or criterion)."""
    buffer = io.StringIO()
    fields = list(StatisticRow.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in report_rows(report):
        writer.writerow({key: "" if value is None else value for key, value in asdict(row).items()})
    return buffer.getvalue()


def report_json(report: ComparisonReport) -> str:
    """Return the report as indented JSON (undefined values are null)."""
    return report.model_dump_json(indent=2)


# ---------------------------------------------------------------------------------------------
# Terminal


def format_number(value: float, digits: int = 3) -> str:
    """Format a number with fixed decimals; values that round to zero print as 0, never -0."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def format_estimate(value: Estimate, digits: int = 3) -> str:
    """Format an estimate as "0.812 [0.770, 0.851]", or "n/a" when undefined."""
    if value.estimate is None:
        return "n/a"
    text = format_number(value.estimate, digits)
    if value.low is not None and value.high is not None:
        text += f" [{format_number(value.low, digits)}, {format_number(value.high, digits)}]"
    return text


def _group_title(group: GroupComparison) -> str:
    return f"{group.group}\n{group.n_tasks} tasks, {group.n_criteria} criteria"


def terminal_tables(report: ComparisonReport) -> list[Table]:
    """Build rich tables: A against B, each jury alone, per-judge agreement and expert labels."""
    confidence = f"{report.bootstrap.confidence:.0%}"
    between = Table(title=f"Jury A vs jury B (task-clustered {confidence} intervals)", show_lines=False)
    between.add_column("statistic")
    for group in report.groups:
        between.add_column(_group_title(group), justify="right")
    for statistic, text in BETWEEN_STATISTICS.items():
        between.add_row(text, *(format_estimate(getattr(group, statistic)) for group in report.groups))
    between.add_row(
        "McNemar p (PASS rate A vs B)",
        *("n/a" if group.mcnemar is None else f"{group.mcnemar.p_value:.3g}" for group in report.groups),
    )

    within = Table(title="Within each jury")
    within.add_column("statistic")
    within.add_column("jury")
    for group in report.groups:
        within.add_column(_group_title(group), justify="right")
    for statistic, text in WITHIN_STATISTICS.items():
        for key in JURY_KEYS:
            cells = []
            for group in report.groups:
                jury = group.juries[key]
                value = jury.splits.narrowest_majority_share if statistic == "narrowest_majority_share" else getattr(jury, statistic)
                cells.append(format_estimate(value, digits=4 if "cost" in statistic else 3))
            label = text
            if statistic == "narrowest_majority_share" and report.groups[0].juries[key].splits.narrowest_majority_split:
                label = f"{text} ({report.groups[0].juries[key].splits.narrowest_majority_split})"
            within.add_row(label, key, *cells)

    overall = report.groups[0]
    judges = Table(title=f"Judge agreement with its jury's majority ({overall.group})")
    for column in ("jury", "seat", "model", "agreement", "invalid votes"):
        judges.add_column(column, justify="right" if column in ("agreement", "invalid votes") else "left")
    for key in JURY_KEYS:
        for judge in overall.juries[key].judges:
            judges.add_row(
                key, judge.seat, judge.model, format_estimate(judge.agreement_with_majority), format_estimate(judge.invalid_vote_rate)
            )

    tables = [between, within, judges]
    if report.labels is not None:
        tables.append(_labels_table(report))
    return tables


def _labels_table(report: ComparisonReport) -> Table:
    table = Table(title="Against expert labels")
    table.add_column("statistic")
    table.add_column("jury")
    for group in report.groups:
        table.add_column(_group_title(group), justify="right")
    for statistic, text in LABEL_STATISTICS.items():
        for key in JURY_KEYS:
            cells = [
                "n/a" if group.labels is None else format_estimate(getattr(group.labels.juries[key], statistic))
                for group in report.groups
            ]
            table.add_row(text, key, *cells)
    return table


def print_report(report: ComparisonReport, console: Console) -> None:
    """Print the terminal tables and the report's notes."""
    for key, source in report.juries.items():
        names = ", ".join(source.jury_names) or "unnamed"
        console.print(f"jury {key}: {source.source} ({names}; {len(source.seats)} seats, {source.n_records} records)")
    for table in terminal_tables(report):
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
