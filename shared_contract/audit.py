"""The verdict record: the one audit format that the CLI, Inspect and Harbor adapters all write.

Fields under ``run`` and every ``timing`` object are run-specific (timestamps, run ids, measured
latency) and are ignored by the parity check; everything else must be identical when the same
contract grades the same evidence with the same judge completions.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_FORMAT = "asymmetryzero/verdict-record/v1"

# Completions are parsed whole; records keep at most this many characters of each.
COMPLETION_RECORD_CHARS = 65_536

# Paths (dot-separated, '*' for any list index) whose values differ between runs by design.
RUN_SPECIFIC_FIELDS = (
    "run",
    "criteria.*.votes.*.timing",
    "criteria.*.votes.*.attempts.*.latency_s",
    "criteria.*.votes.*.from_cache",
    "totals.latency_s",
    "totals.votes_from_cache",
)

# Sample identity: each framework names samples its own way, so cross-framework parity matches
# records by contract and does not compare these.
IDENTITY_FIELDS = ("sample_id", "epoch", "solver")


class VoteVerdict(StrEnum):
    """A single judge's vote on one criterion."""

    PASS = "PASS"
    FAIL = "FAIL"
    INVALID = "INVALID"
    NOT_CALLED = "NOT_CALLED"


class Decision(StrEnum):
    """A criterion decision or task outcome."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNSCORED = "UNSCORED"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attempt(_Record):
    """One request to a judge, successful or not."""

    number: int
    status: Literal[
        "ok", "rate_limited", "server_error", "timeout", "connection_error", "truncated", "unparseable", "refusal", "error"
    ]
    error: str | None = None
    retry_after_s: float | None = None
    max_tokens: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0


class VoteTiming(_Record):
    """Wall-clock facts about a vote; run-specific. ``latency_s`` sums the vote's judge calls."""

    started_at: str | None = None
    finished_at: str | None = None
    latency_s: float = 0.0


class Vote(_Record):
    """One judge's vote on one criterion, with everything needed to audit and re-aggregate it."""

    seat: str
    model: str
    settings: dict[str, Any] = Field(default_factory=dict)
    verdict: VoteVerdict
    reason: str | None = Field(default=None, description="Why a vote is INVALID or NOT_CALLED.")
    score: float | None = Field(default=None, description="Normalised [0,1] score for scale criteria.")
    raw_score: float | None = None
    rationale: str | None = None
    completion: str | None = None
    completion_chars: int | None = Field(default=None, description="Length of the whole completion, set when it was cut for the record.")
    completion_cut: bool = Field(default=False, description="True when only the first COMPLETION_RECORD_CHARS of the completion are stored.")
    parse_status: str = "not_parsed"
    attempts: list[Attempt] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None
    prompt_hash: str | None = None
    from_cache: bool = False
    timing: VoteTiming = Field(default_factory=VoteTiming)

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the full rate: ``input_tokens`` counts cached ones too."""
        return max(self.input_tokens - self.cached_input_tokens, 0)


class Tally(_Record):
    """Vote counts over the configured panel."""

    panel: int = 0
    passed: int = Field(default=0, alias="pass")
    failed: int = Field(default=0, alias="fail")
    invalid: int = 0
    not_called: int = 0

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    @property
    def split(self) -> str:
        """Majority-minority split of the valid votes, e.g. '3-2'."""
        high, low = max(self.passed, self.failed), min(self.passed, self.failed)
        return f"{high}-{low}"


class CriterionResult(_Record):
    """A criterion's decision with the votes or check behind it."""

    id: str
    method: str
    weight: float
    polarity: str
    required: bool = False
    group: str | None = None
    decision: Decision
    reason: str | None = None
    split: str | None = None
    tally: Tally | None = None
    score: float | None = Field(default=None, description="Median normalised score of valid votes, for scale criteria.")
    detail: dict[str, Any] = Field(default_factory=dict)
    votes: list[Vote] = Field(default_factory=list)


class Totals(_Record):
    """Judge usage summed over all votes of the record.

    ``input_tokens`` counts every prompt token; ``cached_input_tokens`` is the part of it that the
    providers read from their prompt caches.
    """

    judge_calls: int = 0
    requests: int = 0
    rate_limited: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when any vote's price is unknown.")
    votes_from_cache: int = 0
    invalid_votes: int = 0
    latency_s: float = 0.0

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the full rate: ``input_tokens`` counts cached ones too."""
        return max(self.input_tokens - self.cached_input_tokens, 0)


class RunInfo(_Record):
    """Run-specific facts, excluded from parity."""

    framework: str = "cli"
    run_id: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    wall_time_s: float | None = None
    package_version: str = ""


class JurySummary(_Record):
    """The jury that voted: its name, seats and the vote rule applied."""

    name: str | None = None
    seats: list[dict[str, Any]] = Field(default_factory=list)
    vote_rule: dict[str, Any] = Field(default_factory=dict)
    prompt_template: str | None = None


class VerdictRecord(_Record):
    """The verdict record of one graded sample."""

    format: Literal["asymmetryzero/verdict-record/v1"] = RECORD_FORMAT
    contract_id: str
    contract_version: str
    contract_hash: str
    sample_id: str | None = None
    epoch: int | None = None
    solver: str | None = None
    evidence_digest: str
    evidence_chars: int = 0
    jury: JurySummary = Field(default_factory=JurySummary)
    criteria: list[CriterionResult]
    score: float | None
    outcome: Decision
    outcome_reason: str | None = None
    coverage: float
    totals: Totals = Field(default_factory=Totals)
    warnings: list[str] = Field(default_factory=list)
    run: RunInfo = Field(default_factory=RunInfo)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise the record; NaN and infinity are never written."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=indent, ensure_ascii=False, allow_nan=False)


def package_version() -> str:
    """Return the installed asymmetryzero version, or '0+unknown' when run from a bare checkout."""
    try:
        return metadata.version("asymmetryzero")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def write_atomic(path: str | Path, text: str) -> Path:
    """Write text to path through a temporary file and a rename, so no half-written file remains."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates the file readable by its owner only; give it the usual mode under the umask.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_record(record: VerdictRecord, path: str | Path) -> Path:
    """Write one verdict record as JSON, atomically."""
    return write_atomic(path, record.to_json() + "\n")


def read_records(path: str | Path) -> list[VerdictRecord]:
    """Read verdict records from a .json file (one record or a list) or a .jsonl file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [VerdictRecord.model_validate_json(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    return [VerdictRecord.model_validate(item) for item in items]
