"""Agreement statistics written as functions of column sums, and one bootstrap shared by all of them.

Every statistic of the jury comparison depends on the items only through sums of per-item values
(a rate, a ratio, Cohen's kappa from contingency cells, and, per item's PASS and FAIL vote counts,
Fleiss' kappa, Krippendorff's alpha and Gwet's AC1). A resample's sums are the draw count of each
cluster times the cluster's sums, so one matrix product per block of resamples serves every
statistic at once. ``shared_contract.analysis.bootstrap`` does the same for one statistic at a
time; ``bootstrap_statistics`` draws the same resamples for the same seed.

The per-item formulas below reproduce the coefficients of ``shared_contract.analysis.stats``, and
the tests check each against it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

import numpy as np

# Imported so that the shared draws are the very resamples of the single-statistic functions.
from shared_contract.analysis.bootstrap import BootstrapInterval, _iter_cluster_draws, check_bootstrap_settings

logger = logging.getLogger(__name__)

StatisticFromSums = Callable[[np.ndarray], np.ndarray]
"""Maps an (m, k) array of column totals, one row per resample, to (m,) statistics (NaN where undefined)."""


class ColumnSums:
    """Per-item value columns at several item levels, summed per cluster for the bootstrap.

    Items of each level (for example criterion decisions and tasks) carry a cluster index into one
    shared set of clusters. ``add`` returns the column's position in the summed matrix.
    """

    def __init__(self, n_clusters: int, clusters_by_level: Mapping[str, np.ndarray]):
        self.n_clusters = n_clusters
        self._clusters = dict(clusters_by_level)
        self._columns: list[np.ndarray] = []

    def add(self, level: str, values: np.ndarray) -> int:
        """Sum one per-item column of ``level`` per cluster and return its column index."""
        clusters = self._clusters[level]
        values = np.asarray(values, dtype=np.float64)
        if values.shape != clusters.shape:
            raise ValueError(f"{level} column has shape {values.shape}, expected {clusters.shape}")
        self._columns.append(np.bincount(clusters, weights=values, minlength=self.n_clusters))
        return len(self._columns) - 1

    def add_many(self, level: str, columns: Mapping[str, np.ndarray]) -> dict[str, int]:
        """Add several columns of one level; return their indices by name."""
        return {name: self.add(level, values) for name, values in columns.items()}

    def matrix(self) -> np.ndarray:
        """Return the (n_clusters, n_columns) matrix of per-cluster sums."""
        if not self._columns:
            return np.zeros((self.n_clusters, 0))
        return np.column_stack(self._columns)


# ---------------------------------------------------------------------------------------------
# Statistics from totals


def ratio(numerator: int, denominator: int) -> StatisticFromSums:
    """Return the statistic sum(numerator column) / sum(denominator column), NaN when the denominator is 0."""

    def compute(totals: np.ndarray) -> np.ndarray:
        bottom = totals[:, denominator]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = totals[:, numerator] / bottom
        values[bottom == 0] = np.nan
        return values

    return compute


def difference(first: StatisticFromSums, second: StatisticFromSums) -> StatisticFromSums:
    """Return the statistic first - second."""
    return lambda totals: first(totals) - second(totals)


def cohen_kappa_from_cells(cells: list[int], n_categories: int) -> StatisticFromSums:
    """Return Cohen's kappa from the columns of a row-major n x n contingency table.

    NaN where the table is empty or expected agreement is 1, as in ``stats.cohen_kappa``.
    """
    index = np.asarray(cells)

    def compute(totals: np.ndarray) -> np.ndarray:
        tables = totals[:, index].reshape(-1, n_categories, n_categories)
        n_items = tables.sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = np.trace(tables, axis1=1, axis2=2) / n_items
            expected = np.einsum("mi,mi->m", tables.sum(axis=2), tables.sum(axis=1)) / (n_items * n_items)
            kappa = (observed - expected) / (1.0 - expected)
        kappa[(n_items == 0) | (expected >= 1.0)] = np.nan
        return kappa

    return compute


def f1_from_counts(true_positive: int, false_positive: int, false_negative: int) -> StatisticFromSums:
    """Return F1 = 2 TP / (2 TP + FP + FN), NaN when the denominator is 0."""

    def compute(totals: np.ndarray) -> np.ndarray:
        top = 2.0 * totals[:, true_positive]
        bottom = top + totals[:, false_positive] + totals[:, false_negative]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = top / bottom
        values[bottom == 0] = np.nan
        return values

    return compute


# ---------------------------------------------------------------------------------------------
# Within-jury coefficients from PASS and FAIL vote counts per item


def fleiss_ratings_per_item(passed: np.ndarray, failed: np.ndarray) -> int:
    """Pick the rating count Fleiss' kappa uses, with the rule of ``stats.fleiss_kappa``.

    Among items with at least 2 valid votes, the most frequent count wins, the larger on a tie.
    Returns 0 when no item has 2 valid votes.
    """
    ratings = passed + failed
    eligible = ratings[ratings >= 2]
    if eligible.size == 0:
        return 0
    frequencies = np.bincount(eligible)
    return len(frequencies) - 1 - int(np.argmax(frequencies[::-1]))


def fleiss_item_columns(passed: np.ndarray, failed: np.ndarray, ratings_per_item: int) -> dict[str, np.ndarray]:
    """Build the per-item columns of Fleiss' kappa: used items, their P_i and their category counts.

    P_i = (sum_k r_ik^2 - n) / (n (n - 1)) for items with exactly n = ``ratings_per_item`` valid votes.
    """
    used = (passed + failed == ratings_per_item) & (ratings_per_item >= 2)
    n = max(ratings_per_item, 2)
    item_agreement = (passed * passed + failed * failed - n) / (n * (n - 1.0))
    return {
        "used": used.astype(np.float64),
        "agreement": np.where(used, item_agreement, 0.0),
        "pass": np.where(used, passed, 0).astype(np.float64),
        "fail": np.where(used, failed, 0).astype(np.float64),
    }


def fleiss_kappa_from_sums(columns: Mapping[str, int], ratings_per_item: int) -> StatisticFromSums:
    """Return Fleiss' kappa from the totals of ``fleiss_item_columns``; NaN with fewer than 2 categories used."""

    def compute(totals: np.ndarray) -> np.ndarray:
        n_items = totals[:, columns["used"]]
        pass_total = totals[:, columns["pass"]]
        fail_total = totals[:, columns["fail"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_agreement = totals[:, columns["agreement"]] / n_items
            pass_share = pass_total / (n_items * ratings_per_item)
            fail_share = fail_total / (n_items * ratings_per_item)
            expected = pass_share * pass_share + fail_share * fail_share
            kappa = (mean_agreement - expected) / (1.0 - expected)
        kappa[(n_items == 0) | (pass_total == 0) | (fail_total == 0)] = np.nan
        return kappa

    return compute


def krippendorff_item_columns(passed: np.ndarray, failed: np.ndarray) -> dict[str, np.ndarray]:
    """Build per-item columns of nominal Krippendorff's alpha for two categories.

    Over items with m_i >= 2 valid votes: the coincidence of PASS with FAIL, r_p r_f / (m_i - 1),
    and the PASS and FAIL value counts.
    """
    ratings = passed + failed
    pairable = ratings >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        coincidence = np.where(pairable, passed * failed / (ratings - 1.0), 0.0)
    return {
        "coincidence": coincidence,
        "pass": np.where(pairable, passed, 0).astype(np.float64),
        "fail": np.where(pairable, failed, 0).astype(np.float64),
    }


def krippendorff_alpha_from_sums(columns: Mapping[str, int]) -> StatisticFromSums:
    """Return alpha = 1 - (n - 1) o_pf / (n_p n_f); NaN when either value is never used."""

    def compute(totals: np.ndarray) -> np.ndarray:
        pass_total = totals[:, columns["pass"]]
        fail_total = totals[:, columns["fail"]]
        n_values = pass_total + fail_total
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = 1.0 - (n_values - 1.0) * totals[:, columns["coincidence"]] / (pass_total * fail_total)
        alpha[(pass_total == 0) | (fail_total == 0)] = np.nan
        return alpha

    return compute


def gwet_item_columns(passed: np.ndarray, failed: np.ndarray) -> dict[str, np.ndarray]:
    """Build per-item columns of Gwet's AC1 for two categories (q = 2), as in ``stats.gwet_ac1``."""
    ratings = passed + failed
    pairable = ratings >= 2
    rated = ratings >= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = (passed * (passed - 1.0) + failed * (failed - 1.0)) / (ratings * (ratings - 1.0))
        pass_share = passed / ratings
    return {
        "pairable": pairable.astype(np.float64),
        "agreement": np.where(pairable, agreement, 0.0),
        "rated": rated.astype(np.float64),
        "pass_share": np.where(rated, pass_share, 0.0),
    }


def gwet_ac1_from_sums(columns: Mapping[str, int]) -> StatisticFromSums:
    """Return AC1 = (p_a - p_e) / (1 - p_e) with p_e = 2 pi_pass (1 - pi_pass); NaN without pairable items."""

    def compute(totals: np.ndarray) -> np.ndarray:
        n_pairable = totals[:, columns["pairable"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = totals[:, columns["agreement"]] / n_pairable
            pass_share = totals[:, columns["pass_share"]] / totals[:, columns["rated"]]
            # Both categories contribute pi (1 - pi), and the FAIL share is 1 - pi_pass.
            expected = 2.0 * pass_share * (1.0 - pass_share)
            ac1 = (observed - expected) / (1.0 - expected)
        ac1[n_pairable == 0] = np.nan
        return ac1

    return compute


# ---------------------------------------------------------------------------------------------
# The shared bootstrap


def bootstrap_statistics(
    cluster_sums: np.ndarray,
    statistics: Mapping[str, StatisticFromSums],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> dict[str, BootstrapInterval]:
    """Compute percentile intervals for many statistics of column sums from one set of cluster resamples.

    Args:
        cluster_sums: Shape (n_clusters, k) sums of per-item values per cluster.
        statistics: Statistic functions by name, each reading its own columns of the totals.
        n_resamples: Number of bootstrap resamples.
        confidence: Nominal coverage, strictly between 0 and 1.
        seed: Seed for ``numpy.random.default_rng``; None draws fresh entropy.

    Returns:
        Per name, the statistic on all clusters and its percentile interval. Resamples with a NaN
        statistic are left out and counted in ``n_invalid_resamples``.

    Raises:
        ValueError: If a setting is out of range or there is no cluster.
    """
    check_bootstrap_settings(n_resamples, confidence)
    n_clusters = cluster_sums.shape[0]
    if n_clusters == 0:
        raise ValueError("the bootstrap needs at least one cluster; no task has an item to resample")

    full_totals = cluster_sums.sum(axis=0)[np.newaxis, :]
    estimates = {name: float(function(full_totals)[0]) for name, function in statistics.items()}
    values = {name: np.empty(n_resamples, dtype=np.float64) for name in statistics}

    position = 0
    rng = np.random.default_rng(seed)
    for block in _iter_cluster_draws(rng, n_clusters, n_resamples):
        n_block = block.shape[0]
        flat = (block + (np.arange(n_block) * n_clusters)[:, np.newaxis]).ravel()
        draw_counts = np.bincount(flat, minlength=n_block * n_clusters).reshape(n_block, n_clusters)
        totals = draw_counts.astype(np.float64) @ cluster_sums
        for name, function in statistics.items():
            values[name][position : position + n_block] = function(totals)
        position += n_block

    return {
        name: _percentile_interval(estimates[name], values[name], confidence, n_clusters, name) for name in statistics
    }


def _percentile_interval(
    estimate: float, values: np.ndarray, confidence: float, n_clusters: int, name: str
) -> BootstrapInterval:
    finite = values[~np.isnan(values)]
    n_invalid = int(values.shape[0] - finite.shape[0])
    if finite.size == 0 or math.isnan(estimate):
        low = high = math.nan
    else:
        tail = (1.0 - confidence) / 2.0
        low, high = (float(bound) for bound in np.quantile(finite, [tail, 1.0 - tail]))
    if n_invalid and not math.isnan(estimate):
        logger.debug("bootstrap of %s: %d of %d resamples were undefined", name, n_invalid, values.shape[0])
    return BootstrapInterval(
        estimate=estimate,
        low=low,
        high=high,
        confidence=float(confidence),
        n_resamples=int(values.shape[0]),
        n_clusters=n_clusters,
        n_invalid_resamples=n_invalid,
    )
