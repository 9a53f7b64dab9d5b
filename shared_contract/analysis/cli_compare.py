"""The ``asymmetryzero compare`` command: load two juries' records, compare them, write the report."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from shared_contract.analysis.compare import compare_records
from shared_contract.analysis.expert import load_expert_labels
from shared_contract.analysis.html_report import report_html
from shared_contract.analysis.render import print_report, report_csv, report_json
from shared_contract.analysis.report_model import ComparisonReport
from shared_contract.analysis.sources import load_records
from shared_contract.audit import write_atomic

logger = logging.getLogger(__name__)

FILE_FORMATS = ("json", "csv", "html")
REPORT_STEM = "jury-comparison"


def compare_command(
    a: Path,
    b: Path,
    by: str = "solver",
    labels: Path | None = None,
    out_dir: Path | None = None,
    allow_hash_mismatch: bool = False,
    formats: Sequence[str] = FILE_FORMATS,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    scorer_a: str | None = None,
    scorer_b: str | None = None,
    console: Console | None = None,
) -> tuple[ComparisonReport, list[Path]]:
    """Compare the records of jury A and jury B, print the tables and write the report files.

    Args:
        a: Records of jury A: a record file, an Inspect log, a Harbor job folder or a folder of those.
        b: Records of jury B, in any of the same forms.
        by: Grouping of the per-group statistics: "solver", "contract" or "none".
        labels: Expert label CSV (contract_id, criterion_id, solver, label, optional sample_id).
        out_dir: Folder for the report files; None writes no file.
        allow_hash_mismatch: Pair records of one contract id even when their contract hashes differ.
        formats: File formats to write into ``out_dir``: any of "json", "csv" and "html".
        n_resamples: Bootstrap resamples per group.
        confidence: Nominal coverage of the intervals.
        seed: Bootstrap seed.
        scorer_a: Inspect score name to read from A's logs; None takes the one score with a record.
        scorer_b: The same for B.
        console: Where to print the tables; None prints to standard output.

    Returns:
        The report and the paths of the files written (``jury-comparison.json``, ``.csv``, ``.html``).

    Raises:
        ValueError: If a format is unknown, or on the errors of ``load_records``, ``load_expert_labels``
            and ``compare_records`` (all ValueError subclasses).
    """
    unknown = sorted(set(formats) - set(FILE_FORMATS))
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; use any of {list(FILE_FORMATS)}")

    records_a = load_records(a, scorer_a)
    records_b = load_records(b, scorer_b)
    expert_labels = load_expert_labels(labels) if labels is not None else None
    report = compare_records(
        records_a,
        records_b,
        by=by,
        labels=expert_labels,
        allow_hash_mismatch=allow_hash_mismatch,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        sources=(str(a), str(b)),
        label_source=str(labels) if labels is not None else "expert labels",
    )

    print_report(report, console or Console())

    written: list[Path] = []
    if out_dir is not None:
        renderers = {"json": report_json, "csv": report_csv, "html": report_html}
        for file_format in FILE_FORMATS:
            if file_format in formats:
                path = write_atomic(Path(out_dir) / f"{REPORT_STEM}.{file_format}", renderers[file_format](report))
                written.append(path)
                logger.info("wrote %s", path)
    return report, written
