"""Verdict records of an Inspect run: the optional JSONL sidecar file, and reading records back from a log."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from inspect_ai.log import EvalLog, read_eval_log

from asymmetryzero_inspect.verdict_score import RECORD_KEY
from shared_contract.audit import VerdictRecord

logger = logging.getLogger(__name__)

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class RecordWriter:
    """Appends one verdict record per line to a JSONL file; safe for concurrent samples in one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_for(self.path)
        logger.info("writing verdict records to %s", self.path)

    def append(self, record: VerdictRecord) -> None:
        """Write the record as one line and flush it, so a crash loses no finished record."""
        line = record.to_json(indent=None) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as stream:
            stream.write(line)
            stream.flush()


def records_from_log(log: EvalLog | str | Path, scorer: str = "contract_scorer") -> list[VerdictRecord]:
    """Read the verdict records that a contract scorer stored in an Inspect log.

    Args:
        log: An EvalLog with samples, or the path of a log file.
        scorer: The score name in each sample; re-scoring with ``--action append`` adds
            ``contract_scorer1``, ``contract_scorer2``, ...

    Returns:
        One record per sample and epoch that has this score, in the log's sample order.
    """
    eval_log = log if isinstance(log, EvalLog) else read_eval_log(str(log))
    records = []
    for sample in eval_log.samples or []:
        score = (sample.scores or {}).get(scorer)
        if score is None or not score.metadata or RECORD_KEY not in score.metadata:
            continue
        records.append(VerdictRecord.model_validate(score.metadata[RECORD_KEY]))
    return records
