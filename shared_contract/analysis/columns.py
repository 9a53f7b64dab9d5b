"""Columnar form of verdict records: numpy arrays extracted once, so the comparison never loops over votes.

Codes used in the arrays:

* decisions and outcomes: ``FAIL_CODE`` 0, ``PASS_CODE`` 1, ``UNSCORED_CODE`` 2;
* votes: 0 FAIL, 1 PASS, ``INVALID_CODE`` 2, ``NOT_CALLED_CODE`` 3, ``NO_SEAT`` -1 where a seat has
  no vote on that criterion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared_contract.analysis.gc_pause import garbage_collection_paused
from shared_contract.audit import Decision, VerdictRecord, VoteVerdict

FAIL_CODE = 0
PASS_CODE = 1
UNSCORED_CODE = 2
INVALID_CODE = 2
NOT_CALLED_CODE = 3
NO_SEAT = -1

DECISION_LABELS = ("FAIL", "PASS", "UNSCORED")

_DECISION_CODES = {Decision.FAIL: FAIL_CODE, Decision.PASS: PASS_CODE, Decision.UNSCORED: UNSCORED_CODE}
_VOTE_CODES = {
    VoteVerdict.FAIL: FAIL_CODE,
    VoteVerdict.PASS: PASS_CODE,
    VoteVerdict.INVALID: INVALID_CODE,
    VoteVerdict.NOT_CALLED: NOT_CALLED_CODE,
}


@dataclass(frozen=True)
class RecordColumns:
    """The verdict records of one jury as arrays: one row per record and one row per criterion result.

    Attributes:
        contract_id: Per record, object array of str.
        contract_hash: Per record, object array of str.
        solver: Per record, object array of str or None.
        sample_id: Per record, object array of str or None.
        epoch: Per record, object array of int or None.
        jury_name: Per record, object array of str or None.
        outcome: Per record, decision code (int8).
        score: Per record, task score, NaN when the record has none.
        cost_usd: Per record, total judge cost in USD, NaN when any vote's price is unknown.
        latency_s: Per record, judge latency summed over votes, in seconds.
        criterion_record: Per criterion result, index of its record row (int64).
        criterion_id: Per criterion result, object array of str.
        is_jury: Per criterion result, whether the criterion was judged by the jury.
        decision: Per criterion result, decision code (int8).
        panel: Per criterion result, configured seats (the tally's panel, else the number of votes).
        criterion_cost_usd: Per criterion result, cost of its called votes in USD, NaN when any is unknown.
        criterion_latency_s: Per criterion result, latency summed over its votes, in seconds.
        votes: Criterion results x seats vote codes (int8), ``NO_SEAT`` where a seat did not vote.
        seats: Seat names, one per column of ``votes``, sorted.
        seat_models: Judge model of each seat (the first one seen when a seat changed model).
    """

    contract_id: np.ndarray
    contract_hash: np.ndarray
    solver: np.ndarray
    sample_id: np.ndarray
    epoch: np.ndarray
    jury_name: np.ndarray
    outcome: np.ndarray
    score: np.ndarray
    cost_usd: np.ndarray
    latency_s: np.ndarray
    criterion_record: np.ndarray
    criterion_id: np.ndarray
    is_jury: np.ndarray
    decision: np.ndarray
    panel: np.ndarray
    criterion_cost_usd: np.ndarray
    criterion_latency_s: np.ndarray
    votes: np.ndarray
    seats: tuple[str, ...]
    seat_models: tuple[str, ...]

    @property
    def n_records(self) -> int:
        """Number of records."""
        return int(self.outcome.shape[0])

    @property
    def n_criteria(self) -> int:
        """Number of criterion results over all records."""
        return int(self.decision.shape[0])


def _object_array(values: Sequence[object]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def columns_from_records(records: Sequence[VerdictRecord]) -> RecordColumns:
    """Extract the arrays the comparison needs from verdict records, in one pass over the votes.

    Args:
        records: Verdict records of one jury.

    Returns:
        The columnar form. Seats are the union of the seat names that voted, sorted by name.

    Raises:
        ValueError: If ``records`` is empty.
    """
    if not records:
        raise ValueError("no verdict records to analyse; pass at least one record")
    with garbage_collection_paused():
        return _extract(records)


def _extract(records: Sequence[VerdictRecord]) -> RecordColumns:

    n_criteria = sum(len(record.criteria) for record in records)
    criterion_record = np.empty(n_criteria, dtype=np.int64)
    criterion_ids: list[str] = []
    is_jury = np.empty(n_criteria, dtype=bool)
    decision = np.empty(n_criteria, dtype=np.int8)
    panel = np.empty(n_criteria, dtype=np.int32)
    criterion_cost = np.empty(n_criteria, dtype=np.float64)
    criterion_latency = np.empty(n_criteria, dtype=np.float64)

    vote_rows: list[int] = []
    vote_seats: list[int] = []
    vote_codes: list[int] = []
    seat_index: dict[str, int] = {}
    seat_models: dict[str, str] = {}

    row = 0
    for record_index, record in enumerate(records):
        for result in record.criteria:
            criterion_record[row] = record_index
            criterion_ids.append(result.id)
            is_jury[row] = result.method == "jury"
            decision[row] = _DECISION_CODES[result.decision]
            panel[row] = result.tally.panel if result.tally is not None and result.tally.panel else len(result.votes)

            cost = 0.0
            latency = 0.0
            for vote in result.votes:
                seat = seat_index.get(vote.seat)
                if seat is None:
                    seat = seat_index[vote.seat] = len(seat_index)
                    seat_models[vote.seat] = vote.model
                code = _VOTE_CODES[vote.verdict]
                vote_rows.append(row)
                vote_seats.append(seat)
                vote_codes.append(code)
                latency += vote.timing.latency_s
                if code != NOT_CALLED_CODE:
                    cost += math.nan if vote.cost_usd is None else vote.cost_usd
            criterion_cost[row] = cost
            criterion_latency[row] = latency
            row += 1

    # Columns follow sorted seat names, so the layout does not depend on the order votes were seen.
    seats = tuple(sorted(seat_index))
    column_of_first_seen = np.empty(len(seat_index), dtype=np.int64)
    for column, name in enumerate(seats):
        column_of_first_seen[seat_index[name]] = column
    votes = np.full((n_criteria, len(seats)), NO_SEAT, dtype=np.int8)
    if vote_rows:
        votes[np.asarray(vote_rows), column_of_first_seen[np.asarray(vote_seats)]] = np.asarray(vote_codes, dtype=np.int8)

    return RecordColumns(
        contract_id=_object_array([record.contract_id for record in records]),
        contract_hash=_object_array([record.contract_hash for record in records]),
        solver=_object_array([record.solver for record in records]),
        sample_id=_object_array([record.sample_id for record in records]),
        epoch=_object_array([record.epoch for record in records]),
        jury_name=_object_array([record.jury.name for record in records]),
        outcome=np.array([_DECISION_CODES[record.outcome] for record in records], dtype=np.int8),
        score=np.array([math.nan if record.score is None else record.score for record in records], dtype=np.float64),
        cost_usd=np.array(
            [math.nan if record.totals.cost_usd is None else record.totals.cost_usd for record in records], dtype=np.float64
        ),
        latency_s=np.array([record.totals.latency_s for record in records], dtype=np.float64),
        criterion_record=criterion_record,
        criterion_id=_object_array(criterion_ids),
        is_jury=is_jury,
        decision=decision,
        panel=panel,
        criterion_cost_usd=criterion_cost,
        criterion_latency_s=criterion_latency,
        votes=votes,
        seats=seats,
        seat_models=tuple(seat_models[name] for name in seats),
    )
