"""Agreement coefficients, a paired test, vote splits and classification scores for jury comparisons.

Every function works on plain data: label sequences, items x raters label matrices (one row per
criterion decision, one column per judge) and per-item cluster ids (the task). Label handling is
described in ``shared_contract.analysis.labels``. The task-clustered bootstrap functions live in
``shared_contract.analysis.bootstrap`` and are re-exported here.

Two rules hold for the whole module:

* Malformed input raises ``ValueError`` naming the value: empty input, sequences of unequal
  length, a matrix that is not 2-D, a missing label where none is allowed, a label outside the
  declared ``categories``.
* Well-formed input on which a coefficient is undefined returns ``float("nan")`` and the function
  docstring names the case. The usual case is a single observed category, where expected
  agreement is 1 and chance-corrected coefficients divide 0 by 0.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import krippendorff
import numpy as np
from pydantic import BaseModel, ConfigDict
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa as _statsmodels_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as _statsmodels_fleiss_kappa

from shared_contract.analysis.bootstrap import (
    BootstrapInterval,
    bootstrap_cluster_sums,
    check_bootstrap_settings,
    clustered_bootstrap_ci,
    clustered_bootstrap_ratio_ci,
    clustered_bootstrap_sums_ci,
    encode_clusters,
)
from shared_contract.analysis.labels import (
    LabelMatrix,
    LabelSequence,
    as_label_array,
    contingency_table,
    encode_matrix,
    encode_pair,
    rating_counts,
)

__all__ = [
    "BootstrapInterval",
    "ClassificationReport",
    "FleissKappaResult",
    "LabelMatrix",
    "LabelSequence",
    "McNemarResult",
    "SplitDistribution",
    "agreement_rate",
    "classification_report",
    "clustered_bootstrap_ci",
    "clustered_bootstrap_ratio_ci",
    "clustered_bootstrap_sums_ci",
    "cohen_kappa",
    "cohen_kappa_bootstrap_ci",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "mcnemar_test",
    "split_distribution",
]

# Discordant-pair count below which McNemar's chi-square approximation is poor, so the exact
# binomial test is used when the caller does not choose (a textbook rule of thumb).
_MCNEMAR_EXACT_BELOW = 25


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FleissKappaResult(_Result):
    """Fleiss' kappa with the items it was computed on.

    Attributes:
        kappa: Fleiss' kappa, NaN when undefined.
        ratings_per_item: Number of ratings every used item has (0 when no item was usable).
        n_items_used: Items that entered the coefficient.
        n_items_dropped: Items left out because their rating count differs from ``ratings_per_item``.
    """

    kappa: float
    ratings_per_item: int
    n_items_used: int
    n_items_dropped: int


class McNemarResult(_Result):
    """McNemar's test on paired binary outcomes.

    Attributes:
        statistic: For the exact test, the smaller discordant count (a binomial count). For the
            chi-square test, the continuity-corrected chi-square statistic with 1 degree of freedom.
        p_value: Two-sided p-value.
        exact: Whether the exact binomial test was used.
        n_pairs: Number of paired items.
        n_only_a: Pairs where only ``a`` is true.
        n_only_b: Pairs where only ``b`` is true.
    """

    statistic: float
    p_value: float
    exact: bool
    n_pairs: int
    n_only_a: int
    n_only_b: int


class SplitDistribution(_Result):
    """Distribution of jury vote splits, keyed ``"majority-minority"`` such as ``"4-1"``.

    Attributes:
        panel_size: Number of seats on the jury.
        counts: Items per split, ordered from unanimous to the narrowest split (a tie for even panels).
        shares: ``counts`` divided by ``n_items``, NaN when ``n_items`` is 0.
        narrowest_majority_split: The narrowest strict-majority split, such as ``"3-2"`` for 5 seats.
        narrowest_majority_share: Share of items with that split, NaN when ``n_items`` is 0.
        n_items: Items whose PASS and FAIL votes fill the panel.
        n_incomplete: Items with fewer PASS and FAIL votes than seats, left out of the distribution.
    """

    panel_size: int
    counts: dict[str, int]
    shares: dict[str, float]
    narrowest_majority_split: str
    narrowest_majority_share: float
    n_items: int
    n_incomplete: int


class ClassificationReport(_Result):
    """Agreement of predicted labels with ground truth.

    Attributes:
        n_items: Number of paired labels.
        accuracy: Share of items where prediction equals truth.
        cohen_kappa: Cohen's kappa between truth and prediction, NaN when undefined.
        positive_label: Label treated as the positive class.
        precision: TP / (TP + FP), NaN when nothing was predicted positive.
        recall: TP / (TP + FN), NaN when no item is positive in truth.
        f1: 2 TP / (2 TP + FP + FN), NaN when the positive label occurs in neither sequence.
        confusion: Counts keyed by truth label, then predicted label, over all observed labels.
            Keys are ``str(label)``.
    """

    n_items: int
    accuracy: float
    cohen_kappa: float
    positive_label: str
    precision: float
    recall: float
    f1: float
    confusion: dict[str, dict[str, int]]


# ---------------------------------------------------------------------------------------------
# Two raters


def agreement_rate(a: LabelSequence, b: LabelSequence) -> float:
    """Compute the share of items on which two raters give the same label.

    Args:
        a: Labels of the first rater, one per item, none missing.
        b: Labels of the second rater, paired with ``a``.

    Returns:
        Observed agreement in [0, 1].

    Raises:
        ValueError: If the inputs are empty, differ in length or contain a missing label.
    """
    codes_a, codes_b, _ = encode_pair(a, b, categories=None)
    return float(np.mean(codes_a == codes_b))


def _kappa_from_table(table: np.ndarray) -> float:
    """Compute Cohen's kappa of a square contingency table, NaN when expected agreement is 1."""
    n_items = int(table.sum())
    row_totals = table.sum(axis=1)
    column_totals = table.sum(axis=0)
    # Integer arithmetic decides the degenerate case exactly: expected agreement is 1 only when
    # both raters put every item in the same single category.
    if sum(int(row) * int(column) for row, column in zip(row_totals, column_totals, strict=True)) == n_items * n_items:
        return math.nan
    return float(_statsmodels_cohens_kappa(table, return_results=False))


