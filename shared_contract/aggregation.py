"""Pure aggregation: votes to a criterion decision, criterion decisions to a task outcome.

Every function here depends only on counts and sums computed with ``math.fsum``, so results do
not depend on the order of judges or criteria.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from shared_contract.audit import CriterionResult, Decision, Tally, Vote, VoteVerdict
from shared_contract.schema import Aggregation, Polarity, UnscoredPolicy, VoteRule, VoteRuleKind

UNGROUPED = "(ungrouped)"


def tally_votes(votes: Sequence[Vote], panel: int) -> Tally:
    """Count votes by verdict; ``panel`` is the number of configured seats."""
    counts = Counter(vote.verdict for vote in votes)
    return Tally(
        panel=panel,
        passed=counts[VoteVerdict.PASS],
        failed=counts[VoteVerdict.FAIL],
        invalid=counts[VoteVerdict.INVALID],
        not_called=counts[VoteVerdict.NOT_CALLED],
    )


def _describe(tally: Tally) -> str:
    return f"{tally.passed} PASS, {tally.failed} FAIL, {tally.invalid} invalid of a panel of {tally.panel}"


def _invalid_reasons(votes: Sequence[Vote]) -> str:
    reasons = Counter((vote.reason or "invalid").split(":")[0] for vote in votes if vote.verdict is VoteVerdict.INVALID)
    return ", ".join(f"{reason} x{count}" if count > 1 else reason for reason, count in sorted(reasons.items()))


def decide_criterion(votes: Sequence[Vote], panel: int, rule: VoteRule) -> tuple[Decision, str | None, Tally]:
    """Apply the vote rule to a criterion's votes.

    Invalid votes stay in the panel: under a strict majority a panel of 3 with one PASS, one FAIL
    and one invalid vote has no decision. Ties and missing majorities are UNSCORED with a reason,
    never FAIL.

    Returns:
        The decision, the reason when it is UNSCORED (otherwise None), and the tally.
    """
    tally = tally_votes(votes, panel)
    valid = tally.passed + tally.failed

    if panel <= 0:
        return Decision.UNSCORED, "no jury configured", tally
    if valid == 0:
        reasons = _invalid_reasons(votes)
        return Decision.UNSCORED, f"no valid vote of {panel}" + (f": {reasons}" if reasons else ""), tally
    if rule.quorum is not None and valid < rule.quorum:
        return Decision.UNSCORED, f"quorum not met: {valid} valid votes, {rule.quorum} required", tally

    if rule.kind is VoteRuleKind.MAJORITY:
        if 2 * tally.passed > panel:
            return Decision.PASS, None, tally
        if 2 * tally.failed > panel:
            return Decision.FAIL, None, tally
        if tally.passed == tally.failed and tally.invalid == 0 and tally.not_called == 0:
            return Decision.UNSCORED, f"tie: {tally.passed}-{tally.failed} is not a strict majority of {panel}", tally
        return Decision.UNSCORED, f"no strict majority: {_describe(tally)}", tally

    if rule.kind is VoteRuleKind.AT_LEAST:
        needed = rule.k or 1
        if tally.passed >= needed:
            return Decision.PASS, None, tally
        if tally.failed > panel - needed:
            return Decision.FAIL, None, tally
        return Decision.UNSCORED, f"neither {needed} PASS votes nor enough FAIL votes: {_describe(tally)}", tally

    if tally.failed > 0:
        return Decision.FAIL, None, tally
    if tally.passed == panel:
        return Decision.PASS, None, tally
    return Decision.UNSCORED, f"not unanimous: {_describe(tally)}", tally


def median_score(votes: Sequence[Vote]) -> float | None:
    """Median normalised score of the valid votes that carry one."""
    scores = sorted(v.score for v in votes if v.score is not None and v.verdict in (VoteVerdict.PASS, VoteVerdict.FAIL))
    return statistics.median(scores) if scores else None


@dataclass(frozen=True)
class TaskOutcome:
    """A task's score, outcome and coverage."""

    score: float | None
    outcome: Decision
    reason: str | None
    coverage: float


