"""Re-aggregate stored votes under another vote rule, with no judge call."""

from __future__ import annotations

from shared_contract.aggregation import decide_criterion, decide_task, median_score
from shared_contract.audit import VerdictRecord, VoteVerdict
from shared_contract.schema import Contract, VoteRule, VoteRuleKind


def parse_vote_rule(text: str) -> VoteRule:
    """Parse 'majority', 'unanimous' or 'at_least:K' (optionally ',quorum:Q').

    Raises:
        ValueError: the text names no known rule.
    """
    parts = dict(item.split(":", 1) if ":" in item else (item, "") for item in text.split(","))
    quorum = int(parts.pop("quorum")) if "quorum" in parts else None
    if "at_least" in parts:
        return VoteRule(kind=VoteRuleKind.AT_LEAST, k=int(parts["at_least"]), quorum=quorum)
    for kind in (VoteRuleKind.MAJORITY, VoteRuleKind.UNANIMOUS):
        if kind.value in parts:
            return VoteRule(kind=kind, quorum=quorum)
    raise ValueError(f"unknown vote rule {text!r}: use majority, unanimous or at_least:K, optionally with ,quorum:Q")


def reaggregate(record: VerdictRecord, contract: Contract, rule: VoteRule) -> VerdictRecord:
    """Return a copy of the record with jury decisions recomputed from its votes under ``rule``.

    Criteria whose votes were never requested (empty response, no jury, unreadable material)
    keep their decision, because no vote exists to apply a rule to.
    """
    criteria = []
    for result in record.criteria:
        called = [vote for vote in result.votes if vote.verdict is not VoteVerdict.NOT_CALLED]
        if result.method != "jury" or not called:
            criteria.append(result)
            continue
        decision, reason, tally = decide_criterion(result.votes, len(result.votes), rule)
        criteria.append(
            result.model_copy(update={"decision": decision, "reason": reason, "tally": tally, "split": tally.split, "score": median_score(result.votes)})
        )
    outcome = decide_task(criteria, contract.aggregation)
    jury = record.jury.model_copy(update={"vote_rule": rule.model_dump(mode="json")})
    return record.model_copy(
        update={"criteria": criteria, "score": outcome.score, "outcome": outcome.outcome, "outcome_reason": outcome.reason, "coverage": outcome.coverage, "jury": jury}
    )
