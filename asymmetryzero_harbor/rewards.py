"""Turn a verdict record into Harbor rewards, or explain why it must not become one.

Rules:

- ``reward`` is the record's task score clipped to [0, 1]. A negative score (penalties
  above the earned points) becomes 0 in the reward only; the record keeps the raw score.
  A score above 1 cannot come from the core, so it is rejected rather than clipped.
- Extra keys are written only when the contract lists them in ``reward_keys``, and then
  always: ``score`` is the raw score (it may be negative), ``coverage`` the share of
  criterion weight that was decided, and ``pass`` 1.0 for a PASS outcome, else 0.0.
- No reward exists for an UNSCORED outcome, for a missing or non-finite score, or when
  every judge call failed on transport (rate limit, server error, timeout, connection or
  provider error after retries). In those cases Harbor must mark the trial as errored
  instead of recording a 0, because such a verdict measures the judges, not the agent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shared_contract.audit import Decision, VerdictRecord
from shared_contract.grading import judge_outage

REWARD_KEY = "reward"

# Float error tolerated above 1 before a score counts as out of range.
_RANGE_TOLERANCE = 1e-9


class NoRewardError(Exception):
    """The verdict record must not become a Harbor reward; the message gives the reason."""


def _finite(name: str, value: float | None) -> float:
    if value is None or not math.isfinite(value):
        raise NoRewardError(f"the verdict's {name} is {value!r}, not a finite number: no reward is written")
    return float(value)


def rewards_from_record(record: VerdictRecord, reward_keys: Sequence[str] = ()) -> dict[str, float]:
    """Map a verdict record to Harbor's reward dict.

    Args:
        record: The verdict record.
        reward_keys: The contract's ``reward_keys``: extra keys among "score", "coverage" and "pass".

    Returns:
        ``{"reward": ...}`` plus one entry per requested extra key, every value finite.

    Raises:
        NoRewardError: The outcome is UNSCORED, the score is missing, non-finite or above 1,
            the coverage is outside [0, 1], or every judge call failed on transport.
    """
    # The outage is checked first because it names the cause that an UNSCORED outcome hides.
    outage = judge_outage(record.criteria)
    if outage is not None:
        raise NoRewardError(f"{outage}: the judges are unreachable, so no reward is written")
    if record.outcome is Decision.UNSCORED:
        raise NoRewardError(f"the verdict is UNSCORED ({record.outcome_reason or 'no reason given'}): no reward is written")

    score = _finite("score", record.score)
    if score > 1 + _RANGE_TOLERANCE:
        raise NoRewardError(f"the verdict's score {score} is above 1, outside the reward range [0, 1]: no reward is written")
    coverage = _finite("coverage", record.coverage)
    if not 0 <= coverage <= 1 + _RANGE_TOLERANCE:
        raise NoRewardError(f"the verdict's coverage {coverage} is outside [0, 1]: no reward is written")

    rewards = {REWARD_KEY: min(max(score, 0.0), 1.0)}
    extras = {"score": score, "coverage": min(coverage, 1.0), "pass": 1.0 if record.outcome is Decision.PASS else 0.0}
    for key in reward_keys:
        if key not in extras:
            raise NoRewardError(f"reward key {key!r} is not one of {sorted(extras)}: no reward is written")
        rewards[key] = extras[key]
    return rewards
