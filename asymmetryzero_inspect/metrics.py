"""Metrics of the contract scorer.

Per-key metrics (mean score, pass rate, mean coverage, unscored rate) use Inspect's ``mean``.
For dict-valued scores Inspect 0.3.285 drops a key's NaN values before calling the metric, and
its epoch reducers do the same. An UNSCORED sample (score NaN) is therefore left out of the mean
score instead of counting as 0, and when every sample is NaN Inspect reports NaN, not 0.

The pooled metrics below read several keys of each score, so they receive the whole value and
skip NaN themselves. They use ``scores="unreduced"``: every epoch's judge calls are counted, so
the totals are the real totals whatever the epoch reducer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, mean, metric, stderr

from asymmetryzero_inspect._naming import registry_name_for


def _values(scores: list[SampleScore]) -> Iterator[Mapping[str, Any]]:
    for sample_score in scores:
        value = sample_score.score.value
        if isinstance(value, Mapping):
            yield value


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _ratio(scores: list[SampleScore], numerator: str, denominator: str) -> float:
    top = 0.0
    bottom = 0.0
    for value in _values(scores):
        count = _finite(value.get(denominator))
        if not count:
            continue
        bottom += count
        top += _finite(value.get(numerator)) or 0.0
    return top / bottom if bottom else math.nan


@metric(name=registry_name_for("jury_split_rate"), scores="unreduced")
def jury_split_rate() -> Metric:
    """Share of jury criteria split by the narrowest majority ("3-2" for five judges), pooled over samples and epochs.

    Only criteria whose valid votes fill the panel count; NaN when there are none.
    """

    def compute(scores: list[SampleScore]) -> float:
        return _ratio(scores, "narrow_splits", "split_items")

    return compute


@metric(name=registry_name_for("invalid_vote_rate"), scores="unreduced")
def invalid_vote_rate() -> Metric:
    """Share of judge votes that were INVALID, pooled over samples and epochs; NaN when no judge was called."""

    def compute(scores: list[SampleScore]) -> float:
        return _ratio(scores, "invalid_votes", "votes")

    return compute


@metric(name=registry_name_for("judge_cost_usd"), scores="unreduced")
def judge_cost_usd() -> Metric:
    """Total judge cost in US dollars over samples and epochs; NaN when any sample's cost is unknown."""

    def compute(scores: list[SampleScore]) -> float:
        total = 0.0
        for value in _values(scores):
            cost = _finite(value.get("cost_usd"))
            if cost is None:
                return math.nan
            total += cost
        return total

    return compute


@metric(name=registry_name_for("judge_latency_s"), scores="unreduced")
def judge_latency_s() -> Metric:
    """Total judge latency in seconds (sum of vote latencies) over samples and epochs."""

    def compute(scores: list[SampleScore]) -> float:
        return math.fsum(_finite(value.get("judge_latency_s")) or 0.0 for value in _values(scores))

    return compute


def contract_metrics() -> list[Any]:
    """Return the metrics declared by the contract scorer: per-key means, then the pooled metrics."""
    return [
        {
            "score": [mean(), stderr()],
            "pass": [mean()],
            "coverage": [mean()],
            "unscored": [mean()],
        },
        jury_split_rate(),
        invalid_vote_rate(),
        judge_cost_usd(),
        judge_latency_s(),
    ]