def cohen_kappa(a: LabelSequence, b: LabelSequence, categories: Sequence[Hashable] | None = None) -> float:
    """Compute Cohen's kappa between two raters with statsmodels on their contingency table.

    kappa = (p_o - p_e) / (1 - p_e), where p_o is observed agreement and p_e the agreement
    expected from the two raters' marginal label frequencies.

    When both raters give every item the same single label, p_e is 1 and kappa is 0/0. This
    function then returns NaN rather than 1.0: perfect raw agreement there carries no
    information about agreement beyond chance, and 1.0 would inflate averages over criteria.
    Report ``agreement_rate`` alongside.

    Args:
        a: Labels of the first rater, one per item, none missing.
        b: Labels of the second rater, paired with ``a``.
        categories: Optional full label set. Unused labels do not change kappa, but a label outside
            the set raises.

    Returns:
        Kappa in [-1, 1], or NaN in the degenerate case above.

    Raises:
        ValueError: If the inputs are empty, differ in length, contain a missing label, or contain
            a label outside ``categories``.
    """
    codes_a, codes_b, resolved = encode_pair(a, b, categories)
    return _kappa_from_table(contingency_table(codes_a, codes_b, len(resolved)))


def _kappa_from_table_sums(cell_sums: np.ndarray, n_categories: int) -> np.ndarray:
    """Compute Cohen's kappa for each table in a stack of flattened contingency tables, vectorised.

    Args:
        cell_sums: Shape (m, n_categories**2), row-major flattened tables.
        n_categories: Side of each table.

    Returns:
        Shape (m,) kappas, NaN where expected agreement is 1 or a table is empty.
    """
    tables = cell_sums.reshape(-1, n_categories, n_categories)
    totals = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.trace(tables, axis1=1, axis2=2) / totals
        expected = np.einsum("mi,mi->m", tables.sum(axis=2), tables.sum(axis=1)) / (totals * totals)
        kappa = (observed - expected) / (1.0 - expected)
    # Sums of whole counts are exact in float64, so the degenerate case is an exact equality.
    kappa[(expected >= 1.0) | (totals == 0)] = np.nan
    return kappa


