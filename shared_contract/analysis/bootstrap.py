"""Task-clustered percentile bootstrap: resample whole clusters (tasks) with replacement.

Criterion decisions of one task are correlated, so resampling decisions independently would
understate the uncertainty. Every path here draws cluster indices uniformly with replacement
(an exact multinomial resample, not a Poisson approximation), so the same seed gives the same
resamples in the generic and the vectorised paths.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from shared_contract.analysis.labels import as_label_array, missing_mask

logger = logging.getLogger(__name__)

# Bounds the cluster draws held in memory at once. The int64 draws and the three arrays of the
# same size derived from them take about 64 MB at 2 million draws.
_MAX_DRAWS_PER_CHUNK = 2_000_000


class BootstrapInterval(BaseModel):
    """Point estimate with a percentile bootstrap interval.

    Attributes:
        estimate: Statistic on the original data.
        low: Lower percentile bound, NaN when no resample gave a finite statistic.
        high: Upper percentile bound, NaN when no resample gave a finite statistic.
        confidence: Nominal coverage, such as 0.95.
        n_resamples: Resamples drawn.
        n_clusters: Distinct clusters in the data.
        n_invalid_resamples: Resamples whose statistic was NaN, left out of the percentiles.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int
    n_clusters: int
    n_invalid_resamples: int


def encode_clusters(clusters: Any, n_items: int | None = None) -> tuple[np.ndarray, int]:
    """Map cluster ids to dense indices.

    Args:
        clusters: Cluster id per item, any hashable values, none missing.
        n_items: Expected number of items, checked when given.

    Returns:
        The cluster index (0 to n_clusters - 1) per item and the number of distinct clusters.

    Raises:
        ValueError: If ``clusters`` is empty, not 1-D, of the wrong length, or has a missing id.
    """
    array = as_label_array(clusters, "clusters", ndim=1) if not isinstance(clusters, np.ndarray) else clusters
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"clusters must be a non-empty 1-D sequence of cluster ids, got shape {array.shape}")
    if n_items is not None and array.shape[0] != n_items:
        raise ValueError(f"clusters has {array.shape[0]} ids but the data has {n_items} items; pass one id per item")

    missing = missing_mask(array)
    if missing.any():
        position = int(np.flatnonzero(missing)[0])
        raise ValueError(f"clusters[{position}] is {array[position]!r}; every item needs a cluster id")

    if array.dtype.kind in "iuUSb":
        _, index = np.unique(array, return_inverse=True)
        return index.astype(np.int64), int(index.max()) + 1

    lookup: dict[Hashable, int] = {}
    ids = (lookup.setdefault(value, len(lookup)) for value in array.tolist())
    index = np.fromiter(ids, dtype=np.int64, count=array.shape[0])
    return index, len(lookup)


def check_bootstrap_settings(n_resamples: int, confidence: float) -> None:
    """Raise ValueError unless n_resamples is a positive integer and 0 < confidence < 1."""
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples is {n_resamples!r}; pass a positive integer such as 2000")
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence is {confidence!r}; pass a coverage strictly between 0 and 1, such as 0.95")


