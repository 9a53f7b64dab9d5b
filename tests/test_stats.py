"""Tests for the jury-comparison statistics: hand-computed tables, library cross-checks, edge cases."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from shared_contract.analysis.stats import (
    agreement_rate,
    classification_report,
    clustered_bootstrap_ci,
    clustered_bootstrap_ratio_ci,
    clustered_bootstrap_sums_ci,
    cohen_kappa,
    cohen_kappa_bootstrap_ci,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    mcnemar_test,
    split_distribution,
)

P, F, U = "PASS", "FAIL", "UNSCORED"

# Five items rated by three judges, the last item missing one rating.
#   item 1: P P P   item 2: P P F   item 3: F F F   item 4: P F F   item 5: P - P
JURY = [[P, P, P], [P, P, F], [F, F, F], [P, F, F], [P, None, P]]


def _table_pairs(table: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    """Expand a {(label_a, label_b): count} table into two paired label lists."""
    a: list[str] = []
    b: list[str] = []
    for (label_a, label_b), count in table.items():
        a += [label_a] * count
        b += [label_b] * count
    return a, b


def _random_matrix(rng: np.random.Generator, n_items: int, n_raters: int, labels: list[str], p_missing: float):
    matrix = rng.choice(labels, size=(n_items, n_raters)).astype(object)
    matrix[rng.random((n_items, n_raters)) < p_missing] = None
    return matrix


# ---------------------------------------------------------------------------------------------
# agreement_rate and cohen_kappa


def test_agreement_rate_hand_example() -> None:
    # Items 1, 2 and 4 agree: 3 of 4.
    assert agreement_rate([P, F, P, P], [P, F, F, P]) == 0.75


def test_cohen_kappa_hand_2x2() -> None:
    #            b=FAIL  b=PASS
    # a=FAIL       20       5     row 25
    # a=PASS       10      15     row 25
    #            col 30  col 20   n = 50
    # p_o = (20 + 15) / 50 = 0.7
    # p_e = (25/50)(30/50) + (25/50)(20/50) = 0.3 + 0.2 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a, b = _table_pairs({(F, F): 20, (F, P): 5, (P, F): 10, (P, P): 15})
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert agreement_rate(a, b) == pytest.approx(0.7, abs=1e-12)


def test_cohen_kappa_random_vs_formula() -> None:
    rng = np.random.default_rng(7)
    labels = [P, F, U]
    for _ in range(20):
        a = rng.choice(labels, size=200, p=[0.6, 0.3, 0.1])
        flip = rng.random(200) < 0.3
        b = np.where(flip, rng.choice(labels, size=200), a)

        table = np.array([[np.sum((a == x) & (b == y)) for y in labels] for x in labels], dtype=float)
        n = table.sum()
        observed = np.trace(table) / n
        expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
        assert cohen_kappa(a, b) == pytest.approx((observed - expected) / (1 - expected), abs=1e-12)


def test_cohen_kappa_unused_categories_change_nothing() -> None:
    a, b = _table_pairs({(F, F): 3, (F, P): 1, (P, P): 4})
    assert cohen_kappa(a, b, categories=[F, P, U]) == pytest.approx(cohen_kappa(a, b), abs=1e-12)


def test_cohen_kappa_single_category_nan() -> None:
    # p_o = p_e = 1, so kappa is 0/0.
    assert math.isnan(cohen_kappa([P, P, P], [P, P, P]))


def test_cohen_kappa_opposite_categories_zero() -> None:
    # p_o = 0 and p_e = 1*0 + 0*1 = 0, so kappa = 0.
    assert cohen_kappa([P, P, P], [F, F, F]) == 0.0


def test_cohen_kappa_accepts_numpy_strings() -> None:
    assert cohen_kappa(np.array([P, F, P, F]), np.array([P, F, P, F])) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([], [], "empty"),
        ([P, F], [P], "has 2 labels but b has 1"),
        ([P, None], [P, F], r"a\[1\] is None"),
        ([P, F], [P, float("nan")], r"b\[1\] is nan"),
        ([[P], [F]], [P, F], "must be a sequence of labels"),
    ],
)
def test_pair_input_errors(a: list, b: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cohen_kappa(a, b)
    with pytest.raises(ValueError, match=message):
        agreement_rate(a, b)


def test_cohen_kappa_label_outside_categories() -> None:
    with pytest.raises(ValueError, match="not in categories"):
        cohen_kappa([P, U], [P, F], categories=[P, F])


# ---------------------------------------------------------------------------------------------
# fleiss_kappa


def test_fleiss_kappa_hand_example() -> None:
    # Item 5 has 2 ratings, the other four have 3, so item 5 is dropped.
    # P_i = (sum_j n_ij^2 - n) / (n (n - 1)) with n = 3:
    #   PPP: (9 - 3) / 6 = 1     PPF: (4 + 1 - 3) / 6 = 1/3
    #   FFF: 1                   PFF: 1/3
    # P_bar = (1 + 1/3 + 1 + 1/3) / 4 = 2/3
    # p_PASS = 6/12, p_FAIL = 6/12, so P_e = 0.25 + 0.25 = 0.5
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
    result = fleiss_kappa(JURY)
    assert result.kappa == pytest.approx(1 / 3, abs=1e-12)
    assert result.ratings_per_item == 3
    assert result.n_items_used == 4
    assert result.n_items_dropped == 1


def test_fleiss_kappa_random_vs_statsmodels() -> None:
    rng = np.random.default_rng(11)
    for _ in range(10):
        matrix = _random_matrix(rng, 60, 5, [P, F, U], p_missing=0.0)
        codes = np.select([matrix == F, matrix == P, matrix == U], [0, 1, 2])
        table, _ = aggregate_raters(codes, n_cat=3)
        assert fleiss_kappa(matrix).kappa == pytest.approx(statsmodels_fleiss_kappa(table), abs=1e-12)


def test_fleiss_kappa_silent_judge() -> None:
    complete = [[P, P, F], [F, F, F], [P, P, P], [P, F, F]]
    with_silent_judge = [row + [None] for row in complete]
    result = fleiss_kappa(with_silent_judge)
    assert result.kappa == pytest.approx(fleiss_kappa(complete).kappa, abs=1e-12)
    assert result.n_items_dropped == 0


def test_fleiss_kappa_tie_keeps_larger_count() -> None:
    # Two items with 3 ratings and two with 2: the tie keeps the 3-rating items.
    result = fleiss_kappa([[P, P, P], [P, F, F], [P, P, None], [F, None, F]])
    assert result.ratings_per_item == 3
    assert result.n_items_used == 2


def test_fleiss_kappa_all_missing_is_nan() -> None:
    result = fleiss_kappa([[None, None], [None, P]])
    assert math.isnan(result.kappa)
    assert result.n_items_used == 0
    assert result.n_items_dropped == 2


def test_fleiss_kappa_single_category_is_nan() -> None:
    assert math.isnan(fleiss_kappa([[P, P], [P, P]]).kappa)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([], "must be an items x raters matrix"),
        ([[P], [F]], "at least 2 raters"),
        ([[P, F], [P]], "rectangular|items x raters"),
        ([P, F], "must be an items x raters matrix"),
    ],
)
def test_matrix_input_errors(matrix: list, message: str) -> None:
    for function in (fleiss_kappa, krippendorff_alpha, gwet_ac1):
        with pytest.raises(ValueError, match=message):
            function(matrix)


# ---------------------------------------------------------------------------------------------
# krippendorff_alpha


def test_krippendorff_alpha_hand_example() -> None:
    # Coincidences o_ck = sum over items of (ordered c-k pairs) / (m_u - 1):
    #   PPP: o_PP += 6/2 = 3          PPF: o_PP += 2/2, o_PF += 2/2, o_FP += 2/2
    #   FFF: o_FF += 3                PFF: o_FF += 1, o_PF += 1, o_FP += 1
    #   P-P (m_u = 2): o_PP += 2/1
    # o_PP = 6, o_FF = 4, o_PF = o_FP = 2, n_P = 8, n_F = 6, n = 14
    # alpha = 1 - (n - 1) (o_PF + o_FP) / (n_P n_F + n_F n_P) = 1 - 13 * 4 / 96 = 11/24
    assert krippendorff_alpha(JURY) == pytest.approx(11 / 24, abs=1e-12)


def test_krippendorff_alpha_random_vs_package() -> None:
    rng = np.random.default_rng(13)
    labels = [F, P, U]
    for _ in range(10):
        matrix = _random_matrix(rng, 80, 4, labels, p_missing=0.3)
        numeric = np.full(matrix.shape, np.nan)
        for index, label in enumerate(labels):
            numeric[matrix == label] = index
        expected = krippendorff.alpha(reliability_data=numeric.T, level_of_measurement="nominal")
        assert krippendorff_alpha(matrix) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_undefined_cases() -> None:
    assert math.isnan(krippendorff_alpha([[P, P], [P, None]]))
    assert math.isnan(krippendorff_alpha([[None, None], [None, None]]))
    # Only item 2 is pairable, and it has one category.
    assert math.isnan(krippendorff_alpha([[P, None], [F, F]]))


# ---------------------------------------------------------------------------------------------
# gwet_ac1


def test_gwet_ac1_hand_example_with_missing() -> None:
    # p_a over items with r_i >= 2 (all five): (1 + 1/3 + 1 + 1/3 + 1) / 5 = 11/15
    # pi_PASS over items with r_i >= 1: (1 + 2/3 + 0 + 1/3 + 1) / 5 = 3/5, pi_FAIL = 2/5
    # p_e = (3/5 * 2/5 + 2/5 * 3/5) / (2 - 1) = 12/25
    # AC1 = (11/15 - 12/25) / (1 - 12/25) = (19/75) / (13/25) = 19/39
    assert gwet_ac1(JURY) == pytest.approx(19 / 39, abs=1e-12)


def test_gwet_ac1_hand_example_skewed() -> None:
    matrix = [[P, P, P], [P, P, P], [P, P, F], [P, P, None], [F, None, None]]
    # Item 5 has one rating: it counts for pi_k but not for p_a.
    # p_a = (1 + 1 + 2/6 + 2/2) / 4 = 5/6
    # pi_PASS = (1 + 1 + 2/3 + 1 + 0) / 5 = 11/15, pi_FAIL = 4/15
    # q = 2:  p_e = 2 * (11/15)(4/15) / 1 = 88/225
    #         AC1 = (5/6 - 88/225) / (1 - 88/225) = (597/1350) / (137/225) = 199/274
    # q = 3:  p_e = 88/225 / 2 = 44/225
    #         AC1 = (5/6 - 44/225) / (1 - 44/225) = (861/1350) / (181/225) = 287/362
    assert gwet_ac1(matrix) == pytest.approx(199 / 274, abs=1e-12)
    assert gwet_ac1(matrix, categories=[F, P, U]) == pytest.approx(287 / 362, abs=1e-12)


# Reference values from irrCAC 0.4.4 (CAC(ratings, categories=...).gwet(), 12 digits), computed
# in a separate environment because irrCAC pins scipy 1.12.0 and pandas < 3.
IRRCAC_CASES = [
    (
        [
            [F, P, F, None], [F, None, P, P], [F, F, P, P], [P, P, F, F], [F, F, P, None], [F, F, F, F],
            [F, P, F, F], [P, None, None, F], [F, P, F, F], [P, None, P, F], [F, F, F, F], [P, F, P, F],
        ],
        [F, P],
        -0.045751633987,
    ),
    (
        [
            [U, P, None, U, P], [U, None, P, U, None], [F, U, U, None, U], [F, None, P, None, P],
            [P, None, P, P, F], [U, U, U, None, P], [U, P, None, U, U], [None, P, U, U, F],
            [P, U, F, None, None], [U, U, P, U, F],
        ],
        [F, P, U],
        0.05737885595,
    ),
    (
        [
            [P, P, None], [P, P, None], [P, F, P], [P, P, P], [P, P, F], [P, P, P], [None, P, P],
            [P, P, P], [P, P, P], [P, F, P], [P, P, P], [None, P, F], [P, P, P], [P, F, P], [P, P, F],
        ],
        [F, P],
        0.616267628731,
    ),
]


@pytest.mark.parametrize(("matrix", "categories", "expected"), IRRCAC_CASES)
def test_gwet_ac1_matches_irrcac(matrix: list, categories: list[str], expected: float) -> None:
    assert gwet_ac1(matrix, categories=categories) == pytest.approx(expected, abs=1e-10)


def test_gwet_ac1_unanimous_needs_categories() -> None:
    unanimous = [[P, P, P], [P, P, P]]
    # With q = 2: pi = (0, 1), so p_e = 0 and AC1 = p_a = 1.
    assert gwet_ac1(unanimous, categories=[F, P]) == 1.0
    assert math.isnan(gwet_ac1(unanimous))


def test_unrated_items_change_no_coefficient() -> None:
    # An item no judge rated must not enter pi_k (AC1) or any other average.
    with_unrated = JURY + [[None, None, None]]
    assert gwet_ac1(with_unrated) == pytest.approx(gwet_ac1(JURY), abs=1e-12)
    assert krippendorff_alpha(with_unrated) == pytest.approx(krippendorff_alpha(JURY), abs=1e-12)
    assert fleiss_kappa(with_unrated).kappa == pytest.approx(fleiss_kappa(JURY).kappa, abs=1e-12)


def test_gwet_ac1_all_missing_is_nan() -> None:
    assert math.isnan(gwet_ac1([[None, None], [P, None]], categories=[F, P]))


def test_gwet_ac1_label_outside_categories() -> None:
    with pytest.raises(ValueError, match=r"not in categories .*'UNSCORED'"):
        gwet_ac1([[P, U], [F, F]], categories=[F, P])


# ---------------------------------------------------------------------------------------------
# mcnemar_test


def test_mcnemar_exact_hand_example() -> None:
    # 1 pair where only a is true, 5 where only b is true, 4 concordant.
    # Exact: p = 2 * P(X <= 1), X ~ Binomial(6, 1/2) = 2 * (1 + 6) / 64 = 14/64
    a = [True] + [False] * 5 + [True, True, False, False]
    b = [False] + [True] * 5 + [True, True, False, False]
    result = mcnemar_test(a, b)
    assert result.exact is True
    assert result.n_only_a == 1
    assert result.n_only_b == 5
    assert result.statistic == 1.0
    assert result.p_value == pytest.approx(14 / 64, abs=1e-12)


def test_mcnemar_chi_square_hand_example() -> None:
    # Continuity-corrected chi-square: (|1 - 5| - 1)^2 / (1 + 5) = 9/6 = 1.5
    a = [1, 0, 0, 0, 0, 0]
    b = [0, 1, 1, 1, 1, 1]
    result = mcnemar_test(a, b, exact=False)
    assert result.statistic == pytest.approx(1.5, abs=1e-12)
    assert result.p_value == pytest.approx(scipy_stats.chi2.sf(1.5, df=1), abs=1e-12)


def test_mcnemar_exact_below_25_discordant() -> None:
    assert mcnemar_test([True] * 24 + [False], [False] * 24 + [False]).exact is True
    assert mcnemar_test([True] * 25, [False] * 25).exact is False


def test_mcnemar_no_discordant_pairs() -> None:
    for exact in (True, False, None):
        result = mcnemar_test([True, False], [True, False], exact=exact)
        assert result.statistic == 0.0
        assert result.p_value == 1.0


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([True, "PASS"], [True, False], r"a\[1\] is 'PASS'"),
        ([True, 2], [True, False], r"a\[1\] is 2"),
        ([True], [True, False], "a has 1 values but b has 2"),
        ([], [], "empty"),
    ],
)
def test_mcnemar_input_errors(a: list, b: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mcnemar_test(a, b)


# ---------------------------------------------------------------------------------------------
# split_distribution


def test_split_distribution_panel_of_five() -> None:
    # Splits ignore direction: 5-0 twice, 4-1 twice, 3-2 three times; the last item has 4 votes.
    passed = [5, 0, 4, 1, 3, 2, 3, 2]
    failed = [0, 5, 1, 4, 2, 3, 2, 2]
    result = split_distribution(passed, failed, panel=5)
    assert result.counts == {"5-0": 2, "4-1": 2, "3-2": 3}
    assert result.n_items == 7
    assert result.n_incomplete == 1
    assert result.narrowest_majority_split == "3-2"
    assert result.narrowest_majority_share == pytest.approx(3 / 7)
    assert sum(result.shares.values()) == pytest.approx(1.0)


def test_split_distribution_panel_of_three() -> None:
    result = split_distribution([3, 2, 1, 0], [0, 1, 2, 3], panel=3)
    assert result.counts == {"3-0": 2, "2-1": 2}
    assert result.narrowest_majority_split == "2-1"
    assert result.narrowest_majority_share == 0.5


def test_split_distribution_even_panel_has_tie() -> None:
    result = split_distribution([4, 3, 2, 1], [0, 1, 2, 3], panel=4)
    assert result.counts == {"4-0": 1, "3-1": 2, "2-2": 1}
    assert result.narrowest_majority_split == "3-1"
    assert result.narrowest_majority_share == 0.5


def test_split_distribution_no_complete_item() -> None:
    result = split_distribution([1, 0], [0, 1], panel=3)
    assert result.n_items == 0
    assert math.isnan(result.narrowest_majority_share)


@pytest.mark.parametrize(
    ("passed", "failed", "panel", "message"),
    [
        ([3], [3], 5, "more than the panel of 5"),
        ([-1], [1], 3, "negative vote count"),
        ([1.5], [1], 3, "whole vote counts"),
        ([1], [1, 2], 3, "pass_counts has 1 items but fail_counts has 2"),
        ([1], [1], 0, "panel is 0"),
        ([], [], 3, "non-empty"),
    ],
)
def test_split_distribution_input_errors(passed: list, failed: list, panel: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_distribution(passed, failed, panel)


# ---------------------------------------------------------------------------------------------
# classification_report


def test_classification_report_hand_example() -> None:
    #               predicted FAIL  predicted PASS
    # truth FAIL          3               1
    # truth PASS          2               4
    # accuracy = 7/10; precision = 4 / (4 + 1) = 0.8; recall = 4 / (4 + 2) = 2/3
    # F1 = 2 * 4 / (2 * 4 + 1 + 2) = 8/11
    truth, predicted = _table_pairs({(F, F): 3, (F, P): 1, (P, F): 2, (P, P): 4})
    report = classification_report(truth, predicted)
    assert report.n_items == 10
    assert report.accuracy == pytest.approx(0.7)
    assert report.precision == pytest.approx(0.8)
    assert report.recall == pytest.approx(2 / 3)
    assert report.f1 == pytest.approx(8 / 11)
    assert report.cohen_kappa == pytest.approx(cohen_kappa(truth, predicted))
    assert report.confusion == {F: {F: 3, P: 1}, P: {F: 2, P: 4}}


def test_classification_report_without_positive_label() -> None:
    report = classification_report([F, F], [F, F])
    assert report.accuracy == 1.0
    assert math.isnan(report.precision)
    assert math.isnan(report.recall)
    assert math.isnan(report.f1)
    assert math.isnan(report.cohen_kappa)


def test_classification_report_rejects_missing_truth() -> None:
    with pytest.raises(ValueError, match=r"truth\[0\] is None"):
        classification_report([None, P], [P, P])


# ---------------------------------------------------------------------------------------------
# Clustered bootstrap


def _clustered_hits(seed: int = 3, n_clusters: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """0/1 hits whose rate varies by cluster, so clustering matters."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, size=n_clusters)
    cluster_rates = rng.beta(4, 2, size=n_clusters)
    clusters = np.repeat(np.arange(n_clusters), sizes)
    hits = (rng.random(clusters.shape[0]) < cluster_rates[clusters]).astype(float)
    return hits, clusters


