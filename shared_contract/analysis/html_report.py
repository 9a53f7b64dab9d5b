"""Render a comparison report as one self-contained HTML file: inline CSS and plots as base64 PNG.

Plots use matplotlib's object-oriented API (``Figure`` draws with the Agg canvas), so no global
backend is set and no display is needed.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.figure import Figure

from shared_contract.analysis.render import BETWEEN_STATISTICS, LABEL_STATISTICS, WITHIN_STATISTICS, format_number
from shared_contract.analysis.report_model import JURY_KEYS, ComparisonReport, Estimate, GroupComparison

JURY_COLORS = {"A": "#1f77b4", "B": "#ff7f0e"}
SERIES_COLORS = ("#1f77b4", "#2ca02c", "#9467bd")
# Rows beyond this are left out of the per-criterion label table, and a line under it counts them.
MAX_CRITERION_ROWS = 500

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #1d2330; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #e3e7ee; padding-bottom: 0.3rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.meta { color: #5b6474; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.86rem; }
th, td { border: 1px solid #d9dee7; padding: 0.3rem 0.55rem; text-align: right; vertical-align: top; }
th { background: #f2f4f8; font-weight: 600; }
td.name, th.name { text-align: left; }
tr:nth-child(even) td { background: #fafbfc; }
.interval { color: #6b7385; font-size: 0.78rem; white-space: nowrap; }
.notes li { margin-bottom: 0.2rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
figure { margin: 0; border: 1px solid #e3e7ee; border-radius: 6px; padding: 0.5rem; background: #fff;
         flex: 0 1 560px; box-sizing: border-box; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.82rem; color: #5b6474; margin-top: 0.3rem; max-width: 560px; }
.scroll { overflow-x: auto; }
"""


def _figure_png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _errors(values: Sequence[Estimate]) -> tuple[np.ndarray, np.ndarray]:
    """Return (points, 2 x n error lengths) with NaN where undefined."""
    points = np.array([np.nan if v.estimate is None else v.estimate for v in values], dtype=float)
    low = np.array([np.nan if v.low is None else v.low for v in values], dtype=float)
    high = np.array([np.nan if v.high is None else v.high for v in values], dtype=float)
    errors = np.vstack([np.nan_to_num(points - low, nan=0.0), np.nan_to_num(high - points, nan=0.0)])
    return points, np.clip(errors, 0.0, None)


def agreement_plot(groups: Sequence[GroupComparison]) -> str:
    """Plot decision, common-subset and task-outcome agreement per group with their intervals."""
    series = (
        ("decision_agreement", "criterion decisions"),
        ("common_subset_agreement", "strict common subset"),
        ("outcome_agreement", "task outcomes"),
    )
    height = max(2.6, 0.55 * len(groups) * len(series) / 2 + 1.2)
    figure = Figure(figsize=(7.2, height))
    axes = figure.add_subplot()
    positions = np.arange(len(groups))[::-1].astype(float)
    for offset, ((field, label), color) in enumerate(zip(series, SERIES_COLORS, strict=True)):
        points, errors = _errors([getattr(group, field) for group in groups])
        axes.errorbar(
            points, positions + (1 - offset) * 0.22, xerr=errors, fmt="o", color=color, capsize=3, label=label
        )
    axes.set_yticks(positions, [group.group for group in groups])
    axes.set_xlim(-0.02, 1.02)
    axes.set_xlabel("agreement of jury A and jury B")
    axes.grid(axis="x", alpha=0.3)
    # Below the axes, so the legend never hides a point.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)
    return _figure_png(figure)


def split_plot(group: GroupComparison) -> str:
    """Plot each jury's vote split shares, the narrowest majority highlighted."""
    figure = Figure(figsize=(7.2, 2.8))
    for index, key in enumerate(JURY_KEYS):
        axes = figure.add_subplot(1, 2, index + 1)
        splits = group.juries[key].splits
        labels = list(splits.shares)
        shares = [0.0 if splits.shares[label] is None else splits.shares[label] for label in labels]
        colors = [JURY_COLORS[key] if label != splits.narrowest_majority_split else "#d62728" for label in labels]
        axes.bar(labels, shares, color=colors)
        for position, (share, label) in enumerate(zip(shares, labels, strict=True)):
            axes.text(position, share + 0.02, f"{share:.0%}\n({splits.counts.get(label, 0)})", ha="center", fontsize=7)
        axes.set_ylim(0, 1.18)
        axes.set_title(f"jury {key}: {splits.n_items} complete criteria", fontsize=9)
        axes.set_xlabel("split (majority-minority)")
        if index == 0:
            axes.set_ylabel("share of criteria")
        if not labels:
            axes.text(0.5, 0.5, "no complete vote", ha="center", transform=axes.transAxes)
    figure.tight_layout()
    return _figure_png(figure)