def _iter_cluster_draws(rng: np.random.Generator, n_clusters: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Yield blocks of resamples, each row n_clusters cluster indices drawn uniformly with replacement.

    The block size depends only on n_clusters, so the same seed gives the same resamples in the
    generic and the summed path.
    """
    block = max(1, _MAX_DRAWS_PER_CHUNK // n_clusters)
    drawn = 0
    while drawn < n_resamples:
        size = min(block, n_resamples - drawn)
        yield rng.integers(0, n_clusters, size=(size, n_clusters))
        drawn += size


def _percentile_interval(
    estimate: float, values: np.ndarray, confidence: float, n_clusters: int
) -> BootstrapInterval:
    finite = values[~np.isnan(values)]
    n_invalid = int(values.shape[0] - finite.shape[0])
    if n_invalid:
        logger.warning(
            "Bootstrap: %d of %d resamples gave an undefined statistic (NaN) and were left out of the interval",
            n_invalid,
            values.shape[0],
        )

    if finite.size == 0:
        low = high = math.nan
    else:
        tail = (1.0 - confidence) / 2.0
        low, high = (float(bound) for bound in np.quantile(finite, [tail, 1.0 - tail]))
    return BootstrapInterval(
        estimate=float(estimate),
        low=low,
        high=high,
        confidence=float(confidence),
        n_resamples=int(values.shape[0]),
        n_clusters=n_clusters,
        n_invalid_resamples=n_invalid,
    )


def clustered_bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    clusters: Sequence[Hashable] | np.ndarray,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapInterval:
    """Compute a percentile interval by resampling whole clusters (tasks) with replacement.

    Each resample draws as many clusters as the data has, with replacement, and calls
    ``statistic`` on the item indices of the drawn clusters, concatenated (an item appears once
    per draw of its cluster). This path calls Python once per resample. For sums and ratios, use
    ``clustered_bootstrap_sums_ci`` or ``clustered_bootstrap_ratio_ci``, which draw the same
    resamples for the same seed but run vectorised.

    Example: ``clustered_bootstrap_ci(lambda idx: fleiss_kappa(votes[idx]).kappa, task_ids)``.
    For Cohen's kappa, ``stats.cohen_kappa_bootstrap_ci`` runs the same resamples vectorised.

    Args:
        statistic: Function from an int array of item indices (into the caller's data) to a float.
            It is called once with all items for the point estimate.
        clusters: Cluster id per item. Its length sets the number of items.
        n_resamples: Number of bootstrap resamples.
        confidence: Nominal coverage of the interval, strictly between 0 and 1.
        seed: Seed for ``numpy.random.default_rng``; None draws fresh entropy.

    Returns:
        The point estimate and percentile interval. Resamples with a NaN statistic are left out
        and counted. With a single cluster every resample equals the data, so the interval
        collapses to the estimate.

    Raises:
        ValueError: If ``clusters`` is empty or contains a missing id, or a setting is out of range.
    """
    check_bootstrap_settings(n_resamples, confidence)
    cluster_index, n_clusters = encode_clusters(clusters)
    n_items = cluster_index.shape[0]

    # Items sorted by cluster, so each cluster's items are one contiguous slice of `order`.
    order = np.argsort(cluster_index, kind="stable")
    sizes = np.bincount(cluster_index, minlength=n_clusters)
    starts = np.cumsum(sizes) - sizes

    estimate = float(statistic(np.arange(n_items)))
    values = np.empty(n_resamples, dtype=np.float64)
    position = 0
    rng = np.random.default_rng(seed)
    for block in _iter_cluster_draws(rng, n_clusters, n_resamples):
        for drawn in block:
            lengths = sizes[drawn]
            segment_offsets = np.cumsum(lengths) - lengths
            slots = np.repeat(starts[drawn] - segment_offsets, lengths) + np.arange(int(lengths.sum()))
            values[position] = float(statistic(order[slots]))
            position += 1

    return _percentile_interval(estimate, values, confidence, n_clusters)


def bootstrap_cluster_sums(
    cluster_sums: np.ndarray,
    statistic_from_sums: Callable[[np.ndarray], np.ndarray],
    n_resamples: int,
    confidence: float,
    seed: int | None,
) -> BootstrapInterval:
    """Bootstrap a statistic of column totals from per-cluster column sums.

    Args:
        cluster_sums: Shape (n_clusters, k) float sums of the per-item values of each cluster.
        statistic_from_sums: Function from (m, k) totals to (m,) statistics.
        n_resamples: Number of bootstrap resamples, already validated.
        confidence: Nominal coverage, already validated.
        seed: Seed for ``numpy.random.default_rng``.

    Returns:
        The statistic on the totals over all clusters and its percentile interval.
    """
    n_clusters = cluster_sums.shape[0]
    estimate = float(np.asarray(statistic_from_sums(cluster_sums.sum(axis=0)[np.newaxis, :]))[0])

    values = np.empty(n_resamples, dtype=np.float64)
    position = 0
    rng = np.random.default_rng(seed)
    for block in _iter_cluster_draws(rng, n_clusters, n_resamples):
        n_block = block.shape[0]
        # How often each cluster was drawn in each resample, so resampled totals are one matrix product.
        flat = (block + (np.arange(n_block) * n_clusters)[:, np.newaxis]).ravel()
        draw_counts = np.bincount(flat, minlength=n_block * n_clusters).reshape(n_block, n_clusters)
        totals = draw_counts.astype(np.float64) @ cluster_sums
        values[position : position + n_block] = statistic_from_sums(totals)
        position += n_block

    return _percentile_interval(estimate, values, confidence, n_clusters)


def clustered_bootstrap_sums_ci(
    item_values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    clusters: Sequence[Hashable] | np.ndarray,
    statistic_from_sums: Callable[[np.ndarray], np.ndarray],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapInterval:
    """Compute a clustered percentile interval, vectorised, for a statistic of column sums.

    Any statistic that depends on the items only through column sums of per-item values (a
    rate, a ratio, Cohen's kappa from contingency-cell indicators) needs only per-cluster sums.
    A resample's totals are then the draw counts of each cluster times the cluster sums, which
    avoids a Python call per resample. The resamples are identical to those of
    ``clustered_bootstrap_ci`` for the same seed.

    Args:
        item_values: Shape (items,) or (items, k) numeric values per item.
        clusters: Cluster id per item.
        statistic_from_sums: Function from an (m, k) array of column totals, one row per resample,
            to an (m,) array of statistics. Return NaN where the statistic is undefined.
        n_resamples: Number of bootstrap resamples.
        confidence: Nominal coverage of the interval, strictly between 0 and 1.
        seed: Seed for ``numpy.random.default_rng``; None draws fresh entropy.

    Returns:
        The statistic on all items and its percentile interval.

    Raises:
        ValueError: If the values are empty, not numeric, not finite or not 1-D/2-D, do not match
            ``clusters`` in length, or a setting is out of range.
    """
    check_bootstrap_settings(n_resamples, confidence)
    values = np.asarray(item_values)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(
            f"item_values must have shape (items,) or (items, k) with items >= 1, got {np.shape(item_values)}"
        )
    if values.dtype.kind not in "biuf":
        raise ValueError(f"item_values must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        position = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"item_values row {position} is {values[position]!r}; all values must be finite")

    cluster_index, n_clusters = encode_clusters(clusters, n_items=values.shape[0])
    columns = [np.bincount(cluster_index, weights=column, minlength=n_clusters) for column in values.T]
    cluster_sums = np.column_stack(columns)
    return bootstrap_cluster_sums(cluster_sums, statistic_from_sums, n_resamples, confidence, seed)


def _ratio_of_sums(totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = totals[:, 0] / totals[:, 1]
    ratio[totals[:, 1] == 0] = np.nan
    return ratio


def clustered_bootstrap_ratio_ci(
    numerators: Sequence[float] | np.ndarray,
    denominators: Sequence[float] | np.ndarray,
    clusters: Sequence[Hashable] | np.ndarray,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapInterval:
    """Compute a clustered percentile interval for sum(numerators) / sum(denominators), vectorised.

    For a rate such as agreement or accuracy, pass 0/1 hits as numerators and ones as
    denominators. A resample whose denominator sums to 0 gives NaN and is left out of the interval.

    Args:
        numerators: Numerator per item.
        denominators: Denominator per item, paired with ``numerators``.
        clusters: Cluster id per item.
        n_resamples: Number of bootstrap resamples.
        confidence: Nominal coverage of the interval, strictly between 0 and 1.
        seed: Seed for ``numpy.random.default_rng``; None draws fresh entropy.

    Returns:
        The ratio on all items (NaN if the denominators sum to 0) and its percentile interval.

    Raises:
        ValueError: If the inputs are empty, not numeric or finite, differ in length, or a setting
            is out of range.
    """
    numerator_array = np.asarray(numerators)
    denominator_array = np.asarray(denominators)
    if numerator_array.ndim != 1 or numerator_array.shape != denominator_array.shape:
        raise ValueError(
            f"numerators (shape {numerator_array.shape}) and denominators (shape {denominator_array.shape}) "
            "must be 1-D with one value per item"
        )
    return clustered_bootstrap_sums_ci(
        np.column_stack([numerator_array, denominator_array]),
        clusters,
        _ratio_of_sums,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )
