"""Expert labels: read the CSV and attach a label to each matched criterion decision.

The CSV has a header with the columns ``contract_id``, ``criterion_id``, ``solver`` and ``label``,
and optionally ``sample_id``. Labels are PASS or FAIL (any case). A row without a sample id labels
that criterion for every sample and epoch of the solver on the contract. A row with a sample id
labels only that sample, and it wins over a row without one.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared_contract.analysis.columns import FAIL_CODE, PASS_CODE

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("contract_id", "criterion_id", "solver", "label")
NO_LABEL = -1
_LABEL_CODES = {"PASS": PASS_CODE, "FAIL": FAIL_CODE}


class ExpertLabelError(ValueError):
    """An expert label file that cannot be read."""


@dataclass(frozen=True)
class ExpertLabel:
    """One expert label of one criterion; an empty solver cell means a record without solver."""

    contract_id: str
    criterion_id: str
    solver: str | None
    sample_id: str | None
    label: int

    def key(self) -> tuple[str, str, str | None, str | None]:
        """Return the lookup key (contract, criterion, solver, sample id or None)."""
        return (self.contract_id, self.criterion_id, self.solver, self.sample_id)


def load_expert_labels(path: str | Path) -> list[ExpertLabel]:
    """Read expert labels from a CSV file.

    Args:
        path: CSV with a header row; see the module docstring for the columns.

    Returns:
        One label per row, with PASS and FAIL encoded as the decision codes of ``columns``.

    Raises:
        ExpertLabelError: If the file is missing, lacks a required column, has a label other than
            PASS or FAIL, or labels the same criterion, solver and sample twice.
    """
    path = Path(path)
    if not path.is_file():
        raise ExpertLabelError(f"expert label file {path} not found")

    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise ExpertLabelError(
                f"{path} lacks the column(s) {missing}; the header must name {list(REQUIRED_COLUMNS)} (sample_id optional)"
            )
        reader.fieldnames = header
        labels = [_parse_row(row, line, path) for line, row in enumerate(reader, start=2)]

    seen: dict[tuple[str, str, str | None, str | None], int] = {}
    for line, label in enumerate(labels, start=2):
        if label.key() in seen:
            raise ExpertLabelError(
                f"{path} line {line} repeats the label of line {seen[label.key()]} for contract "
                f"{label.contract_id!r}, criterion {label.criterion_id!r}, solver {label.solver!r}, "
                f"sample {label.sample_id!r}; keep one label per criterion"
            )
        seen[label.key()] = line
    logger.info("loaded %d expert labels from %s", len(labels), path)
    return labels


def _cell(row: dict[str, str | None], name: str) -> str | None:
    value = (row.get(name) or "").strip()
    return value or None


def _parse_row(row: dict[str, str | None], line: int, path: Path) -> ExpertLabel:
    contract_id = _cell(row, "contract_id")
    criterion_id = _cell(row, "criterion_id")
    if contract_id is None or criterion_id is None:
        raise ExpertLabelError(f"{path} line {line} has an empty contract_id or criterion_id; fill both")
    raw_label = (_cell(row, "label") or "").upper()
    if raw_label not in _LABEL_CODES:
        raise ExpertLabelError(f"{path} line {line} has label {row.get('label')!r}; use PASS or FAIL")
    return ExpertLabel(
        contract_id=contract_id,
        criterion_id=criterion_id,
        solver=_cell(row, "solver"),
        sample_id=_cell(row, "sample_id"),
        label=_LABEL_CODES[raw_label],
    )


def attach_labels(
    labels: Sequence[ExpertLabel],
    contract_ids: np.ndarray,
    criterion_ids: np.ndarray,
    solvers: np.ndarray,
    sample_ids: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Find the expert label of each criterion decision.

    Args:
        labels: Expert labels.
        contract_ids: Contract id per decision.
        criterion_ids: Criterion id per decision.
        solvers: Solver per decision (None allowed).
        sample_ids: Sample id per decision (None allowed).

    Returns:
        The label code per decision (``NO_LABEL`` where none applies) and the number of labels
        that matched no decision.
    """
    lookup = {label.key(): index for index, label in enumerate(labels)}
    codes = np.full(contract_ids.shape[0], NO_LABEL, dtype=np.int8)
    used = np.zeros(len(labels), dtype=bool)
    rows = zip(contract_ids.tolist(), criterion_ids.tolist(), solvers.tolist(), sample_ids.tolist(), strict=True)
    for row, (contract_id, criterion_id, solver, sample_id) in enumerate(rows):
        index = lookup.get((contract_id, criterion_id, solver, sample_id))
        if index is None:
            index = lookup.get((contract_id, criterion_id, solver, None))
        if index is not None:
            codes[row] = labels[index].label
            used[index] = True
    return codes, int(np.count_nonzero(~used))
