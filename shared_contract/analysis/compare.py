"""Compare two juries that graded the same contracts and solver outputs.

Records of jury A and jury B are paired by (contract hash, contract id, solver, sample id, epoch)
and their criteria by id. Criterion-level statistics use the paired criteria that both juries
judged (method ``jury``); deterministic checks give both juries the same result and are left out.
Intervals come from a task-clustered percentile bootstrap, where a task is a contract id with a
sample id: every criterion decision, solver and epoch of a task is resampled together.

Point estimates come from ``shared_contract.analysis.stats``. The intervals come from the
vectorised sum form in ``sum_statistics``, which gives the same values on all items.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from shared_contract.analysis.columns import RecordColumns, columns_from_records
from shared_contract.analysis.gc_pause import garbage_collection_paused
from shared_contract.analysis.expert import NO_LABEL, ExpertLabel, attach_labels
from shared_contract.analysis.group_statistics import GroupItems, compare_group, label_scores_without_intervals
from shared_contract.analysis.report_model import (
    JURY_KEYS,
    OVERALL,
    BootstrapSettings,
    ComparisonReport,
    CriterionLabelComparison,
    HashMismatch,
    JurySource,
    LabelSource,
)
from shared_contract.audit import VerdictRecord

logger = logging.getLogger(__name__)

GROUPINGS = ("solver", "contract", "none")
NO_SOLVER = "(no solver)"


class ContractHashMismatchError(ValueError):
    """The juries graded one contract id under different contract hashes (different contract versions)."""


class DuplicateRecordError(ValueError):
    """One jury has two records for the same contract, solver, sample and epoch, so pairing is ambiguous."""


class NoMatchedRecordsError(ValueError):
    """No record of jury A has a counterpart in jury B."""


RecordKey = tuple[Hashable, ...]


@dataclass(frozen=True)
class Pairing:
    """Records and criterion results paired across the juries.

    Attributes:
        record_a: Record row of A per pair.
        record_b: Record row of B per pair.
        criterion_a: Criterion row of A per paired jury criterion.
        criterion_b: Criterion row of B per paired jury criterion.
        criterion_pair: Pair index of each paired jury criterion.
        n_non_jury: Paired criterion results decided by checks in either jury.
        n_unmatched_criteria: Criterion results of paired records without a counterpart, per jury.
        hash_mismatches: Contract ids whose hashes differ between the juries.
    """

    record_a: np.ndarray
    record_b: np.ndarray
    criterion_a: np.ndarray
    criterion_b: np.ndarray
    criterion_pair: np.ndarray
    n_non_jury: int
    n_unmatched_criteria: tuple[int, int]
    hash_mismatches: list[HashMismatch]


def compare_records(
    records_a: Sequence[VerdictRecord],
    records_b: Sequence[VerdictRecord],
    *,
    by: str = "solver",
    labels: Sequence[ExpertLabel] | None = None,
    allow_hash_mismatch: bool = False,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    sources: tuple[str, str] = ("A", "B"),
    label_source: str = "expert labels",
) -> ComparisonReport:
    """Compare jury A with jury B on the same contracts and solver outputs.

    Args:
        records_a: Verdict records of jury A.
        records_b: Verdict records of jury B.
        by: Grouping of the per-group statistics: "solver", "contract" or "none" (overall only).
        labels: Expert labels to score both juries against, or None.
        allow_hash_mismatch: Pair records of one contract id even when their contract hashes differ.
        n_resamples: Bootstrap resamples per group.
        confidence: Nominal coverage of the intervals.
        seed: Bootstrap seed; None draws fresh entropy.
        sources: Descriptions of where A's and B's records came from, for the report.
        label_source: Description of the label file, for the report.

    Returns:
        The comparison report.

    Raises:
        ValueError: If ``by`` is unknown or either side has no records.
        ContractHashMismatchError: If a contract id has different hashes in A and B and
            ``allow_hash_mismatch`` is False.
        DuplicateRecordError: If one side has two records with the same pairing key.
        NoMatchedRecordsError: If no record pairs up.
    """
    return compare_columns(
        columns_from_records(records_a),
        columns_from_records(records_b),
        by=by,
        labels=labels,
        allow_hash_mismatch=allow_hash_mismatch,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        sources=sources,
        label_source=label_source,
    )


def compare_columns(
    a: RecordColumns,
    b: RecordColumns,
    *,
    by: str = "solver",
    labels: Sequence[ExpertLabel] | None = None,
    allow_hash_mismatch: bool = False,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    sources: tuple[str, str] = ("A", "B"),
    label_source: str = "expert labels",
) -> ComparisonReport:
    """Compare two juries given in columnar form; see ``compare_records`` for arguments and errors."""
    if by not in GROUPINGS:
        raise ValueError(f"by is {by!r}; use one of {list(GROUPINGS)}")
    with garbage_collection_paused():
        return _compare(a, b, by, labels, allow_hash_mismatch, n_resamples, confidence, seed, sources, label_source)


def _compare(
    a: RecordColumns,
    b: RecordColumns,
    by: str,
    labels: Sequence[ExpertLabel] | None,
    allow_hash_mismatch: bool,
    n_resamples: int,
    confidence: float,
    seed: int | None,
    sources: tuple[str, str],
    label_source: str,
) -> ComparisonReport:

    pairing = pair_records(a, b, allow_hash_mismatch=allow_hash_mismatch)
    items = _paired_items(a, b, pairing, by)
    notes = _pairing_notes(a, b, pairing, allow_hash_mismatch)

    label_info: LabelSource | None = None
    if labels is not None:
        label_info = _attach_expert_labels(items, labels, label_source)
        if label_info.n_unmatched_labels:
            notes.append(f"{label_info.n_unmatched_labels} of {label_info.n_labels} expert labels matched no paired criterion")

    settings = BootstrapSettings(n_resamples=n_resamples, confidence=confidence, seed=seed)
    groups = [compare_group(OVERALL, items, np.ones(items.n_criteria, bool), np.ones(items.n_tasks, bool), settings)]
    if by != "none":
        for index, name in enumerate(items.group_names):
            groups.append(
                compare_group(name, items, items.criterion_group == index, items.task_group == index, settings)
            )

    report = ComparisonReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        by=by,
        juries={
            key: _jury_source(key, columns, source, pairing, index)
            for index, (key, columns, source) in enumerate(zip(JURY_KEYS, (a, b), sources, strict=True))
        },
        n_matched_records=int(pairing.record_a.shape[0]),
        n_matched_criteria=int(pairing.criterion_a.shape[0]),
        n_non_jury_criteria=pairing.n_non_jury,
        allow_hash_mismatch=allow_hash_mismatch,
        hash_mismatches=pairing.hash_mismatches,
        bootstrap=settings,
        groups=groups,
        labels=label_info,
        notes=notes,
    )
    # The notes travel in the report and every renderer shows them, so the log only repeats them at INFO.
    for note in notes:
        logger.info("%s", note)
    return report


# ---------------------------------------------------------------------------------------------
# Pairing


def _hashes_by_contract(columns: RecordColumns) -> dict[str, set[str]]:
    hashes: dict[str, set[str]] = {}
    for contract_id, contract_hash in zip(columns.contract_id.tolist(), columns.contract_hash.tolist(), strict=True):
        hashes.setdefault(contract_id, set()).add(contract_hash)
    return hashes


def _find_hash_mismatches(a: RecordColumns, b: RecordColumns) -> list[HashMismatch]:
    hashes_a = _hashes_by_contract(a)
    hashes_b = _hashes_by_contract(b)
    return [
        HashMismatch(contract_id=contract_id, hashes_a=sorted(hashes_a[contract_id]), hashes_b=sorted(hashes_b[contract_id]))
        for contract_id in sorted(hashes_a.keys() & hashes_b.keys())
        if hashes_a[contract_id] != hashes_b[contract_id]
    ]


def _key_index(columns: RecordColumns, with_hash: bool, jury: str) -> dict[RecordKey, int]:
    parts = [columns.contract_id, columns.solver, columns.sample_id, columns.epoch]
    if with_hash:
        parts.insert(0, columns.contract_hash)
    index: dict[RecordKey, int] = {}
    for row, key in enumerate(zip(*(part.tolist() for part in parts), strict=True)):
        if key in index:
            contract_id, solver, sample_id, epoch = key[1:] if with_hash else key
            raise DuplicateRecordError(
                f"jury {jury} has more than one record for contract {contract_id!r}, solver {solver!r}, "
                f"sample {sample_id!r}, epoch {epoch!r}; pass each graded sample once (repeated runs "
                "need distinct epochs)"
            )
        index[key] = row
    return index


def pair_records(a: RecordColumns, b: RecordColumns, allow_hash_mismatch: bool = False) -> Pairing:
    """Pair the records and the jury criteria of two juries.

    Args:
        a: Jury A in columnar form.
        b: Jury B in columnar form.
        allow_hash_mismatch: Pair by contract id alone when hashes differ.

    Returns:
        The pairing, with records in A's order.

    Raises:
        ContractHashMismatchError: If hashes differ for a contract id and mismatches are not allowed.
        DuplicateRecordError: If a side repeats a pairing key or a record repeats a criterion id.
        NoMatchedRecordsError: If nothing pairs up.
    """
    mismatches = _find_hash_mismatches(a, b)
    if mismatches and not allow_hash_mismatch:
        listed = "; ".join(
            f"{m.contract_id!r}: A {[h[:12] for h in m.hashes_a]}, B {[h[:12] for h in m.hashes_b]}" for m in mismatches[:5]
        )
        more = f" and {len(mismatches) - 5} more" if len(mismatches) > 5 else ""
        raise ContractHashMismatchError(
            f"the juries graded {len(mismatches)} contract id(s) under different contract hashes, so they "
            f"did not grade the same contract: {listed}{more}. Re-grade both with the same contract file, or "
            "pass allow_hash_mismatch=True (--allow-hash-mismatch) to pair them by contract id anyway"
        )

    with_hash = not allow_hash_mismatch
    index_a = _key_index(a, with_hash, "A")
    index_b = _key_index(b, with_hash, "B")
    pairs = [(row_a, index_b[key]) for key, row_a in index_a.items() if key in index_b]
    if not pairs:
        raise NoMatchedRecordsError(
            f"no record of jury A ({a.n_records} records) pairs with one of jury B ({b.n_records} records) "
            "by contract hash, contract id, solver, sample id and epoch; check that both graded the same "
            "samples with the same contract"
        )
    record_a = np.array([pair[0] for pair in pairs], dtype=np.int64)
    record_b = np.array([pair[1] for pair in pairs], dtype=np.int64)

    criterion_a, criterion_b, criterion_pair, unmatched = _pair_criteria(a, b, record_a, record_b)
    both_jury = a.is_jury[criterion_a] & b.is_jury[criterion_b]
    return Pairing(
        record_a=record_a,
        record_b=record_b,
        criterion_a=criterion_a[both_jury],
        criterion_b=criterion_b[both_jury],
        criterion_pair=criterion_pair[both_jury],
        n_non_jury=int(np.count_nonzero(~both_jury)),
        n_unmatched_criteria=unmatched,
        hash_mismatches=mismatches,
    )


def _criterion_keys(columns: RecordColumns, pair_of_record: np.ndarray, codes: dict[str, int], jury: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (criterion rows of paired records, their key pair * n_ids + id code)."""
    pair = pair_of_record[columns.criterion_record]
    rows = np.flatnonzero(pair >= 0)
    id_codes = np.fromiter((codes[value] for value in columns.criterion_id[rows].tolist()), dtype=np.int64, count=rows.size)
    keys = pair[rows] * len(codes) + id_codes
    unique_keys, counts = np.unique(keys, return_counts=True)
    if (counts > 1).any():
        repeated = int(unique_keys[np.argmax(counts > 1)])
        row = rows[np.flatnonzero(keys == repeated)[0]]
        record = int(columns.criterion_record[row])
        raise DuplicateRecordError(
            f"jury {jury}: the record of contract {columns.contract_id[record]!r}, sample "
            f"{columns.sample_id[record]!r} lists criterion {columns.criterion_id[row]!r} more than once"
        )
    return rows, keys


