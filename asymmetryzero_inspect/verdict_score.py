"""Turn a verdict record into an Inspect Score: value keys for metrics, a summary and an explanation.

Nothing here decides anything: every figure is read from the record the core produced.
"""

from __future__ import annotations

import json
import math
from typing import Any

from inspect_ai.scorer import Score

from shared_contract.analysis.stats import split_distribution
from shared_contract.audit import CriterionResult, Decision, VerdictRecord, VoteVerdict

# Keys of Score.value. Every sample carries all of them, because Inspect expands per-key
# metrics from the first sample's keys.
VALUE_KEYS = (
    "score",
    "pass",
    "coverage",
    "unscored",
    "split_items",
    "narrow_splits",
    "split_rate",
    "votes",
    "invalid_votes",
    "cost_usd",
    "judge_latency_s",
)

SUMMARY_KEY = "summary"
RECORD_KEY = "record"

# Inspect drops a metadata value from sample summaries when its JSON exceeds 1024 characters.
SUMMARY_LIMIT = 1000
REASON_CHARS = 120


def _jury_results(record: VerdictRecord) -> list[CriterionResult]:
    return [result for result in record.criteria if result.method == "jury" and result.tally is not None]


def split_counts(record: VerdictRecord) -> tuple[int, int]:
    """Count jury criteria whose valid votes fill the panel, and those split by the narrowest majority.

    The definition is the jury comparison report's (``split_distribution``). For a panel of n
    seats the narrowest majority is ``n // 2 + 1`` against the rest: "3-2" for five judges, "2-1"
    for three. A criterion with an invalid or missing vote is left out.

    Returns:
        (criteria counted, criteria with the narrowest majority split).
    """
    panel = len(record.jury.seats)
    results = _jury_results(record)
    if panel == 0 or not results:
        return 0, 0
    passed = [result.tally.passed for result in results if result.tally is not None]
    failed = [result.tally.failed for result in results if result.tally is not None]
    distribution = split_distribution(passed, failed, panel)
    narrow = distribution.counts[distribution.narrowest_majority_split]
    return distribution.n_items, narrow


def score_value(record: VerdictRecord) -> dict[str, float | int]:
    """Build the Score.value mapping; NaN marks a figure that does not exist (never 0).

    ``score`` is NaN when the task outcome is UNSCORED, even when the record carries a partial score.
    """
    unscored = record.outcome is Decision.UNSCORED
    items, narrow = split_counts(record)
    votes = [vote for result in record.criteria for vote in result.votes]
    called = [vote for vote in votes if vote.verdict is not VoteVerdict.NOT_CALLED]
    cost = record.totals.cost_usd
    return {
        "score": math.nan if unscored or record.score is None else float(record.score),
        "pass": 1 if record.outcome is Decision.PASS else 0,
        "coverage": float(record.coverage),
        "unscored": 1 if unscored else 0,
        "split_items": items,
        "narrow_splits": narrow,
        "split_rate": narrow / items if items else math.nan,
        "votes": len(called),
        "invalid_votes": record.totals.invalid_votes,
        "cost_usd": math.nan if cost is None else float(cost),
        "judge_latency_s": float(record.totals.latency_s),
    }


def _shorten(text: str | None, limit: int = REASON_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def criterion_label(result: CriterionResult) -> str:
    """Return a criterion's decision with its vote split, e.g. ``PASS 2-1`` or ``UNSCORED 1-1, 1 invalid``."""
    if result.tally is None:
        return result.decision.value
    label = f"{result.decision.value} {result.split or result.tally.split}"
    if result.tally.invalid:
        label += f", {result.tally.invalid} invalid"
    return label


def score_summary(record: VerdictRecord) -> dict[str, Any]:
    """Build the compact summary kept in Inspect's sample summaries, at most SUMMARY_LIMIT characters of JSON.

    Criteria that do not fit are counted under ``criteria_omitted``; the full record keeps them all.
    """
    summary: dict[str, Any] = {
        "contract": record.contract_id,
        "jury": record.jury.name,
        "outcome": record.outcome.value,
        "reason": _shorten(record.outcome_reason, 160) or None,
        "criteria": {},
    }
    omitted = 0
    for result in record.criteria:
        if omitted:
            omitted += 1
            continue
        summary["criteria"][result.id] = criterion_label(result)
        # ASCII escapes give the longest serialisation. The last 40 characters are kept for
        # the omitted-count key in case a later criterion does not fit.
        if len(json.dumps(summary)) > SUMMARY_LIMIT - 40:
            del summary["criteria"][result.id]
            omitted = 1
    if omitted:
        summary["criteria_omitted"] = omitted
    return summary


def _vote_lines(result: CriterionResult) -> list[str]:
    lines = []
    for vote in result.votes:
        valid = vote.verdict in (VoteVerdict.PASS, VoteVerdict.FAIL)
        note = _shorten(vote.rationale if valid else vote.reason)
        lines.append(f"    - {vote.seat} {vote.verdict.value}" + (f": {note}" if note else ""))
    return lines


def score_explanation(record: VerdictRecord) -> str:
    """Render the record as Markdown for ``inspect view``: the outcome, then each criterion with its judges' votes."""
    score = "n/a" if record.score is None else f"{record.score:.3f}"
    seats = len(record.jury.seats)
    head = f"**{record.outcome.value}**, score {score}, coverage {record.coverage:.2f}"
    if seats:
        head += f", jury {record.jury.name or 'unnamed'} ({seats} judges)"
    lines = [head]
    if record.outcome_reason:
        lines.append(f"Reason: {_shorten(record.outcome_reason, 300)}")
    lines.append("")
    for result in record.criteria:
        line = f"- `{result.id}` ({result.method}): {criterion_label(result)}"
        if result.reason:
            line += f" ({_shorten(result.reason)})"
        lines.append(line)
        lines.extend(_vote_lines(result))
    for warning in record.warnings:
        lines.append(f"\nWarning: {warning}")
    return "\n".join(lines)


def score_from_record(record: VerdictRecord) -> Score:
    """Build the Score for one sample; the full record sits in ``metadata['record']`` without loss."""
    return Score(
        value=score_value(record),  # type: ignore[arg-type]
        explanation=score_explanation(record),
        metadata={
            SUMMARY_KEY: score_summary(record),
            RECORD_KEY: record.model_dump(mode="json", by_alias=True),
        },
    )
