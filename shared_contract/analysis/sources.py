"""Load verdict records from record files, folders, Harbor job folders and Inspect logs.

Supported inputs of ``load_records``:

* a ``.json`` file with one record or a list of records, or a ``.jsonl`` file of records;
* a Harbor job folder: ``asymmetryzero-records.jsonl`` (written by the job plugin) when present,
  otherwise every trial's ``verifier/reward-details.json``;
* an Inspect log (``.eval``, or ``.json`` with the Inspect log layout), whose samples carry the
  record in a score's metadata under ``INSPECT_RECORD_KEY``;
* a folder of any of the files above.

The core imports without ``inspect_ai``: the Inspect reader imports it only when a log is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared_contract.analysis.gc_pause import garbage_collection_paused
from shared_contract.audit import RECORD_FORMAT, VerdictRecord, read_records

logger = logging.getLogger(__name__)

HARBOR_RECORDS_FILE = "asymmetryzero-records.jsonl"
HARBOR_TRIAL_RECORD = Path("verifier") / "reward-details.json"

# Score.metadata key under which the Inspect scorer stores the full verdict record
# (asymmetryzero_inspect.verdict_score.RECORD_KEY). It is repeated here because the core must not
# import the Inspect adapter.
INSPECT_RECORD_KEY = "record"
# Sample fields the reader skips in .eval logs: the records sit in the scores, and these fields
# hold most of a log's size.
_INSPECT_SKIPPED_FIELDS = {"messages", "events", "store", "attachments"}
# Inspect writes this index file into log folders, and it contains no samples.
_INSPECT_LOG_INDEX = "logs.json"

_RECORD_SUFFIXES = {".json", ".jsonl", ".eval"}


class RecordSourceError(ValueError):
    """A path that contains no verdict records or cannot be read as one of the supported inputs."""


def load_records(path: str | Path, scorer: str | None = None) -> list[VerdictRecord]:
    """Load every verdict record that a file or folder contains.

    Args:
        path: A record file (``.json`` or ``.jsonl``), an Inspect log (``.eval`` or ``.json``), a
            Harbor job folder, or a folder of record files and Inspect logs.
        scorer: For Inspect logs, the score name to read (``contract_scorer``, or
            ``contract_scorer1`` after ``inspect score --action append``). None reads the one
            score that carries a record and raises when a sample has several.

    Returns:
        The records in file order. Sample id, epoch and solver left empty in a record are filled
        from the Inspect sample or the Harbor trial result when those carry them.

    Raises:
        RecordSourceError: If the path does not exist, a file is not one of the supported
            formats, or a folder contains no records.
        ImportError: If an Inspect log is read without ``inspect_ai`` installed.
    """
    # NOTE: validating every vote dominates large comparisons. benchmarks/bench_compare.py --jsonl
    # measured 14-27 s and about 2.5 GB per million votes on a 2-CPU Xeon, against 3-6 s for the
    # whole comparison of two such juries. A reader that fills the columns straight from JSON would avoid it.
    path = Path(path)
    if not path.exists():
        raise RecordSourceError(f"{path} not found; pass a record file, an Inspect log or a Harbor job folder")
    with garbage_collection_paused():
        if path.is_dir():
            records = _load_folder(path, scorer)
        else:
            records = _load_file(path, scorer, explicit=True)
    logger.info("loaded %d verdict records from %s", len(records), path)
    return records


def _load_folder(folder: Path, scorer: str | None) -> list[VerdictRecord]:
    job_records = folder / HARBOR_RECORDS_FILE
    if job_records.is_file():
        return _validated(read_records, job_records)

    trial_files = sorted(folder.glob(f"*/{HARBOR_TRIAL_RECORD.as_posix()}"))
    if trial_files:
        return [_harbor_trial_record(file) for file in trial_files]

    records: list[VerdictRecord] = []
    files = sorted(file for file in folder.iterdir() if file.is_file() and file.suffix in _RECORD_SUFFIXES)
    for file in files:
        records.extend(_load_file(file, scorer, explicit=False))
    if not records:
        raise RecordSourceError(
            f"{folder} contains no verdict records: expected {HARBOR_RECORDS_FILE}, trial folders with "
            f"{HARBOR_TRIAL_RECORD.as_posix()}, or .json, .jsonl or .eval files"
        )
    return records


def _load_file(file: Path, scorer: str | None, explicit: bool) -> list[VerdictRecord]:
    """Load one file. Unknown JSON files raise when named by the caller and are skipped inside folders."""
    if file.suffix == ".eval":
        return load_inspect_log(file, scorer)
    if file.suffix == ".jsonl":
        return _validated(read_records, file)
    if file.suffix != ".json":
        raise RecordSourceError(f"{file} has suffix {file.suffix!r}; pass a .json, .jsonl or .eval file")

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RecordSourceError(f"{file} is not valid JSON: {error}") from error

    if _is_record_data(data):
        return _validated(read_records, file)
    if _is_inspect_log_data(data):
        return load_inspect_log(file, scorer)

    message = f"{file} is neither a verdict record (format {RECORD_FORMAT!r}) nor an Inspect log"
    if explicit:
        raise RecordSourceError(message)
    log = logger.debug if file.name == _INSPECT_LOG_INDEX else logger.warning
    log("skipping %s", message)
    return []


def _is_record_data(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(
        isinstance(item, Mapping) and (item.get("format") == RECORD_FORMAT or {"contract_hash", "criteria"} <= item.keys())
        for item in items
    )


def _is_inspect_log_data(data: Any) -> bool:
    return isinstance(data, Mapping) and "eval" in data and "version" in data


def _validated(reader: Any, file: Path) -> list[VerdictRecord]:
    try:
        return reader(file)
    except (ValidationError, json.JSONDecodeError) as error:
        raise RecordSourceError(f"{file} contains an invalid verdict record: {error}") from error


# ---------------------------------------------------------------------------------------------
# Harbor


def _harbor_trial_record(file: Path) -> VerdictRecord:
    """Read a trial's record and fill sample id and solver from the trial's result.json when missing."""
    (record,) = _validated(read_records, file)
    result_file = file.parent.parent / "result.json"
    if (record.sample_id is not None and record.solver is not None) or not result_file.is_file():
        return record

    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        logger.warning("cannot read trial result %s (%s); keeping the record's sample id and solver", result_file, error)
        return record
    updates: dict[str, Any] = {}
    if record.sample_id is None and isinstance(result.get("task_name"), str):
        updates["sample_id"] = result["task_name"]
    if record.solver is None:
        solver = _harbor_solver(result.get("agent_info") or {})
        if solver:
            updates["solver"] = solver
    return record.model_copy(update=updates)


def _harbor_solver(agent_info: Mapping[str, Any]) -> str | None:
    model = agent_info.get("model_info") or {}
    name = model.get("name")
    if name:
        provider = model.get("provider")
        return f"{provider}/{name}" if provider else str(name)
    agent = agent_info.get("name")
    return str(agent) if agent else None


# ---------------------------------------------------------------------------------------------
# Inspect


def load_inspect_log(file: str | Path, scorer: str | None = None) -> list[VerdictRecord]:
    """Read the verdict records that the contract scorer stored in an Inspect log.

    Each sample's scores are searched for metadata with a verdict record under
    ``INSPECT_RECORD_KEY``. Samples without one (errored samples, other scorers) are skipped and
    counted in a warning. A record's empty sample id, epoch and solver are filled from the
    sample id, the sample epoch and the eval's model.

    Args:
        file: An ``.eval`` or ``.json`` Inspect log.
        scorer: Score name to read; None accepts the single score that carries a record.

    Returns:
        One record per scored sample and epoch, in log order.

    Raises:
        ImportError: If ``inspect_ai`` is not installed.
        RecordSourceError: If a stored record is invalid, the log contains no record at all, or a
            sample carries records under several score names and ``scorer`` is None.
    """
    try:
        from inspect_ai.log import read_eval_log
    except ImportError as error:
        raise ImportError(f"{file} is an Inspect log; reading it needs inspect_ai (pip install inspect-ai)") from error

    file = Path(file)
    log = read_eval_log(str(file), exclude_fields=_INSPECT_SKIPPED_FIELDS)
    model = getattr(log.eval, "model", None)
    records: list[VerdictRecord] = []
    skipped = 0
    for sample in log.samples or []:
        found = dict(_records_in_scores(sample.scores or {}, file, sample.id, sample.epoch, scorer))
        if len(found) > 1:
            raise RecordSourceError(
                f"{file}: sample {sample.id!r} epoch {sample.epoch} has verdict records under the scores "
                f"{sorted(found)}; choose one with scorer=NAME (--scorer-a/--scorer-b on the command line)"
            )
        if not found:
            skipped += 1
        for record in found.values():
            records.append(_fill_sample_fields(record, sample.id, sample.epoch, model))

    if skipped:
        logger.warning("%s: %d samples carry no verdict record (errored or scored by another scorer)", file, skipped)
    if not records:
        searched = f"the score {scorer!r}" if scorer else "every sample score"
        raise RecordSourceError(
            f"{file} contains no verdict records: {searched} lacks metadata[{INSPECT_RECORD_KEY!r}]; "
            "was the log scored by the contract scorer?"
        )
    return records


def _records_in_scores(
    scores: Mapping[str, Any], file: Path, sample_id: Any, epoch: Any, scorer: str | None
) -> Iterable[tuple[str, VerdictRecord]]:
    for scorer_name, score in scores.items():
        if scorer is not None and scorer_name != scorer:
            continue
        metadata = getattr(score, "metadata", None) or {}
        data = metadata.get(INSPECT_RECORD_KEY)
        if not isinstance(data, Mapping):
            continue
        try:
            yield scorer_name, VerdictRecord.model_validate(data)
        except ValidationError as error:
            raise RecordSourceError(
                f"{file}: sample {sample_id!r} epoch {epoch} has an invalid verdict record in the score of "
                f"{scorer_name!r}: {error}"
            ) from error


def _fill_sample_fields(record: VerdictRecord, sample_id: Any, epoch: Any, model: str | None) -> VerdictRecord:
    updates: dict[str, Any] = {}
    if record.sample_id is None and sample_id is not None:
        updates["sample_id"] = str(sample_id)
    if record.epoch is None and epoch is not None:
        updates["epoch"] = int(epoch)
    if record.solver is None and model:
        updates["solver"] = model
    return record.model_copy(update=updates) if updates else record