# ---------------------------------------------------------------------------------------------
# Many raters


def fleiss_kappa(matrix: LabelMatrix, categories: Sequence[Hashable] | None = None) -> FleissKappaResult:
    """Compute Fleiss' kappa within a jury with statsmodels on the items x categories count table.

    Fleiss' kappa assumes every item has the same number of ratings. Items with missing ratings
    are therefore dropped as follows. Among items with at least 2 ratings, the most frequent
    rating count is kept (the larger count on a tie), and items with any other count are dropped.
    With a full panel on most items this drops exactly the items with a missing rating, and a
    judge that never rated still leaves every item usable. For coefficients that keep
    incomplete items, use ``krippendorff_alpha`` or ``gwet_ac1``.

    Args:
        matrix: Items x raters labels, ``None`` or NaN for a missing rating. At least 2 columns.
        categories: Optional full label set. Unused labels do not change kappa.

    Returns:
        The kappa with the counts of used and dropped items. Kappa is NaN when no item has 2 or
        more ratings, or when every used rating has the same label (expected agreement is 1).

    Raises:
        ValueError: If the matrix is empty, not 2-D, has fewer than 2 columns, or contains a
            label outside ``categories``.
    """
    codes, resolved = encode_matrix(matrix, categories)
    table = rating_counts(codes, len(resolved))
    n_items = table.shape[0]
    ratings = table.sum(axis=1)

    count_frequencies = np.bincount(ratings[ratings >= 2], minlength=codes.shape[1] + 1)
    if count_frequencies.sum() == 0:
        return FleissKappaResult(kappa=math.nan, ratings_per_item=0, n_items_used=0, n_items_dropped=n_items)

    # argmax returns the first maximum, so searching the reversed array prefers the larger count.
    ratings_per_item = len(count_frequencies) - 1 - int(np.argmax(count_frequencies[::-1]))
    used = table[ratings == ratings_per_item]
    n_used = used.shape[0]

    category_totals = used.sum(axis=0)
    if np.count_nonzero(category_totals) < 2:
        kappa = math.nan
    else:
        kappa = float(_statsmodels_fleiss_kappa(used, method="fleiss"))
    return FleissKappaResult(
        kappa=kappa, ratings_per_item=ratings_per_item, n_items_used=n_used, n_items_dropped=n_items - n_used
    )


def krippendorff_alpha(matrix: LabelMatrix, categories: Sequence[Hashable] | None = None) -> float:
    """Compute Krippendorff's alpha for nominal labels with the ``krippendorff`` package.

    Alpha uses every item with at least 2 ratings, whatever the rating count, so missing ratings
    need no special handling.

    Args:
        matrix: Items x raters labels, ``None`` or NaN for a missing rating. At least 2 columns.
        categories: Optional full label set. Unused labels do not change alpha.

    Returns:
        Alpha, at most 1. NaN when no item has 2 or more ratings, or when every rating on such
        items has the same label (expected disagreement is 0).

    Raises:
        ValueError: If the matrix is empty, not 2-D, has fewer than 2 columns, or contains a
            label outside ``categories``.
    """
    codes, resolved = encode_matrix(matrix, categories)
    table = rating_counts(codes, len(resolved))

    pairable = table[table.sum(axis=1) >= 2]
    used_columns = pairable.sum(axis=0) > 0
    # The krippendorff package raises on a single-value domain, and alpha is 0/0 there anyway.
    if pairable.shape[0] == 0 or np.count_nonzero(used_columns) < 2:
        return math.nan
    return float(krippendorff.alpha(value_counts=pairable[:, used_columns], level_of_measurement="nominal"))


