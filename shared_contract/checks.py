"""Deterministic checks.

Matching semantics, stated precisely:

- Text checks first extract the compared part (``extract``, by default the text after the last
  "Final answer:" or "Answer:" line, else the whole text), then apply the declared
  normalisations to both sides.
- ``exact`` compares the two normalised strings for equality. It never tests substrings, so
  "not paris" does not match "paris".
- ``contains`` and ``file_contains`` look for the expected text as a phrase: where the expected
  text starts or ends with a letter or digit, the neighbouring character in the material must not
  be one, so "paris" is not found in "parisian".
- ``regex`` searches anywhere in the extracted text (anchor the pattern to match all of it), with
  a time limit against catastrophic backtracking.
- ``numeric`` needs the extracted text to be one number, with optional sign, currency symbol,
  thousands separators (",", "_", thin or no-break space between groups of three), one declared
  unit and a final period. Several numbers, or words around the number, fail the check.
- ``json_path`` parses the material as JSON (code fences allowed), and needs exactly one match,
  equal to ``expected`` (numbers compare by value).
"""

from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import regex
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as parse_json_path

from shared_contract.audit import Decision
from shared_contract.evidence import Evidence, Material, run_command, workspace_path
from shared_contract.schema import Criterion, Extraction, Method, Normalization

REGEX_TIMEOUT_S = 2.0