def test_ratio_bootstrap_reproducible_with_seed() -> None:
    hits, clusters = _clustered_hits()
    first = clustered_bootstrap_ratio_ci(hits, np.ones_like(hits), clusters, n_resamples=500, seed=5)
    second = clustered_bootstrap_ratio_ci(hits, np.ones_like(hits), clusters, n_resamples=500, seed=5)
    other = clustered_bootstrap_ratio_ci(hits, np.ones_like(hits), clusters, n_resamples=500, seed=6)
    assert first == second
    assert (first.low, first.high) != (other.low, other.high)


def test_ratio_bootstrap_interval_contains_estimate() -> None:
    hits, clusters = _clustered_hits()
    interval = clustered_bootstrap_ratio_ci(hits, np.ones_like(hits), clusters, n_resamples=1000)
    assert interval.estimate == pytest.approx(hits.mean())
    assert interval.low < interval.estimate < interval.high
    assert interval.n_clusters == 60
    assert interval.n_invalid_resamples == 0


def test_bootstrap_paths_same_resamples() -> None:
    hits, clusters = _clustered_hits()
    fast = clustered_bootstrap_ratio_ci(hits, np.ones_like(hits), clusters, n_resamples=300, seed=9)
    generic = clustered_bootstrap_ci(lambda items: hits[items].mean(), clusters, n_resamples=300, seed=9)
    assert generic.estimate == pytest.approx(fast.estimate, abs=1e-12)
    assert generic.low == pytest.approx(fast.low, abs=1e-12)
    assert generic.high == pytest.approx(fast.high, abs=1e-12)