def _effective(result: CriterionResult, policy: UnscoredPolicy) -> Decision:
    """Decision used for the score: under count_as_fail an unscored criterion counts as not satisfied."""
    if result.decision is Decision.UNSCORED and policy is UnscoredPolicy.COUNT_AS_FAIL:
        # Not satisfied: a positive criterion earns nothing, a negative one (a penalty) applies.
        return Decision.FAIL if result.polarity == Polarity.POSITIVE else Decision.PASS
    return result.decision


def _points_score(results: Sequence[CriterionResult], policy: UnscoredPolicy) -> float | None:
    """Earned points over scored positive points; None when no positive criterion is scored."""
    earned: list[float] = []
    possible: list[float] = []
    for result in results:
        decision = _effective(result, policy)
        if decision is Decision.UNSCORED:
            continue
        points = abs(result.weight)
        if result.polarity == Polarity.POSITIVE:
            possible.append(points)
            if decision is Decision.PASS:
                earned.append(points)
        elif decision is Decision.PASS:
            # A met negative criterion subtracts its points; the score may fall below 0.
            earned.append(-points)
    denominator = math.fsum(possible)
    if denominator <= 0:
        return None
    return math.fsum(earned) / denominator


def task_score(results: Sequence[CriterionResult], aggregation: Aggregation) -> float | None:
    """Weighted task score; groups, when declared, are scored separately and mixed by group weight.

    Criteria without a group form one implicit group of weight 1 when groups are declared.
    """
    policy = aggregation.unscored_policy
    if not aggregation.groups:
        return _points_score(results, policy)

    by_group: dict[str, list[CriterionResult]] = {}
    for result in results:
        by_group.setdefault(result.group or UNGROUPED, []).append(result)
    weighted: list[float] = []
    weights: list[float] = []
    for group, members in sorted(by_group.items()):
        score = _points_score(members, policy)
        if score is None:
            continue
        weight = aggregation.groups.get(group, 1.0)
        weighted.append(weight * score)
        weights.append(weight)
    total_weight = math.fsum(weights)
    return math.fsum(weighted) / total_weight if total_weight > 0 else None


def coverage(results: Sequence[CriterionResult]) -> float:
    """Share of all criterion points whose criterion was decided."""
    total = math.fsum(abs(r.weight) for r in results)
    scored = math.fsum(abs(r.weight) for r in results if r.decision is not Decision.UNSCORED)
    return scored / total if total > 0 else 0.0


def decide_task(results: Sequence[CriterionResult], aggregation: Aggregation) -> TaskOutcome:
    """Turn criterion decisions into the task outcome.

    Order of rules: a required criterion that is not satisfied fails the task; otherwise the task
    is UNSCORED when a required criterion is unscored, when the unscored policy says so, when no
    positive criterion is scored, or when coverage is below the minimum; otherwise it passes when
    the score reaches the threshold.
    """
    policy = aggregation.unscored_policy
    covered = coverage(results)
    score = task_score(results, aggregation)

    for result in sorted(results, key=lambda r: r.id):
        if not result.required:
            continue
        decision = _effective(result, policy)
        unsatisfied = Decision.FAIL if result.polarity == Polarity.POSITIVE else Decision.PASS
        if decision is unsatisfied:
            return TaskOutcome(score, Decision.FAIL, f"required criterion {result.id!r} not satisfied", covered)

    unscored = sorted(r.id for r in results if r.decision is Decision.UNSCORED)
    required_unscored = sorted(r.id for r in results if r.required and _effective(r, policy) is Decision.UNSCORED)
    if required_unscored:
        return TaskOutcome(score, Decision.UNSCORED, f"required criteria unscored: {required_unscored}", covered)
    if unscored and policy is UnscoredPolicy.UNSCORE_TASK:
        return TaskOutcome(score, Decision.UNSCORED, f"criteria unscored: {unscored}", covered)
    if score is None:
        return TaskOutcome(None, Decision.UNSCORED, "no positive criterion was scored", covered)
    if covered < aggregation.min_coverage:
        return TaskOutcome(
            score, Decision.UNSCORED, f"coverage {covered:.3f} is below the minimum {aggregation.min_coverage}", covered
        )
    # The tolerance absorbs float error in sums such as 0.1 + 0.2 against a threshold of 0.3.
    if score >= aggregation.pass_threshold - 1e-9:
        return TaskOutcome(score, Decision.PASS, None, covered)
    return TaskOutcome(score, Decision.FAIL, f"score {score:.4f} is below the pass threshold {aggregation.pass_threshold}", covered)