def cost_plot(groups: Sequence[GroupComparison]) -> tuple[str, str]:
    """Plot decision agreement against B's cost (or judge latency, when prices are unknown) as a share of A's.

    Returns:
        The PNG as base64 and the quantity on the x axis: "cost" or "judge latency".
    """
    use_cost = any(group.cost_ratio_per_criterion.estimate is not None for group in groups)
    quantity = "cost" if use_cost else "judge latency"
    field = "cost_ratio_per_criterion" if use_cost else "latency_ratio_per_criterion"
    figure = Figure(figsize=(6.2, 3.8))
    axes = figure.add_subplot()
    x_points, x_errors = _errors([getattr(group, field) for group in groups])
    y_points, y_errors = _errors([group.decision_agreement for group in groups])
    if np.all(np.isnan(x_points)):
        axes.text(0.5, 0.5, "no cost or latency recorded for both juries", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _figure_png(figure), quantity
    for index, group in enumerate(groups):
        marker = "s" if index == 0 else "o"
        axes.errorbar(
            x_points[index], y_points[index], xerr=x_errors[:, [index]], yerr=y_errors[:, [index]],
            fmt=marker, capsize=3, label=group.group,
        )
    axes.axvline(1.0, color="#888", linestyle="--", linewidth=0.8)
    axes.set_xlabel(f"{quantity} of jury B as a share of jury A, per criterion")
    axes.set_ylabel("decision agreement")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    return _figure_png(figure), quantity


def dissent_plot(group: GroupComparison) -> str:
    """Plot each judge's dissent from its own jury's majority (1 - agreement) with intervals."""
    judges = [(key, judge) for key in JURY_KEYS for judge in group.juries[key].judges]
    figure = Figure(figsize=(6.2, max(2.4, 0.32 * len(judges) + 1.0)))
    axes = figure.add_subplot()
    if not judges:
        axes.text(0.5, 0.5, "no judge votes", ha="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _figure_png(figure)
    dissent = [
        Estimate(
            estimate=None if j.agreement_with_majority.estimate is None else 1.0 - j.agreement_with_majority.estimate,
            low=None if j.agreement_with_majority.high is None else 1.0 - j.agreement_with_majority.high,
            high=None if j.agreement_with_majority.low is None else 1.0 - j.agreement_with_majority.low,
        )
        for _, j in judges
    ]
    points, errors = _errors(dissent)
    positions = np.arange(len(judges))[::-1]
    axes.barh(
        positions, np.nan_to_num(points), xerr=errors, color=[JURY_COLORS[key] for key, _ in judges], capsize=3, alpha=0.85
    )
    for position, point in zip(positions, points, strict=True):
        label = "n/a" if np.isnan(point) else f"{point:.0%}"
        axes.text(0.005, position, label, va="center", ha="left", fontsize=7, color="#222")
    axes.set_yticks(positions, [f"{key} {judge.seat} ({_short(judge.model)})" for key, judge in judges], fontsize=8)
    axes.set_xlabel("dissent from own jury's majority")
    axes.set_xlim(0, max(0.1, float(np.nanmax(points + errors[1])) * 1.15 if np.any(~np.isnan(points)) else 0.1))
    axes.grid(axis="x", alpha=0.3)
    return _figure_png(figure)


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


# ---------------------------------------------------------------------------------------------
# HTML


def _cell(value: Estimate, digits: int = 3) -> str:
    if value.estimate is None:
        return "<td>n/a</td>"
    text = format_number(value.estimate, digits)
    if value.low is not None and value.high is not None:
        interval = f"[{format_number(value.low, digits)}, {format_number(value.high, digits)}]"
        text += f'<br><span class="interval">{interval}</span>'
    return f"<td>{text}</td>"


def _table(header: Iterable[str], rows: Iterable[str]) -> str:
    head = "".join(f'<th class="name">{html.escape(h)}</th>' if i == 0 else f"<th>{html.escape(h)}</th>" for i, h in enumerate(header))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _group_headers(groups: Sequence[GroupComparison]) -> list[str]:
    return [f"{group.group} ({group.n_tasks} tasks, {group.n_criteria} criteria)" for group in groups]


def _between_table(report: ComparisonReport) -> str:
    rows = []
    for statistic, text in BETWEEN_STATISTICS.items():
        cells = "".join(_cell(getattr(group, statistic)) for group in report.groups)
        rows.append(f'<tr><td class="name">{html.escape(text)}</td>{cells}</tr>')
    mcnemar = "".join(
        "<td>n/a</td>" if g.mcnemar is None else f"<td>{g.mcnemar.p_value:.3g}<br><span class=\"interval\">"
        f"{g.mcnemar.n_only_a} A-only / {g.mcnemar.n_only_b} B-only PASS</span></td>"
        for g in report.groups
    )
    rows.append(f'<tr><td class="name">McNemar p, PASS rate A vs B</td>{mcnemar}</tr>')
    flips = "".join(
        "<td>" + ", ".join(f"{html.escape(k)}: {v}" for k, v in g.outcome_flips.items()) + "</td>" for g in report.groups
    )
    rows.append(f'<tr><td class="name">Task outcome flips</td>{flips}</tr>')
    return _table(["statistic", *_group_headers(report.groups)], rows)


def _within_table(report: ComparisonReport) -> str:
    rows = []
    for statistic, text in WITHIN_STATISTICS.items():
        for key in JURY_KEYS:
            cells = []
            for group in report.groups:
                jury = group.juries[key]
                value = jury.splits.narrowest_majority_share if statistic == "narrowest_majority_share" else getattr(jury, statistic)
                cells.append(_cell(value, digits=4 if "cost" in statistic else 3))
            label = text
            split = report.groups[0].juries[key].splits.narrowest_majority_split
            if statistic == "narrowest_majority_share" and split:
                label = f"{text} ({split})"
            rows.append(f'<tr><td class="name">{html.escape(label)}</td><td>{key}</td>{"".join(cells)}</tr>')
    header = ["statistic", "jury", *_group_headers(report.groups)]
    return _table(header, rows)


def _judges_table(group: GroupComparison) -> str:
    rows = []
    for key in JURY_KEYS:
        for judge in group.juries[key].judges:
            rows.append(
                f'<tr><td class="name">{key}</td><td class="name">{html.escape(judge.seat)}</td>'
                f'<td class="name">{html.escape(judge.model)}</td>{_cell(judge.agreement_with_majority)}'
                f"<td>{judge.agreement_with_majority.n_items}</td>{_cell(judge.invalid_vote_rate)}</tr>"
            )
    return _table(["jury", "seat", "model", "agreement with majority", "criteria", "invalid vote rate"], rows)


def _splits_table(report: ComparisonReport) -> str:
    rows = []
    for group in report.groups:
        for key in JURY_KEYS:
            splits = group.juries[key].splits
            counts = ", ".join(f"{split}: {count}" for split, count in splits.counts.items()) or "none"
            rows.append(
                f'<tr><td class="name">{html.escape(group.group)}</td><td>{key}</td><td>{splits.panel_size}</td>'
                f'<td class="name">{html.escape(counts)}</td>{_cell(splits.narrowest_majority_share)}'
                f"<td>{splits.n_items}</td><td>{splits.n_incomplete}</td></tr>"
            )
    return _table(["group", "jury", "panel", "criteria per split", "narrowest-majority share", "complete", "incomplete"], rows)


def _labels_section(report: ComparisonReport) -> str:
    if report.labels is None:
        return ""
    source = report.labels
    parts = [
        "<h2>Against expert labels</h2>",
        f'<p class="meta">{html.escape(source.source)}: {source.n_labels} labels, {source.n_matched_labels} matched a '
        f"paired criterion. Scores use the criteria each jury decided; UNSCORED decisions count against coverage only.</p>",
    ]
    rows = []
    for statistic, text in LABEL_STATISTICS.items():
        for key in JURY_KEYS:
            cells = "".join(
                "<td>n/a</td>" if g.labels is None else _cell(getattr(g.labels.juries[key], statistic)) for g in report.groups
            )
            rows.append(f'<tr><td class="name">{html.escape(text)}</td><td>{key}</td>{cells}</tr>')
    mcnemar = "".join(
        "<td>n/a</td>" if g.labels is None or g.labels.mcnemar is None else f"<td>{g.labels.mcnemar.p_value:.3g}</td>"
        for g in report.groups
    )
    rows.append(f'<tr><td class="name">McNemar p, A correct vs B correct</td><td></td>{mcnemar}</tr>')
    parts.append(_table(["statistic", "jury", *_group_headers(report.groups)], rows))

    overall = report.groups[0].labels
    if overall is not None:
        parts.append("<h3>Confusion tables (overall; rows: expert label, columns: jury decision)</h3>")
        for key in JURY_KEYS:
            confusion = overall.juries[key].confusion
            columns = list(next(iter(confusion.values())).keys()) if confusion else []
            body = [
                f'<tr><td class="name">{html.escape(truth)}</td>' + "".join(f"<td>{row[c]}</td>" for c in columns) + "</tr>"
                for truth, row in confusion.items()
            ]
            parts.append(f"<p>jury {key}</p>" + _table(["expert \\ jury", *columns], body))

    listed = source.per_criterion[:MAX_CRITERION_ROWS]
    if listed:
        parts.append("<h3>Per criterion</h3>")
        rows = []
        for item in listed:
            cells = "".join(
                _cell(item.juries[key].accuracy) + f"<td>{item.juries[key].n_decided}/{item.juries[key].n_labelled}</td>"
                for key in JURY_KEYS
            )
            rows.append(
                f'<tr><td class="name">{html.escape(item.contract_id)}</td><td class="name">{html.escape(item.criterion_id)}</td>{cells}</tr>'
            )
        parts.append(_table(["contract", "criterion", "accuracy A", "decided A", "accuracy B", "decided B"], rows))
        if len(source.per_criterion) > len(listed):
            parts.append(f'<p class="meta">{len(source.per_criterion) - len(listed)} more criteria are in the JSON and CSV output.</p>')
    return "".join(parts)


def _figure(png: str, caption: str) -> str:
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def report_html(report: ComparisonReport) -> str:
    """Render the report as one HTML document with inline CSS and inline PNG plots."""
    overall = report.groups[0]
    confidence = f"{report.bootstrap.confidence:.0%}"
    sources = "".join(
        f"<li><b>jury {key}</b>: {html.escape(source.source)} ({html.escape(', '.join(source.jury_names) or 'unnamed')}; "
        f"{len(source.seats)} seats: {html.escape(', '.join(f'{s} = {m}' for s, m in source.seat_models.items()))}; "
        f"{source.n_records} records, {source.n_unmatched_records} without counterpart)</li>"
        for key, source in report.juries.items()
    )
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
    cost_png, quantity = cost_plot(report.groups)
    figures = [
        _figure(agreement_plot(report.groups), f"Agreement of the juries per group, with task-clustered {confidence} intervals."),
        _figure(split_plot(overall), "Vote splits within each jury (overall); the narrowest majority in red, counts in brackets."),
        _figure(cost_png, f"Decision agreement against the {quantity} of jury B as a share of jury A, per group."),
        _figure(dissent_plot(overall), "Each judge's dissent from its own jury's majority of valid votes (overall)."),
    ]
    body = [
        "<h1>Jury comparison: A vs B</h1>",
        f'<p class="meta">{report.n_matched_records} paired records, {report.n_matched_criteria} paired jury criteria, '
        f"grouped by {html.escape(report.by)}. Intervals: task-clustered percentile bootstrap, "
        f"{report.bootstrap.n_resamples} resamples, {confidence}, seed {report.bootstrap.seed}. "
        f"Created {html.escape(report.created_at)}.</p>",
        f"<ul>{sources}</ul>",
        f'<h2>Notes</h2><ul class="notes">{notes}</ul>' if notes else "",
        "<h2>Jury A vs jury B</h2>",
        _between_table(report),
        '<div class="figures">' + "".join(figures[:1] + figures[2:3]) + "</div>",
        "<h2>Within each jury</h2>",
        _within_table(report),
        "<h3>Vote splits</h3>",
        _splits_table(report),
        '<div class="figures">' + figures[1] + "</div>",
        f"<h2>Judges ({html.escape(overall.group)})</h2>",
        _judges_table(overall),
        '<div class="figures">' + figures[3] + "</div>",
        _labels_section(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Jury comparison</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


__all__ = ["agreement_plot", "cost_plot", "dissent_plot", "report_html", "split_plot"]