def _pair_criteria(
    a: RecordColumns, b: RecordColumns, record_a: np.ndarray, record_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    pair_of_a = np.full(a.n_records, -1, dtype=np.int64)
    pair_of_a[record_a] = np.arange(record_a.shape[0])
    pair_of_b = np.full(b.n_records, -1, dtype=np.int64)
    pair_of_b[record_b] = np.arange(record_b.shape[0])

    codes: dict[str, int] = {}
    for value in a.criterion_id.tolist() + b.criterion_id.tolist():
        codes.setdefault(value, len(codes))
    rows_a, keys_a = _criterion_keys(a, pair_of_a, codes, "A")
    rows_b, keys_b = _criterion_keys(b, pair_of_b, codes, "B")

    _, position_a, position_b = np.intersect1d(keys_a, keys_b, assume_unique=True, return_indices=True)
    # intersect1d sorts by key, so pairs come out in pair order, then criterion id code order.
    criterion_a = rows_a[position_a]
    criterion_b = rows_b[position_b]
    criterion_pair = pair_of_a[a.criterion_record[criterion_a]]
    unmatched = (int(rows_a.size - position_a.size), int(rows_b.size - position_b.size))
    return criterion_a, criterion_b, criterion_pair, unmatched


# ---------------------------------------------------------------------------------------------
# Paired items


def _dense_codes(values: list[Hashable]) -> tuple[np.ndarray, list[Hashable]]:
    lookup: dict[Hashable, int] = {}
    codes = np.fromiter((lookup.setdefault(value, len(lookup)) for value in values), dtype=np.int64, count=len(values))
    return codes, list(lookup)


def _paired_items(a: RecordColumns, b: RecordColumns, pairing: Pairing, by: str) -> GroupItems:
    record_a, record_b = pairing.record_a, pairing.record_b
    contract_ids = a.contract_id[record_a]
    sample_ids = a.sample_id[record_a]
    task_cluster, _ = _dense_codes(list(zip(contract_ids.tolist(), sample_ids.tolist(), strict=True)))

    if by == "solver":
        group_values = [NO_SOLVER if solver is None else str(solver) for solver in a.solver[record_a].tolist()]
    elif by == "contract":
        group_values = [str(value) for value in contract_ids.tolist()]
    else:
        group_values = [OVERALL] * record_a.shape[0]
    group_names = sorted(set(group_values))
    group_index = {name: index for index, name in enumerate(group_names)}
    task_group = np.array([group_index[value] for value in group_values], dtype=np.int64)

    pair = pairing.criterion_pair
    rows_a, rows_b = pairing.criterion_a, pairing.criterion_b
    return GroupItems(
        group_names=group_names,
        task_cluster=task_cluster,
        task_group=task_group,
        outcome=(a.outcome[record_a], b.outcome[record_b]),
        score=(a.score[record_a], b.score[record_b]),
        task_cost=(a.cost_usd[record_a], b.cost_usd[record_b]),
        task_latency=(a.latency_s[record_a], b.latency_s[record_b]),
        criterion_cluster=task_cluster[pair],
        criterion_group=task_group[pair],
        decision=(a.decision[rows_a], b.decision[rows_b]),
        votes=(a.votes[rows_a], b.votes[rows_b]),
        panel=(a.panel[rows_a], b.panel[rows_b]),
        criterion_cost=(a.criterion_cost_usd[rows_a], b.criterion_cost_usd[rows_b]),
        criterion_latency=(a.criterion_latency_s[rows_a], b.criterion_latency_s[rows_b]),
        seats=(a.seats, b.seats),
        seat_models=(a.seat_models, b.seat_models),
        criterion_contract=contract_ids[pair],
        criterion_id=a.criterion_id[rows_a],
        criterion_solver=a.solver[record_a][pair],
        criterion_sample=sample_ids[pair],
        label=np.full(rows_a.shape[0], NO_LABEL, dtype=np.int8),
    )


def _pairing_notes(a: RecordColumns, b: RecordColumns, pairing: Pairing, allow_hash_mismatch: bool) -> list[str]:
    notes = []
    n_pairs = pairing.record_a.shape[0]
    for key, columns in zip(JURY_KEYS, (a, b), strict=True):
        left_out = columns.n_records - n_pairs
        if left_out:
            notes.append(f"{left_out} of {columns.n_records} records of jury {key} have no counterpart and are left out")
    for key, count in zip(JURY_KEYS, pairing.n_unmatched_criteria, strict=True):
        if count:
            notes.append(f"{count} criterion results of jury {key} have no counterpart in paired records and are left out")
    if pairing.n_non_jury:
        notes.append(
            f"{pairing.n_non_jury} paired criteria are decided by deterministic checks and are left out of "
            "criterion-level statistics"
        )
    if pairing.hash_mismatches and allow_hash_mismatch:
        ids = ", ".join(repr(m.contract_id) for m in pairing.hash_mismatches[:5])
        notes.append(
            f"records of {len(pairing.hash_mismatches)} contract id(s) with different contract hashes were paired "
            f"by contract id ({ids}): the juries may have graded different contract versions"
        )
    return notes


def _jury_source(key: str, columns: RecordColumns, source: str, pairing: Pairing, index: int) -> JurySource:
    names = sorted({str(name) for name in columns.jury_name.tolist() if name is not None})
    return JurySource(
        key=key,
        source=source,
        jury_names=names,
        seats=list(columns.seats),
        seat_models=dict(zip(columns.seats, columns.seat_models, strict=True)),
        n_records=columns.n_records,
        n_unmatched_records=columns.n_records - int(pairing.record_a.shape[0]),
        n_unmatched_criteria=pairing.n_unmatched_criteria[index],
    )


# ---------------------------------------------------------------------------------------------
# Expert labels


def _attach_expert_labels(items: GroupItems, labels: Sequence[ExpertLabel], source: str) -> LabelSource:
    codes, n_unmatched = attach_labels(
        labels, items.criterion_contract, items.criterion_id, items.criterion_solver, items.criterion_sample
    )
    items.label[:] = codes
    return LabelSource(
        source=source,
        n_labels=len(labels),
        n_matched_labels=len(labels) - n_unmatched,
        n_unmatched_labels=n_unmatched,
        per_criterion=_per_criterion_labels(items),
    )


def _per_criterion_labels(items: GroupItems) -> list[CriterionLabelComparison]:
    labelled = np.flatnonzero(items.label != NO_LABEL)
    if labelled.size == 0:
        return []
    keys = list(zip(items.criterion_contract[labelled].tolist(), items.criterion_id[labelled].tolist(), strict=True))
    codes, _ = _dense_codes(keys)
    order = np.argsort(codes, kind="stable")
    boundaries = np.flatnonzero(np.diff(codes[order])) + 1
    comparisons = []
    for rows in np.split(labelled[order], boundaries):
        contract_id, criterion_id = items.criterion_contract[rows[0]], items.criterion_id[rows[0]]
        comparison = label_scores_without_intervals(items, rows)
        comparisons.append(
            CriterionLabelComparison(
                contract_id=str(contract_id), criterion_id=str(criterion_id), juries=comparison.juries, mcnemar=comparison.mcnemar
            )
        )
    comparisons.sort(key=lambda item: (item.contract_id, item.criterion_id))
    return comparisons


__all__ = [
    "GROUPINGS",
    "ContractHashMismatchError",
    "DuplicateRecordError",
    "NoMatchedRecordsError",
    "Pairing",
    "compare_columns",
    "compare_records",
    "pair_records",
]
