"""Compare verdict records field by field, ignoring fields documented as run-specific."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from shared_contract.audit import IDENTITY_FIELDS, RUN_SPECIFIC_FIELDS, VerdictRecord

CROSS_FRAMEWORK_IGNORED = (*RUN_SPECIFIC_FIELDS, *IDENTITY_FIELDS)


@dataclass(frozen=True)
class Difference:
    """One differing field: its dot path and the two values."""

    path: str
    left: Any
    right: Any

    def __str__(self) -> str:
        return f"{self.path}: {self.left!r} != {self.right!r}"


def _run_specific(path: str, ignored: tuple[str, ...]) -> bool:
    generic = ".".join("*" if part.isdigit() else part for part in path.split("."))
    return any(generic == pattern or generic.startswith(pattern + ".") or fnmatch.fnmatchcase(generic, pattern) for pattern in ignored)


def _walk(left: Any, right: Any, path: str, ignored: tuple[str, ...], found: list[Difference]) -> None:
    if path and _run_specific(path, ignored):
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            child = f"{path}.{key}" if path else str(key)
            if key not in left or key not in right:
                if not _run_specific(child, ignored):
                    found.append(Difference(child, left.get(key, "<missing>"), right.get(key, "<missing>")))
                continue
            _walk(left[key], right[key], child, ignored, found)
        return
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            found.append(Difference(f"{path}.length", len(left), len(right)))
        for index, (a, b) in enumerate(zip(left, right)):
            _walk(a, b, f"{path}.{index}", ignored, found)
        return
    if left != right:
        found.append(Difference(path, left, right))


def diff_records(left: VerdictRecord, right: VerdictRecord, ignored: tuple[str, ...] = RUN_SPECIFIC_FIELDS) -> list[Difference]:
    """Return every difference between two records outside the ignored (run-specific) fields."""
    found: list[Difference] = []
    _walk(left.model_dump(mode="json", by_alias=True), right.model_dump(mode="json", by_alias=True), "", ignored, found)
    return found


def record_key(record: VerdictRecord, by: str = "sample") -> tuple[str, str, str | None, int | None]:
    """Match key of a record: contract hash and id, plus sample id and epoch when ``by`` is "sample"."""
    if by == "contract":
        return (record.contract_hash, record.contract_id, None, None)
    return (record.contract_hash, record.contract_id, record.sample_id, record.epoch)
