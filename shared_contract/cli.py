"""The ``asymmetryzero`` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared_contract.audit import VerdictRecord, Vote, VoteVerdict, read_records, write_record
from shared_contract.cache import VoteCache
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.jury import JuryEngine, JuryLimits
from shared_contract.loading import ContractError, load_contract, validate_files
from shared_contract.pricing import PriceTable
from shared_contract.reaggregate import parse_vote_rule, reaggregate
from shared_contract.schema import Contract, Judge

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Evaluation contracts graded by checks and LLM juries.")
harbor_app = typer.Typer(no_args_is_help=True, help="Harbor tasks from contracts.")
app.add_typer(harbor_app, name="harbor")
console = Console(stderr=True)
logger = logging.getLogger("asymmetryzero")


def default_cache_path() -> Path:
    """Vote cache location: $ASYMMETRYZERO_CACHE_DIR or ~/.cache/asymmetryzero, file votes.sqlite."""
    base = os.environ.get("ASYMMETRYZERO_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"), "asymmetryzero")
    return Path(base) / "votes.sqlite"


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log retries and skipped votes.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def schema(record: Annotated[bool, typer.Option("--record", help="Print the verdict record's schema instead.")] = False) -> None:
    """Print the JSON Schema of contracts (or of verdict records)."""
    model = VerdictRecord if record else Contract
    print(json.dumps(model.model_json_schema(by_alias=True), indent=2))


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Contract files (YAML or JSON) or folders of them.")]) -> None:
    """Validate contracts and report every problem of every file; exit 1 when any is invalid."""
    from shared_contract.loading import contract_files

    files = contract_files(files)
    problems = validate_files(files)
    for problem in problems:
        print(str(problem))
    bad = len({p.file for p in problems})
    print(f"{len(files) - bad} valid, {bad} invalid", file=sys.stderr)
    raise typer.Exit(1 if problems else 0)


def _judges(models: list[str] | None) -> list[Judge] | None:
    return [Judge(model=model) for model in models] if models else None


class VoteProgress:
    """A progress bar of votes done, invalid votes and cost so far."""

    def __init__(self, total: int, enabled: bool):
        self.progress = Progress(
            TextColumn("[bold]votes"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TextColumn("invalid {task.fields[invalid]}"), TextColumn("cost ${task.fields[cost]:.4f}"), TimeElapsedColumn(),
            console=console, disable=not enabled,
        )
        self.task = self.progress.add_task("votes", total=total, invalid=0, cost=0.0)
        self.invalid = 0
        self.cost = 0.0

    def __call__(self, vote: Vote) -> None:
        self.invalid += vote.verdict is VoteVerdict.INVALID
        self.cost += vote.cost_usd or 0.0
        self.progress.update(self.task, advance=1, invalid=self.invalid, cost=self.cost)


def _print_record(record: VerdictRecord) -> None:
    table = Table(title=f"{record.contract_id}: {record.outcome.value} score={_fmt(record.score)} coverage={record.coverage:.2f}")
    for column in ("criterion", "method", "decision", "split", "reason"):
        table.add_column(column)
    for result in record.criteria:
        table.add_row(result.id, result.method, result.decision.value, result.split or "", (result.reason or "")[:80])
    console.print(table)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@app.command()
def grade(
    contract: Annotated[Path, typer.Option(help="Contract file.")],
    response: Annotated[str, typer.Option(help="File with the graded answer, or '-' for standard input.")],
    out: Annotated[Path, typer.Option(help="Where to write the verdict record (JSON).")],
    workspace: Annotated[Optional[Path], typer.Option(help="Workspace folder for file and command checks.")] = None,
    trajectory: Annotated[Optional[Path], typer.Option(help="File with the agent trajectory.")] = None,
    jury: Annotated[Optional[str], typer.Option(help="Jury profile named in the contract.")] = None,
    judge: Annotated[Optional[list[str]], typer.Option(help="Judge model (repeatable); overrides --jury.")] = None,
    solver: Annotated[Optional[str], typer.Option(help="Solver model name, to warn when it also judges.")] = None,
    prices: Annotated[Optional[Path], typer.Option(help="YAML price table (USD per million tokens).")] = None,
    cache: Annotated[Optional[Path], typer.Option(help="Vote cache file (SQLite).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the vote cache.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask judges again and overwrite cached votes.")] = False,
    concurrency: Annotated[int, typer.Option(help="Maximum judge requests in flight.")] = 32,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Grade one response against a contract and write its verdict record."""
    try:
        loaded = load_contract(contract)
    except ContractError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        text = sys.stdin.read() if response == "-" else Path(response).read_text(encoding="utf-8")
        trajectory_text = trajectory.read_text(encoding="utf-8") if trajectory else None
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read the response or trajectory: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    if workspace is not None and not workspace.is_dir():
        print(f"error: workspace {str(workspace)!r} is not a folder", file=sys.stderr)
        raise typer.Exit(2)
    evidence = Evidence(response=text, workspace=workspace, trajectory=trajectory_text)
    cache_path = None if no_cache else (cache or default_cache_path())
    try:
        record = asyncio.run(
            _grade_one(loaded, evidence, contract.parent, _judges(judge), jury, solver, prices, cache_path, refresh, concurrency, progress)
        )
    except (KeyError, ValueError, OSError, sqlite3.Error, yaml.YAMLError) as error:
        # An unknown jury name, an unreadable price table or vote cache: nothing was graded yet.
        print(f"error: {error.args[0] if isinstance(error, KeyError) and error.args else error}", file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        write_record(record, out)
    except OSError as error:
        print(f"error: cannot write the record to {str(out)!r}: {error}", file=sys.stderr)
        print(record.to_json(), file=sys.stdout)
        raise typer.Exit(2) from None
    _print_record(record)


async def _grade_one(
    contract: Contract,
    evidence: Evidence,
    base_dir: Path,
    judges: list[Judge] | None,
    jury: str | None,
    solver: str | None,
    prices: Path | None,
    cache_path: Path | None,
    refresh: bool,
    concurrency: int,
    progress: bool,
) -> VerdictRecord:
    from shared_contract.grading import select_jury

    _, panel = select_jury(contract, jury, judges)
    jury_count = sum(1 for c in contract.criteria if c.method.value == "jury")
    bar = VoteProgress(total=jury_count * len(panel), enabled=progress and bool(panel) and jury_count > 0)
    engine = None
    cache = None
    if panel and jury_count:
        from shared_contract.inspect_backend import InspectBackend

        cache = VoteCache(cache_path, refresh=refresh) if cache_path else None
        engine = JuryEngine(InspectBackend(), PriceTable.load(prices), cache, JuryLimits(max_concurrency=concurrency), on_vote=bar)
    try:
        with bar.progress:
            return await Grader(engine).grade(contract, evidence, judges=judges, jury=jury, base_dir=base_dir, solver=solver)
    finally:
        if cache is not None:
            cache.close()


@app.command("reaggregate")
def reaggregate_command(
    records: Annotated[list[Path], typer.Argument(help="Verdict record files (.json or .jsonl).")],
    contract: Annotated[Path, typer.Option(help="The contract the records were graded with.")],
    out: Annotated[Path, typer.Option(help="Output JSONL file.")],
    vote_rule: Annotated[str, typer.Option(help="majority, unanimous or at_least:K.")] = "majority",
) -> None:
    """Apply another vote rule to stored votes, with no judge call."""
    from pydantic import ValidationError

    from shared_contract.audit import write_atomic
    from shared_contract.loading import contract_hash

    try:
        loaded = load_contract(contract)
        rule = parse_vote_rule(vote_rule)
        stored = [record for path in records for record in read_records(path)]
    except (ContractError, ValueError, OSError, UnicodeDecodeError, ValidationError) as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        raise typer.Exit(2) from None

    expected_hash = contract_hash(loaded, contract.parent)
    for record in stored:
        if record.contract_id != loaded.id or record.contract_hash != expected_hash:
            print(
                f"error: record of {record.contract_id!r} ({record.contract_hash}) was not graded with {contract} "
                f"({loaded.id!r}, {expected_hash}); pass the contract it was graded with",
                file=sys.stderr,
            )
            raise typer.Exit(2)
        panel = len(record.jury.seats)
        if rule.k is not None and rule.k > panel:
            print(f"error: at_least:{rule.k} needs more votes than the panel of {panel} in record {record.contract_id!r}", file=sys.stderr)
            raise typer.Exit(2)

    lines = [reaggregate(record, loaded, rule).to_json(indent=None) for record in stored]
    write_atomic(out, "\n".join(lines) + "\n")
    console.print(f"wrote {len(lines)} records to {out}")


@app.command()
def parity(
    left: Annotated[Path, typer.Argument(help="Records: a .json/.jsonl file, a folder of them, an Inspect log or a Harbor job folder.")],
    right: Annotated[Path, typer.Argument(help="The records to compare with, in any of the same forms.")],
    by: Annotated[str, typer.Option(help="Match records by 'sample' (contract, sample id, epoch) or by 'contract' alone, across frameworks.")] = "sample",
    limit: Annotated[int, typer.Option(help="Maximum differences to print.")] = 20,
) -> None:
    """Check two sets of verdict records for parity; print each difference with its field path.

    Fields documented as run-specific (timestamps, run ids, measured latency, cache hits) are
    ignored. With --by contract the sample identity (sample id, epoch, solver) is ignored too,
    because Inspect and Harbor name samples differently. Exit 1 on any difference.
    """
    from shared_contract.analysis.sources import load_records
    from shared_contract.audit import RUN_SPECIFIC_FIELDS
    from shared_contract.parity import CROSS_FRAMEWORK_IGNORED, diff_records, record_key

    if by not in ("sample", "contract"):
        print(f"error: --by must be 'sample' or 'contract', got {by!r}", file=sys.stderr)
        raise typer.Exit(2)
    ignored = CROSS_FRAMEWORK_IGNORED if by == "contract" else RUN_SPECIFIC_FIELDS
    try:
        left_list, right_list = load_records(left), load_records(right)
    except (ValueError, OSError) as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        raise typer.Exit(2) from None
    left_records = {record_key(r, by): r for r in left_list}
    right_records = {record_key(r, by): r for r in right_list}
    if by == "contract" and (len(left_records) < len(left_list) or len(right_records) < len(right_list)):
        print("error: --by contract needs one record per contract on each side; use --by sample", file=sys.stderr)
        raise typer.Exit(2)
    problems: list[str] = []
    for key in sorted(set(left_records) | set(right_records), key=str):
        if key not in left_records or key not in right_records:
            side = "left" if key not in left_records else "right"
            problems.append(f"record {key[1]} sample={key[2]} epoch={key[3]}: missing on the {side}")
            continue
        differences = diff_records(left_records[key], right_records[key], ignored)
        problems.extend(f"record {key[1]} sample={key[2]} epoch={key[3]}: {d}" for d in differences)
    for line in problems[:limit]:
        print(line)
    matched = len(set(left_records) & set(right_records))
    print(f"{matched} records matched, {len(problems)} differences", file=sys.stderr)
    raise typer.Exit(1 if problems else 0)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for contracts, Inspect log and verdict records.")] = Path("out/main"),
    bundle: Annotated[Optional[Path], typer.Option(help="Bundle folder; defaults to the example bundle in the repository.")] = None,
    solver: Annotated[str, typer.Option(help="Inspect model that answers the tasks.")] = "local/qwen2.5-coder-1.5b",
    jury: Annotated[str, typer.Option(help="Jury profile of the imported contracts.")] = "local",
) -> None:
    """Run the main job: import a bundle, answer it, grade it with a jury, print a table per task."""
    from asymmetryzero_inspect.demo import DEFAULT_BUNDLE, run_main_job

    # Inspect installs its own log handler during the run; ours would print every line twice.
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
    try:
        run_main_job(out, bundle or DEFAULT_BUNDLE, solver, jury, console=Console())
    except (FileNotFoundError, RuntimeError, ContractError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(1) from None


@app.command("import-bundle")
def import_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder with tasks.json, answers.json and refs/.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the contracts.")],
) -> None:
    """Import a published AsymmetryZero bundle as one contract file per task."""
    from shared_contract.bundle import BundleError, import_bundle

    try:
        written = import_bundle(bundle, output)
    except (BundleError, ContractError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    for path in written:
        print(path)


@harbor_app.command("export")
def harbor_export(
    contracts: Annotated[list[Path], typer.Argument(help="Contract files or folders.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the Harbor task folders.")],
    jury: Annotated[Optional[str], typer.Option(help="Jury profile the verifier uses.")] = None,
    verifier_package: Annotated[
        Optional[str], typer.Option(help="What the task image pip-installs: a pinned requirement or a wheel file (default: this version).")
    ] = None,
) -> None:
    """Write one Harbor task folder per contract."""
    from asymmetryzero_harbor.export import export_tasks

    from asymmetryzero_harbor.export import ExportError

    paths = [p for c in contracts for p in (sorted(c.glob("*.y*ml")) + sorted(c.glob("*.json")) if c.is_dir() else [c])]
    try:
        written = export_tasks(paths, output, jury=jury, verifier_package=verifier_package)
    except (ContractError, ExportError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    for path in written:
        print(path)


@app.command("compare")
def compare_cli(
    a: Annotated[Path, typer.Argument(help="Records of jury A: a .json/.jsonl file, an Inspect log, a Harbor job folder or a folder of them.")],
    b: Annotated[Path, typer.Argument(help="Records of jury B, in any of the same forms.")],
    by: Annotated[str, typer.Option(help="Group the statistics by solver, contract or none.")] = "solver",
    labels: Annotated[Optional[Path], typer.Option(help="Expert labels CSV: contract_id, criterion_id, solver, label[, sample_id].")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder for jury-comparison.json, .csv and .html.")] = None,
    allow_hash_mismatch: Annotated[bool, typer.Option("--allow-hash-mismatch", help="Pair records of one contract id even when the contract hashes differ.")] = False,
    report_format: Annotated[Optional[list[str]], typer.Option("--format", help="File format to write into --out: json, csv or html (repeatable; default all).")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples per group.")] = 2000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    scorer_a: Annotated[Optional[str], typer.Option(help="Inspect score name to read from A's logs, e.g. contract_scorer1.")] = None,
    scorer_b: Annotated[Optional[str], typer.Option(help="Inspect score name to read from B's logs.")] = None,
) -> None:
    """Compare two juries that graded the same contracts and solver outputs; exit 2 on invalid input."""
    from shared_contract.analysis.cli_compare import FILE_FORMATS, compare_command

    try:
        _, written = compare_command(
            a, b, by=by, labels=labels, out_dir=out, allow_hash_mismatch=allow_hash_mismatch,
            formats=report_format or FILE_FORMATS, n_resamples=resamples, seed=seed,
            scorer_a=scorer_a, scorer_b=scorer_b,
        )
    except (ValueError, ImportError) as error:
        print(f"compare failed: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    for path in written:
        console.print(f"wrote {path}")


def main() -> None:
    """Run the command line."""
    app()


if __name__ == "__main__":
    main()
