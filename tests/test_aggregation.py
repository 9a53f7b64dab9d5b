"""Aggregation: vote rules, weighted points, penalties, required criteria, coverage, order independence."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_contract.aggregation import decide_criterion, decide_task
from shared_contract.audit import CriterionResult, Decision, Vote, VoteVerdict
from shared_contract.schema import Aggregation, UnscoredPolicy, VoteRule, VoteRuleKind


def result(cid: str, decision: str, weight: float = 1.0, polarity: str = "positive", required: bool = False, group: str | None = None) -> CriterionResult:
    return CriterionResult(id=cid, method="jury", weight=weight, polarity=polarity, required=required, group=group, decision=Decision(decision))


def votes(*verdicts: str) -> list[Vote]:
    return [Vote(seat=f"J{i}", model="m", verdict=VoteVerdict(v)) for i, v in enumerate(verdicts, start=1)]


TASK_CASES = [
    # (criteria, aggregation, expected score, expected outcome, expected coverage)
    ([result("a", "PASS", 5), result("b", "FAIL", 3), result("c", "PASS", 4, "negative")], Aggregation(pass_threshold=0.1), 0.125, "PASS", 1.0),
    ([result("a", "FAIL", 5), result("b", "FAIL", 3), result("c", "PASS", 4, "negative")], Aggregation(), -0.5, "FAIL", 1.0),
    ([result("a", "PASS", 1), result("b", "FAIL", 1)], Aggregation(pass_threshold=0.5), 0.5, "PASS", 1.0),
    ([result("b", "FAIL", 1), result("a", "PASS", 1)], Aggregation(pass_threshold=0.5), 0.5, "PASS", 1.0),
    ([result("a", "PASS", 9), result("r", "FAIL", 1, required=True)], Aggregation(pass_threshold=0.5), 0.9, "FAIL", 1.0),
    ([result("a", "PASS", 1), result("b", "UNSCORED", 1)], Aggregation(), 1.0, "PASS", 0.5),
    ([result("a", "PASS", 1), result("b", "UNSCORED", 1)], Aggregation(unscored_policy=UnscoredPolicy.COUNT_AS_FAIL), 0.5, "FAIL", 0.5),
    ([result("a", "PASS", 1), result("b", "UNSCORED", 1)], Aggregation(unscored_policy=UnscoredPolicy.UNSCORE_TASK), 1.0, "UNSCORED", 0.5),
    ([result("a", "PASS", 1), result("b", "UNSCORED", 3)], Aggregation(min_coverage=0.5), 1.0, "UNSCORED", 0.25),
    ([result("a", "UNSCORED", 1)], Aggregation(), None, "UNSCORED", 0.0),
    ([result("a", "PASS", 1), result("r", "UNSCORED", 1, required=True)], Aggregation(), 1.0, "UNSCORED", 0.5),
    ([result("a", "PASS", 1), result("n", "PASS", 1, "negative", required=True)], Aggregation(pass_threshold=0.0), 0.0, "FAIL", 1.0),
    (
        [result("a", "PASS", 1, group="g1"), result("b", "FAIL", 1, group="g2"), result("c", "PASS", 1, group="g2")],
        Aggregation(groups={"g1": 3, "g2": 1}, pass_threshold=0.8),
        (3 * 1.0 + 1 * 0.5) / 4,
        "PASS",
        1.0,
    ),
]


@pytest.mark.parametrize(("criteria", "aggregation", "score", "outcome", "coverage"), TASK_CASES)
def test_task_outcome_table(criteria, aggregation, score, outcome, coverage) -> None:
    decided = decide_task(criteria, aggregation)
    if score is None:
        assert decided.score is None
    else:
        assert decided.score == pytest.approx(score)
    assert decided.outcome.value == outcome
    assert decided.coverage == pytest.approx(coverage)


VOTE_CASES = [
    (("PASS", "PASS", "FAIL"), VoteRule(), "PASS", "2-1"),
    (("PASS", "INVALID", "FAIL"), VoteRule(), "UNSCORED", "1-1"),
    (("PASS", "PASS", "FAIL", "FAIL"), VoteRule(), "UNSCORED", "2-2"),
    (("PASS", "INVALID", "INVALID"), VoteRule(), "UNSCORED", "1-0"),
    (("FAIL", "FAIL", "INVALID"), VoteRule(), "FAIL", "2-0"),
    (("PASS", "PASS", "PASS", "FAIL", "FAIL"), VoteRule(), "PASS", "3-2"),
    (("PASS", "PASS", "FAIL", "FAIL", "FAIL"), VoteRule(kind=VoteRuleKind.AT_LEAST, k=2), "PASS", "3-2"),
    (("PASS", "FAIL", "FAIL", "FAIL", "FAIL"), VoteRule(kind=VoteRuleKind.AT_LEAST, k=2), "FAIL", "4-1"),
    (("PASS", "FAIL", "FAIL", "FAIL", "INVALID"), VoteRule(kind=VoteRuleKind.AT_LEAST, k=2), "UNSCORED", "3-1"),
    (("PASS", "PASS", "PASS"), VoteRule(kind=VoteRuleKind.UNANIMOUS), "PASS", "3-0"),
    (("PASS", "PASS", "FAIL"), VoteRule(kind=VoteRuleKind.UNANIMOUS), "FAIL", "2-1"),
    (("PASS", "PASS", "INVALID"), VoteRule(kind=VoteRuleKind.UNANIMOUS), "UNSCORED", "2-0"),
    (("PASS", "PASS", "INVALID", "INVALID", "INVALID"), VoteRule(kind=VoteRuleKind.AT_LEAST, k=2, quorum=3), "UNSCORED", "2-0"),
    (("INVALID", "INVALID", "INVALID"), VoteRule(), "UNSCORED", "0-0"),
]


@pytest.mark.parametrize(("verdicts", "rule", "decision", "split"), VOTE_CASES)
def test_vote_rule_table(verdicts, rule, decision, split) -> None:
    decided, reason, tally = decide_criterion(votes(*verdicts), len(verdicts), rule)
    assert decided.value == decision
    assert tally.split == split
    if decided is Decision.UNSCORED:
        assert reason


def test_tie_reason_names_tie() -> None:
    _, reason, _ = decide_criterion(votes("PASS", "PASS", "FAIL", "FAIL"), 4, VoteRule())
    assert reason is not None and reason.startswith("tie")


def test_vote_order_never_matters() -> None:
    for verdicts, rule, decision, _ in VOTE_CASES:
        for permutation in itertools.permutations(verdicts):
            assert decide_criterion(votes(*permutation), len(verdicts), rule)[0].value == decision


decisions = st.sampled_from(["PASS", "FAIL", "UNSCORED"])
criteria_lists = st.lists(
    st.tuples(decisions, st.floats(min_value=0.01, max_value=1000), st.sampled_from(["positive", "negative"]), st.booleans()),
    min_size=1,
    max_size=12,
)


def _results(items) -> list[CriterionResult]:
    return [result(f"c{i}", d, w, p, required=r) for i, (d, w, p, r) in enumerate(items)]


@given(criteria_lists, st.randoms())
def test_task_order_independent(items, rng) -> None:
    criteria = _results(items)
    shuffled = list(criteria)
    rng.shuffle(shuffled)
    for aggregation in (Aggregation(), Aggregation(unscored_policy=UnscoredPolicy.COUNT_AS_FAIL)):
        first, second = decide_task(criteria, aggregation), decide_task(shuffled, aggregation)
        assert first == second


@given(criteria_lists)
def test_task_score_bounds(items) -> None:
    criteria = _results(items)
    decided = decide_task(criteria, Aggregation())
    assert 0.0 <= decided.coverage <= 1.0
    if decided.score is not None:
        positive = math.fsum(w for _, w, p, _ in items if p == "positive")
        negative = math.fsum(w for _, w, p, _ in items if p == "negative")
        assert decided.score <= 1.0 + 1e-9
        assert decided.score >= -negative / min(w for _, w, p, _ in items if p == "positive") - 1e-9 or positive == 0
    if decided.outcome is Decision.FAIL:
        assert any(r.decision is not Decision.UNSCORED for r in criteria)