def test_bootstrap_resamples_whole_clusters() -> None:
    clusters = np.array(["t1", "t1", "t2", "t3", "t3", "t3"])
    seen: list[np.ndarray] = []

    def record(items: np.ndarray) -> float:
        seen.append(items)
        return float(len(items))

    clustered_bootstrap_ci(record, clusters, n_resamples=50, seed=1)
    for items in seen[1:]:
        drawn = clusters[items]
        for cluster_id, size in (("t1", 2), ("t2", 1), ("t3", 3)):
            assert np.count_nonzero(drawn == cluster_id) % size == 0


def test_clustered_interval_wider_than_iid() -> None:
    hits, clusters = _clustered_hits()
    ones = np.ones_like(hits)
    by_cluster = clustered_bootstrap_ratio_ci(hits, ones, clusters, n_resamples=2000)
    by_item = clustered_bootstrap_ratio_ci(hits, ones, np.arange(hits.shape[0]), n_resamples=2000)
    assert by_cluster.high - by_cluster.low > by_item.high - by_item.low


def test_kappa_bootstrap_matches_generic() -> None:
    rng = np.random.default_rng(21)
    clusters = np.repeat(np.arange(40), 5)
    a = rng.choice([P, F], size=200, p=[0.6, 0.4])
    b = np.where(rng.random(200) < 0.25, rng.choice([P, F], size=200), a)

    fast = cohen_kappa_bootstrap_ci(a, b, clusters, n_resamples=300, seed=4)
    generic = clustered_bootstrap_ci(lambda items: cohen_kappa(a[items], b[items]), clusters, n_resamples=300, seed=4)
    assert fast.estimate == cohen_kappa(a, b)
    assert fast.low == pytest.approx(generic.low, abs=1e-12)
    assert fast.high == pytest.approx(generic.high, abs=1e-12)
    assert fast.low < fast.estimate < fast.high