def gwet_ac1(matrix: LabelMatrix, categories: Sequence[Hashable] | None = None) -> float:
    """Compute Gwet's first-order agreement coefficient AC1 for many raters with missing ratings.

    AC1 (Gwet 2008) replaces the kappas' chance agreement with one that stays small when nearly
    all ratings fall in one category. With r_ik the raters putting item i in category k, r_i
    their sum and q the number of categories:

    * p_a averages sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)) over items with r_i >= 2.
    * pi_k averages r_ik / r_i over items with r_i >= 1.
    * p_e = sum_k pi_k (1 - pi_k) / (q - 1), and AC1 = (p_a - p_e) / (1 - p_e).

    Unlike the kappas, p_e depends on q, so pass ``categories`` (for example ``("FAIL", "PASS")``)
    whenever a category may go unobserved. Then unanimous PASS ratings give AC1 = 1, where the
    kappas are undefined.

    Args:
        matrix: Items x raters labels, ``None`` or NaN for a missing rating. At least 2 columns.
        categories: Full label set, which sets q. Defaults to the observed labels.

    Returns:
        AC1 in [-1, 1]. NaN when no item has 2 or more ratings, or when q is 1.

    Raises:
        ValueError: If the matrix is empty, not 2-D, has fewer than 2 columns, or contains a
            label outside ``categories``.
    """
    codes, resolved = encode_matrix(matrix, categories)
    n_categories = len(resolved)
    table = rating_counts(codes, n_categories).astype(np.float64)
    ratings = table.sum(axis=1)

    pairable = ratings >= 2
    if n_categories < 2 or not pairable.any():
        return math.nan

    pairable_table = table[pairable]
    pairable_ratings = ratings[pairable]
    item_agreement = (pairable_table * (pairable_table - 1.0)).sum(axis=1) / (
        pairable_ratings * (pairable_ratings - 1.0)
    )
    observed = float(item_agreement.mean())

    rated = ratings >= 1
    category_shares = (table[rated] / ratings[rated, np.newaxis]).mean(axis=0)
    expected = float(np.sum(category_shares * (1.0 - category_shares)) / (n_categories - 1))

    # expected <= 1/q <= 0.5 for q >= 2, so the denominator never reaches 0.
    return (observed - expected) / (1.0 - expected)


# ---------------------------------------------------------------------------------------------
# Paired test, vote splits, classification


def _as_binary(values: Any, name: str) -> np.ndarray:
    array = as_label_array(values, name, ndim=1) if not isinstance(values, np.ndarray) else values
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of booleans, got shape {array.shape}")
    if array.dtype.kind == "b":
        return array

    is_binary = np.isin(array, [0, 1]) if array.dtype.kind in "iuf" else None
    if is_binary is None:
        is_binary = np.array([value is True or value is False or value in (0, 1) for value in array.tolist()])
    if not is_binary.all():
        position = int(np.flatnonzero(~is_binary)[0])
        raise ValueError(
            f"{name}[{position}] is {array[position]!r}; pass booleans or 0/1 (for labels, compare "
            'first, for example labels == "PASS")'
        )
    return array.astype(bool)


def mcnemar_test(
    a: Sequence[bool] | np.ndarray, b: Sequence[bool] | np.ndarray, exact: bool | None = None
) -> McNemarResult:
    """Test whether two paired binary outcomes differ in rate, with statsmodels' McNemar test.

    Typical uses: ``a`` and ``b`` mark whether jury A and jury B matched the expert on each item,
    or whether each jury decided PASS. Only discordant pairs carry information.

    Args:
        a: Booleans (or 0/1), one per item.
        b: Booleans paired with ``a``.
        exact: True for the exact binomial test, False for the continuity-corrected chi-square
            test. None picks the exact test when there are fewer than 25 discordant pairs.

    Returns:
        The statistic, the two-sided p-value and the discordant counts. With no discordant pair
        the statistic is 0 and the p-value is 1.

    Raises:
        ValueError: If the inputs are empty, differ in length, or contain a value other than a
            boolean or 0/1.
    """
    first = _as_binary(a, "a")
    second = _as_binary(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"a has {first.shape[0]} values but b has {second.shape[0]}; pass one value per item in both")

    n_only_a = int(np.count_nonzero(first & ~second))
    n_only_b = int(np.count_nonzero(~first & second))
    discordant = n_only_a + n_only_b
    use_exact = discordant < _MCNEMAR_EXACT_BELOW if exact is None else bool(exact)

    if discordant == 0:
        statistic, p_value = 0.0, 1.0
    else:
        n_both = int(np.count_nonzero(first & second))
        n_neither = first.shape[0] - n_both - discordant
        result = mcnemar([[n_both, n_only_a], [n_only_b, n_neither]], exact=use_exact, correction=True)
        statistic, p_value = float(result.statistic), float(result.pvalue)

    return McNemarResult(
        statistic=statistic,
        p_value=p_value,
        exact=use_exact,
        n_pairs=int(first.shape[0]),
        n_only_a=n_only_a,
        n_only_b=n_only_b,
    )


