"""The main job: import a bundle, answer it with a solver model, grade it with a jury, show the result.

With the defaults everything runs offline: the solver and the three jury seats are the local
model (``local/qwen2.5-coder-1.5b``), which is a weak judge kept for demos and tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shared_contract.audit import VerdictRecord, read_records
from shared_contract.bundle import import_bundle

logger = logging.getLogger(__name__)

LOCAL_MODEL = "local/qwen2.5-coder-1.5b"
DEFAULT_BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "simple_bundle"


def run_main_job(
    out_dir: Path,
    bundle: Path = DEFAULT_BUNDLE,
    solver_model: str = LOCAL_MODEL,
    jury: str = "local",
    max_tokens: int = 512,
    console: Console | None = None,
) -> list[VerdictRecord]:
    """Run the main job and return the verdict records, also written to ``out_dir/records.jsonl``.

    Args:
        out_dir: Folder for the contracts, the Inspect log and the records.
        bundle: A bundle folder (tasks.json, answers.json, refs/).
        solver_model: Inspect model that answers the tasks.
        jury: Jury profile of the imported contracts that grades them.
        max_tokens: Token limit of each solver answer.
        console: Where the table is printed.

    Raises:
        FileNotFoundError: the bundle folder does not exist.
        RuntimeError: the Inspect run did not finish.
    """
    from inspect_ai import eval as inspect_eval

    from asymmetryzero_inspect.task import contract_eval

    console = console or Console()
    if not (bundle / "tasks.json").is_file():
        raise FileNotFoundError(f"bundle {str(bundle)!r} not found: pass a folder with tasks.json and answers.json")
    contracts = out_dir / "contracts"
    records_file = out_dir / "records.jsonl"
    records_file.unlink(missing_ok=True)
    written = import_bundle(bundle, contracts)
    console.print(f"imported {len(written)} contracts from {bundle} into {contracts}")

    if solver_model.startswith("local/") or jury == "local":
        from shared_contract.local_weights import ensure_local_weights

        ensure_local_weights(progress=True)

    logs = inspect_eval(
        contract_eval(contracts=str(contracts), jury=jury, records=str(records_file)),
        model=solver_model,
        log_dir=str(out_dir / "logs"),
        max_tokens=max_tokens,
        temperature=0.0,
        seed=0,
    )
    if not logs or logs[0].status != "success":
        status = logs[0].status if logs else "no log"
        raise RuntimeError(f"the Inspect run did not finish ({status}); see the log under {out_dir / 'logs'}")

    records = read_records(records_file)
    console.print(summary_table(records))
    for line in warning_lines(records):
        console.print(f"warning: {line}")
    console.print(f"Inspect log: {logs[0].location}\nverdict records: {records_file}")
    return records


def summary_table(records: list[VerdictRecord]) -> Table:
    """Build a per-task table: outcome, score, coverage, and each criterion's decision and jury split."""
    table = Table(title="Main job: verdicts per task")
    for column in ("task", "outcome", "score", "coverage", "criteria (decision, split)"):
        table.add_column(column)
    for record in sorted(records, key=lambda r: r.contract_id):
        criteria = "\n".join(
            f"{r.id}: {r.decision.value}" + (f" {r.split}" if r.split and r.method == "jury" else "") for r in record.criteria
        )
        score = "n/a" if record.score is None else f"{record.score:.2f}"
        table.add_row(record.contract_id, record.outcome.value, score, f"{record.coverage:.2f}", criteria)
    return table


def warning_lines(records: list[VerdictRecord]) -> list[str]:
    """List each record warning once, with the tasks it applies to."""
    tasks: dict[str, list[str]] = {}
    for record in sorted(records, key=lambda r: r.contract_id):
        for warning in record.warnings:
            tasks.setdefault(warning, []).append(record.contract_id)
    return [f"{', '.join(ids)}: {warning}" for warning, ids in tasks.items()]