def test_bootstrap_counts_undefined_resamples() -> None:
    # Cluster "b" has denominator 0; a resample drawing only "b" gives NaN.
    numerators = [1.0, 0.0]
    denominators = [1.0, 0.0]
    interval = clustered_bootstrap_ratio_ci(numerators, denominators, ["a", "b"], n_resamples=400, seed=0)
    assert interval.estimate == 1.0
    assert 0 < interval.n_invalid_resamples < 400
    assert interval.low == interval.high == 1.0


def test_sums_bootstrap_with_two_columns() -> None:
    hits, clusters = _clustered_hits()
    values = np.column_stack([hits, 1.0 - hits])
    def difference(totals: np.ndarray) -> np.ndarray:
        return totals[:, 0] - totals[:, 1]

    interval = clustered_bootstrap_sums_ci(values, clusters, difference, n_resamples=200)
    assert interval.estimate == pytest.approx(hits.sum() - (1 - hits).sum())


def test_single_cluster_collapses_interval() -> None:
    interval = clustered_bootstrap_ratio_ci([1.0, 0.0, 1.0], [1.0, 1.0, 1.0], ["t", "t", "t"], n_resamples=20)
    assert interval.low == interval.high == interval.estimate == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clusters": ["a"]}, "clusters has 1 ids but the data has 2 items"),
        ({"clusters": ["a", None]}, r"clusters\[1\] is None"),
        ({"n_resamples": 0}, "n_resamples is 0"),
        ({"confidence": 1.0}, "confidence is 1.0"),
        ({"confidence": 95}, "confidence is 95"),
    ],
)
def test_bootstrap_input_errors(kwargs: dict, message: str) -> None:
    arguments = {"numerators": [1.0, 0.0], "denominators": [1.0, 1.0], "clusters": ["a", "b"]} | kwargs
    with pytest.raises(ValueError, match=message):
        clustered_bootstrap_ratio_ci(**arguments)