def _as_vote_counts(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of vote counts, got shape {array.shape}")
    if array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold whole vote counts, got dtype {array.dtype}: {array[:5]!r}")
    if (array < 0).any():
        position = int(np.flatnonzero(array < 0)[0])
        raise ValueError(f"{name}[{position}] is {array[position]}, a negative vote count")
    return array.astype(np.int64)


def split_distribution(
    pass_counts: Sequence[int] | np.ndarray, fail_counts: Sequence[int] | np.ndarray, panel: int
) -> SplitDistribution:
    """Tally jury vote splits such as "5-0", "4-1" and "3-2", and the share of narrowest majorities.

    The narrowest strict majority is ``panel // 2 + 1`` against the rest: "3-2" for 5 seats,
    "2-1" for 3 and "3-1" for 4. Even panels also have a tie split such as "2-2", which is no
    majority. Splits ignore direction, so 4 PASS and 1 FAIL count as "4-1" like 1 PASS and 4 FAIL.
    Items whose PASS and FAIL votes do not fill the panel (invalid or missing votes) are left out
    and counted in ``n_incomplete``.

    Args:
        pass_counts: PASS votes per item.
        fail_counts: FAIL votes per item, paired with ``pass_counts``.
        panel: Seats on the jury, at least 1.

    Returns:
        Counts and shares per split over complete items.

    Raises:
        ValueError: If the inputs are empty, differ in length, hold negative or fractional counts,
            ``panel`` is below 1, or an item has more votes than seats.
    """
    if isinstance(panel, bool) or not isinstance(panel, (int, np.integer)) or panel < 1:
        raise ValueError(f"panel is {panel!r}; pass the number of jury seats as an integer of at least 1")
    panel = int(panel)

    passed = _as_vote_counts(pass_counts, "pass_counts")
    failed = _as_vote_counts(fail_counts, "fail_counts")
    if passed.shape != failed.shape:
        raise ValueError(
            f"pass_counts has {passed.shape[0]} items but fail_counts has {failed.shape[0]}; "
            "pass one count per item in both"
        )

    votes = passed + failed
    if (votes > panel).any():
        position = int(np.flatnonzero(votes > panel)[0])
        raise ValueError(
            f"item {position} has {passed[position]} PASS and {failed[position]} FAIL votes, more than "
            f"the panel of {panel}; check the panel size"
        )

    complete = votes == panel
    majority_sizes = np.maximum(passed[complete], failed[complete])
    size_counts = np.bincount(majority_sizes, minlength=panel + 1)
    n_complete = int(complete.sum())

    smallest_majority = panel // 2 + 1
    smallest_split = (panel + 1) // 2  # the tie for even panels, the narrowest majority for odd
    counts: dict[str, int] = {}
    for majority in range(panel, smallest_split - 1, -1):
        counts[f"{majority}-{panel - majority}"] = int(size_counts[majority])

    shares = {key: (count / n_complete if n_complete else math.nan) for key, count in counts.items()}
    narrowest_key = f"{smallest_majority}-{panel - smallest_majority}"
    return SplitDistribution(
        panel_size=panel,
        counts=counts,
        shares=shares,
        narrowest_majority_split=narrowest_key,
        narrowest_majority_share=shares[narrowest_key],
        n_items=n_complete,
        n_incomplete=int(passed.shape[0] - n_complete),
    )


def classification_report(
    truth: LabelSequence, predicted: LabelSequence, positive_label: Hashable = "PASS"
) -> ClassificationReport:
    """Score predicted labels (a jury's decisions) against ground truth (an expert's labels).

    Args:
        truth: Reference labels, one per item, none missing.
        predicted: Predicted labels, paired with ``truth``.
        positive_label: Label treated as the positive class for precision, recall and F1.

    Returns:
        Accuracy, Cohen's kappa (NaN in the degenerate case of ``cohen_kappa``), precision, recall,
        F1 and the confusion table. A ratio whose denominator is 0 is NaN, not 0.

    Raises:
        ValueError: If the inputs are empty, differ in length or contain a missing label.
    """
    codes_truth, codes_predicted, resolved = encode_pair(truth, predicted, None, names=("truth", "predicted"))
    n_categories = len(resolved)
    table = contingency_table(codes_truth, codes_predicted, n_categories)
    n_items = int(table.sum())

    if positive_label in resolved:
        positive = resolved.index(positive_label)
        true_positive = int(table[positive, positive])
        false_positive = int(table[:, positive].sum()) - true_positive
        false_negative = int(table[positive, :].sum()) - true_positive
    else:
        true_positive = false_positive = false_negative = 0

    def ratio(numerator: int, denominator: int) -> float:
        return numerator / denominator if denominator else math.nan

    confusion = {
        str(truth_label): {str(predicted_label): int(table[i, j]) for j, predicted_label in enumerate(resolved)}
        for i, truth_label in enumerate(resolved)
    }
    return ClassificationReport(
        n_items=n_items,
        accuracy=float(np.trace(table)) / n_items,
        cohen_kappa=_kappa_from_table(table),
        positive_label=str(positive_label),
        precision=ratio(true_positive, true_positive + false_positive),
        recall=ratio(true_positive, true_positive + false_negative),
        f1=ratio(2 * true_positive, 2 * true_positive + false_positive + false_negative),
        confusion=confusion,
    )


# ---------------------------------------------------------------------------------------------
# Clustered bootstrap of Cohen's kappa


def cohen_kappa_bootstrap_ci(
    a: LabelSequence,
    b: LabelSequence,
    clusters: Sequence[Hashable] | np.ndarray,
    categories: Sequence[Hashable] | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapInterval:
    """Compute a clustered percentile interval for Cohen's kappa, vectorised over per-cluster tables.

    Kappa depends on the items only through the contingency table, so each cluster contributes
    its own table and a resample's table is the draw-count-weighted sum of cluster tables.

    Args:
        a: Labels of the first rater, one per item, none missing.
        b: Labels of the second rater, paired with ``a``.
        clusters: Cluster id per item.
        categories: Optional full label set, as in ``cohen_kappa``.
        n_resamples: Number of bootstrap resamples.
        confidence: Nominal coverage of the interval, strictly between 0 and 1.
        seed: Seed for ``numpy.random.default_rng``; None draws fresh entropy.

    Returns:
        ``cohen_kappa(a, b)`` and its percentile interval. Resamples where both raters use a
        single category give NaN and are left out.

    Raises:
        ValueError: On the input errors of ``cohen_kappa`` and ``clustered_bootstrap_sums_ci``.
    """
    check_bootstrap_settings(n_resamples, confidence)
    codes_a, codes_b, resolved = encode_pair(a, b, categories)
    cluster_index, n_clusters = encode_clusters(clusters, n_items=codes_a.shape[0])

    n_cells = len(resolved) ** 2
    cells = codes_a * len(resolved) + codes_b
    cluster_tables = np.bincount(cluster_index * n_cells + cells, minlength=n_clusters * n_cells)
    cluster_sums = cluster_tables.reshape(n_clusters, n_cells).astype(np.float64)

    interval = bootstrap_cluster_sums(
        cluster_sums, lambda totals: _kappa_from_table_sums(totals, len(resolved)), n_resamples, confidence, seed
    )
    # Report the statsmodels value as the estimate so it matches cohen_kappa exactly.
    estimate = _kappa_from_table(contingency_table(codes_a, codes_b, len(resolved)))
    return interval.model_copy(update={"estimate": estimate})
