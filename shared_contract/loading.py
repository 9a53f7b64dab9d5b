"""Read contract files, report every problem with file, field and fix, and hash contracts."""

from __future__ import annotations

import hashlib
import json
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from shared_contract.schema import Contract


@dataclass(frozen=True)
class ContractProblem:
    """One problem found in a contract file."""

    file: str
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}. Fix: {self.fix}"


class ContractError(ValueError):
    """A contract file is unreadable or invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ContractProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove this field or correct its spelling",
    "string_too_short": "give a non-empty value",
    "too_short": "give at least one item",
    "string_pattern_mismatch": "use letters, digits and _ . : - only, starting with a letter or digit",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "less_than": "use a smaller value",
    "enum": "use one of the values listed",
    "literal_error": "use one of the values listed",
    "union_tag_invalid": "set 'kind' to one of the values listed",
    "union_tag_not_found": "add 'kind' with one of the values listed",
}


def _field_path(location: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


class _ShortRepr(reprlib.Repr):
    """A bounded repr of a wrong value.

    YAML aliases can nest a value exponentially (a "billion laughs" file), and a full repr of it
    would not finish. Integers past Python's digit limit for str() are described, not printed.
    """

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:
            return f"<integer of {x.bit_length()} bits>"


_SHORT_REPR = _ShortRepr(maxlevel=3, maxlist=5, maxtuple=5, maxdict=5, maxset=5, maxstring=80, maxother=80, maxlong=40)


def _fix_for(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in _FIXES:
        return _FIXES[kind]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"give a value of the right type (got {_SHORT_REPR.repr(error.get('input'))})"
    if kind == "value_error":
        return "change the value as the message says"
    return "correct the value"


def problems_from_validation(file: str, error: ValidationError) -> list[ContractProblem]:
    """Turn a pydantic ValidationError into one ContractProblem per failed field."""
    problems = []
    for item in error.errors(include_url=False):
        # Discriminated-union and validator locations carry tags such as 'function-after[...]'.
        location = [part for part in item["loc"] if not (isinstance(part, str) and "[" in part)]
        message = item["msg"].removeprefix("Value error, ")
        problems.append(ContractProblem(file, _field_path(location), message, _fix_for(item)))
    return problems


def _parse_text(text: str, file: str) -> Any:
    if file.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ContractError(
                [ContractProblem(file, f"line {error.lineno} column {error.colno}", f"invalid JSON: {error.msg}", "correct the JSON syntax")]
            ) from None
        except (RecursionError, ValueError) as error:
            raise ContractError([_unparseable(file, "JSON", error)]) from None
    try:
        return yaml.safe_load(text)
    except (RecursionError, ValueError, IndexError, TypeError) as error:
        # PyYAML's constructors raise these on tagged scalars they cannot convert ('!!int ' with
        # no digits, an integer past Python's digit limit) instead of a YAMLError.
        raise ContractError([_unparseable(file, "YAML", error)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "(file)"
        problem = getattr(error, "problem", None) or str(error)
        raise ContractError(
            [ContractProblem(file, where, f"invalid YAML: {problem}", "correct the YAML syntax (indentation, quotes, colons)")]
        ) from None


def _unparseable(file: str, syntax: str, error: Exception) -> ContractProblem:
    """Describe a file the parser gave up on: nesting past the recursion limit, or a value it cannot convert."""
    if isinstance(error, RecursionError):
        return ContractProblem(file, "(file)", f"{syntax} nested too deeply to read", "flatten the nesting of lists and mappings")
    return ContractProblem(file, "(file)", f"{syntax} value cannot be read: {_SHORT_REPR.repr(str(error))}", "shorten the value")


def load_contract(path: str | Path) -> Contract:
    """Read and validate a YAML or JSON contract file.

    Raises:
        ContractError: lists every problem in the file, each with its field and fix.
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContractError([ContractProblem(file, "(file)", f"cannot read the file: {error}", "check the path")]) from None
    data = _parse_text(text, file)
    contract = contract_from_data(data, file)
    problems = reference_problems(contract, path.parent, file)
    if problems:
        raise ContractError(problems)
    return contract


def reference_problems(contract: Contract, base_dir: Path, file: str) -> list[ContractProblem]:
    """Check that every reference file exists inside the contract's folder."""
    problems = []
    root = base_dir.resolve()
    for index, name in enumerate(contract.task.reference_files):
        field = f"task.reference_files[{index}]"
        target = (root / name).resolve()
        if not target.is_relative_to(root):
            problems.append(ContractProblem(file, field, f"{name!r} leads outside the contract's folder", "keep reference files beside the contract"))
        elif not target.is_file():
            problems.append(ContractProblem(file, field, f"reference file {name!r} not found in {str(root)!r}", "correct the path or add the file"))
    return problems


def contract_from_data(data: Any, file: str = "<contract>") -> Contract:
    """Validate already-parsed contract data; ``file`` names the source in errors."""
    if not isinstance(data, dict):
        raise ContractError(
            [ContractProblem(file, "(top level)", f"expected a mapping of fields, got {type(data).__name__}", "write the contract as key: value pairs")]
        )
    try:
        return Contract.model_validate(data)
    except ValidationError as error:
        raise ContractError(problems_from_validation(file, error)) from None


def contract_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand each folder to the YAML and JSON files directly inside it; files stay as given."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() else [path])
    return files


def validate_files(paths: Iterable[str | Path]) -> list[ContractProblem]:
    """Validate every file (folders: the contracts inside) and return all problems, empty when all are valid."""
    problems: list[ContractProblem] = []
    for path in contract_files(paths):
        try:
            load_contract(path)
        except ContractError as error:
            problems.extend(error.problems)
    return problems


def canonical_json(model: BaseModel | Any) -> str:
    """Serialise to JSON with sorted keys and no insignificant whitespace."""
    data = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def contract_hash(contract: Contract, base_dir: str | Path | None = None) -> str:
    """Return the contract's content hash, ``sha256:<hex>``.

    The hash covers the validated contract with defaults filled in, so key order, criterion
    order, formatting, YAML against JSON, and spelling out a default do not change it. When ``base_dir`` is given,
    the bytes of each reference file are hashed in too.
    """
    data = contract.model_dump(mode="json")
    # Criteria are a set as far as grading goes: their order must not change the hash.
    data["criteria"] = sorted(data["criteria"], key=lambda criterion: criterion["id"])
    # Seats are identified by name (J1, J2, ... when unnamed), so listing named seats in another order is the same jury.
    for name, judges in data["juries"].items():
        seated = [{**judge, "name": judge["name"] or f"J{index}"} for index, judge in enumerate(judges, start=1)]
        data["juries"][name] = sorted(seated, key=lambda judge: judge["name"])
    digest = hashlib.sha256(canonical_json(data).encode("utf-8"))
    if base_dir is not None:
        for name in contract.task.reference_files:
            reference = Path(base_dir) / name
            content = reference.read_bytes() if reference.is_file() else b"<missing>"
            digest.update(b"\0" + name.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    return "sha256:" + digest.hexdigest()