_FINAL_ANSWER = re.compile(r"^\s*(?:\*\*)?(?:final\s+answer|answer)(?:\*\*)?\s*[:：]\s*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)
_PUNCTUATION = str.maketrans("", "", string.punctuation + "¿¡«»“”‘’…")
_SEPARATORS = "[,_\u2009\u202f\u00a0 ]"
_NUMBER = re.compile(
    rf"^(?P<sign>[-+−])?\s*(?P<currency>[$€£¥])?\s*(?P<digits>\d{{1,3}}(?:{_SEPARATORS}\d{{3}})+|\d+)(?P<fraction>\.\d+)?\s*(?P<unit>.*?)\.?$"
)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a deterministic check: PASS, FAIL, or UNSCORED on an infrastructure failure."""

    decision: Decision
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def extract(text: str, how: Extraction) -> str:
    """Return the part of the text that a text check compares."""
    # A byte-order mark from a text editor must not hide the first line's "Final answer:".
    text = text.removeprefix("\ufeff")
    if how is Extraction.WHOLE:
        return text
    if how is Extraction.LAST_LINE:
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""
    matches = _FINAL_ANSWER.findall(text)
    return matches[-1] if matches else text


def normalize(text: str, steps: list[Normalization]) -> str:
    """Apply normalisation steps in a fixed order, whatever order the contract lists them in."""
    if Normalization.NFKC in steps:
        text = unicodedata.normalize("NFKC", text)
    if Normalization.CASEFOLD in steps:
        text = text.casefold()
    if Normalization.PUNCTUATION in steps:
        text = text.translate(_PUNCTUATION)
    if Normalization.WHITESPACE in steps:
        text = " ".join(text.split())
    if Normalization.STRIP in steps:
        text = text.strip()
    return text


def _contains_phrase(haystack: str, needle: str) -> bool:
    if not needle:
        return True
    start = 0
    while (index := haystack.find(needle, start)) >= 0:
        before = haystack[index - 1] if index > 0 else ""
        after = haystack[index + len(needle)] if index + len(needle) < len(haystack) else ""
        left_ok = not (needle[0].isalnum() and before.isalnum())
        right_ok = not (needle[-1].isalnum() and after.isalnum())
        if left_ok and right_ok:
            return True
        start = index + 1
    return False


def parse_number(text: str, units: list[str]) -> float | None:
    """Parse one number with optional sign, currency, thousands separators and a declared unit."""
    match = _NUMBER.match(text.strip())
    if not match:
        return None
    unit = match["unit"].strip()
    if unit and unit.casefold() not in {u.casefold() for u in units}:
        return None
    digits = re.sub(_SEPARATORS, "", match["digits"])
    value = float(digits + (match["fraction"] or ""))
    return -value if match["sign"] in ("-", "−") else value


def _strip_fences(text: str) -> str:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    return fenced.group(1) if fenced else text


def _equal_json(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or (isinstance(expected, str) and str(actual).lower() == expected.lower())
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float, str)):
        try:
            return math.isclose(float(actual), float(expected), rel_tol=0, abs_tol=1e-12)
        except ValueError:
            return False
    return actual == expected or (isinstance(actual, str) and actual == str(expected))


def check_text(criterion: Criterion, material: Material) -> CheckResult:
    """Run a check on the graded text: exact, contains, regex, numeric or json_path."""
    if material.infrastructure_error:
        return CheckResult(Decision.UNSCORED, material.infrastructure_error)
    if material.text is None or not material.text.strip():
        return CheckResult(Decision.FAIL, "empty_response")

    compared = extract(material.text, criterion.extract)
    expected = "" if criterion.expected is None else str(criterion.expected)
    detail: dict[str, Any] = {"compared": compared[:200], "expected": criterion.expected}

    if criterion.method is Method.EXACT:
        ok = normalize(compared, criterion.normalize) == normalize(expected, criterion.normalize)
        return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else "not equal", detail)

    if criterion.method is Method.CONTAINS:
        ok = _contains_phrase(normalize(compared, criterion.normalize), normalize(expected, criterion.normalize))
        return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else "phrase not found", detail)

    if criterion.method is Method.REGEX:
        assert criterion.pattern is not None
        try:
            found = regex.search(criterion.pattern, compared, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return CheckResult(Decision.UNSCORED, f"regex_timeout: no result within {REGEX_TIMEOUT_S}s", detail)
        detail["pattern"] = criterion.pattern
        return CheckResult(Decision.PASS if found else Decision.FAIL, None if found else "pattern not found", detail)

    if criterion.method is Method.NUMERIC:
        actual = parse_number(compared, criterion.units)
        target = float(expected.replace(",", ""))
        detail["parsed"] = actual
        if actual is None:
            return CheckResult(Decision.FAIL, "not a single number with an allowed unit", detail)
        bound = max(criterion.tolerance.absolute, criterion.tolerance.relative * abs(target))
        ok = abs(actual - target) <= bound
        return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else f"{actual} is not within {bound} of {target}", detail)

    assert criterion.method is Method.JSON_PATH and criterion.json_path is not None
    try:
        document = json.loads(_strip_fences(material.text))
    except json.JSONDecodeError as error:
        return CheckResult(Decision.FAIL, f"material is not valid JSON: {error.msg}", detail)
    try:
        matches = [m.value for m in parse_json_path(criterion.json_path).find(document)]
    except (JsonPathParserError, Exception) as error:  # jsonpath-ng raises bare Exceptions for some syntax errors.
        return CheckResult(Decision.UNSCORED, f"json_path_invalid: {criterion.json_path!r}: {error}", detail)
    detail["matches"] = matches[:5]
    if len(matches) != 1:
        return CheckResult(Decision.FAIL, f"json path matched {len(matches)} values, expected exactly 1", detail)
    ok = _equal_json(matches[0], criterion.expected)
    return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else "value differs", detail)


def check_workspace(criterion: Criterion, evidence: Evidence) -> CheckResult:
    """Run a workspace check: file_exists, file_contains or command_exit_code."""
    if evidence.workspace is None:
        return CheckResult(Decision.UNSCORED, f"no_workspace: method '{criterion.method.value}' needs a workspace folder")

    if criterion.method is Method.COMMAND_EXIT_CODE:
        assert criterion.command is not None
        exit_code, output, error = run_command(criterion.command, evidence.workspace, criterion.timeout_s)
        detail = {"command": criterion.command, "exit_code": exit_code, "output_tail": output[-500:]}
        if error:
            return CheckResult(Decision.UNSCORED, error, detail)
        ok = exit_code == criterion.exit_code
        return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else f"exit code {exit_code}, expected {criterion.exit_code}", detail)

    assert criterion.path is not None
    try:
        path = workspace_path(evidence.workspace, criterion.path)
    except ValueError as error:
        return CheckResult(Decision.FAIL, str(error), {"path": criterion.path})
    if criterion.method is Method.FILE_EXISTS:
        ok = path.exists()
        return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else "file not found", {"path": criterion.path})

    if not path.is_file():
        return CheckResult(Decision.FAIL, "file not found", {"path": criterion.path})
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return CheckResult(Decision.UNSCORED, f"file_unreadable: {error}", {"path": criterion.path})
    ok = _contains_phrase(normalize(content, criterion.normalize), normalize(str(criterion.expected), criterion.normalize))
    return CheckResult(Decision.PASS if ok else Decision.FAIL, None if ok else "phrase not found in file", {"path": criterion.path})


def run_check(criterion: Criterion, evidence: Evidence, material: Material) -> CheckResult:
    """Run a deterministic criterion's check."""
    if criterion.method in (Method.FILE_EXISTS, Method.FILE_CONTAINS, Method.COMMAND_EXIT_CODE):
        return check_workspace(criterion, evidence)
    return check_text(criterion, material)