def test_bootstrap_rejects_non_finite_values() -> None:
    with pytest.raises(ValueError, match="row 1 .* must be finite"):
        clustered_bootstrap_ratio_ci([1.0, np.nan], [1.0, 1.0], ["a", "b"])


# ---------------------------------------------------------------------------------------------
# Properties

label_lists = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([P, F, U]), min_size=n, max_size=n),
        st.lists(st.sampled_from([P, F, U]), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(label_lists)
def test_agreement_and_kappa_ranges(pair: tuple[list[str], list[str]]) -> None:
    a, b = pair
    rate = agreement_rate(a, b)
    kappa = cohen_kappa(a, b)
    assert 0.0 <= rate <= 1.0
    assert math.isnan(kappa) or -1.0 - 1e-12 <= kappa <= 1.0 + 1e-12
    assert agreement_rate(b, a) == rate


matrices = st.integers(min_value=1, max_value=15).flatmap(
    lambda n: st.lists(
        st.lists(st.sampled_from([P, F, None]), min_size=3, max_size=3),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_gwet_ac1_range(matrix: list[list[str | None]]) -> None:
    ac1 = gwet_ac1(matrix, categories=[F, P])
    assert math.isnan(ac1) or -1.0 - 1e-12 <= ac1 <= 1.0 + 1e-12
