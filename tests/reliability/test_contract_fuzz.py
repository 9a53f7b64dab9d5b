"""Contract loader fuzzing: any bytes or data give a valid Contract or a ContractError, quickly.

Every example runs under a time limit. SIGALRM interrupts Python code that runs too long. If C
code ignores the alarm, faulthandler ends the process with a traceback of every thread, so a hang
fails the run instead of stalling it.
"""

from __future__ import annotations

import copy
import faulthandler
import json
import math
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared_contract.loading import ContractError, contract_from_data, load_contract
from shared_contract.schema import Contract
from tests.reliability.support import record_figure

BASIC = yaml.safe_load((Path(__file__).parents[1] / "data" / "basic.yaml").read_text(encoding="utf-8"))
EXAMPLE_SECONDS = 5
EXAMPLES: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
FUZZ_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class ExampleTimeout(BaseException):
    """An example ran past its time limit (a BaseException, so code under test cannot swallow it)."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise ExampleTimeout in the main thread after ``seconds``; end the process after three times that."""

    def expire(signum: int, frame: object) -> None:
        raise ExampleTimeout(f"example ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    faulthandler.dump_traceback_later(seconds * 3, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_load(path: Path) -> None:
    with time_limit(EXAMPLE_SECONDS):
        try:
            contract = load_contract(path)
        except ContractError as error:
            assert error.problems, "a ContractError lists at least one problem"
            assert all(problem.fix for problem in error.problems)
            OUTCOMES["contract_error"] += 1
            return
    assert isinstance(contract, Contract)
    OUTCOMES["valid"] += 1


def _check_data(data: Any) -> None:
    with time_limit(EXAMPLE_SECONDS):
        try:
            contract = contract_from_data(data)
        except ContractError as error:
            assert error.problems
            OUTCOMES["contract_error"] += 1
            return
    assert isinstance(contract, Contract)
    OUTCOMES["valid"] += 1


def _alias_bomb(levels: int = 9) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines)


YAML_TOKENS = [
    "{", "}", "[", "]", ":", ": ", ",", "- ", "\n", "\n  ", "\n    ", "'", '"', "&a ", "*a", "<<: ", "? ", "!!binary ", "!!python/object:os.system ",
    "!!set ", "!!int ", "!!float ", ".inf", ".nan", "~", "null", "true", "1e999", "9" * 5000, "id", "criteria", "task", "prompt", "requirement",
    "method", "regex", "pattern", "(a*)*", "a{4294967296}", "weight", "-1", "0", "juries", "model", "scale", "kind", "ordinal", "numeric",
    "levels", "value", "#", "|\n  ", ">\n  ", "\t", "\x00", "\ufeff", "é", "\u202e", "---\n", "...\n", "%YAML 1.1\n", "[" * 3000,
]
yamlish_text = st.lists(st.one_of(st.sampled_from(YAML_TOKENS), st.text(max_size=8)), max_size=60).map("".join)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".yaml", ".json"]))
@example(data=b"\xff\xfe\x00id: x", suffix=".yaml")
@example(data=b"[" * 100_000, suffix=".json")
@example(data=b"a: " + b"[" * 100_000, suffix=".yaml")
def test_random_bytes_load(data: bytes, suffix: str, tmp_path: Path) -> None:
    EXAMPLES["bytes"] += 1
    path = tmp_path / f"contract{suffix}"
    path.write_bytes(data)
    _check_load(path)


@FUZZ_SETTINGS
@given(text=yamlish_text, suffix=st.sampled_from([".yaml", ".json"]))
@example(text="id: x\ntask: {prompt: p}\ncriteria: [{id: a, requirement: r, weight: " + "9" * 5000 + "}]", suffix=".yaml")
@example(text='{"id": "x", "task": {"prompt": "p"}, "criteria": [{"id": "a", "requirement": "r", "weight": ' + "9" * 5000 + "}]}", suffix=".json")
@example(text=_alias_bomb() + "\nid: x\ntask: {prompt: p}\ncriteria: *l8\n", suffix=".yaml")
@example(text=_alias_bomb() + "\nid: x\ntask: {prompt: *l8}\ncriteria: [{id: a, requirement: r}]\n", suffix=".yaml")
@example(text=_alias_bomb() + "\nid: x\ntask: {prompt: p}\ncriteria: [{id: a, requirement: r, wieght: *l8}]\n", suffix=".yaml")
@example(text='{"id": ' + '{"a": ' * 50_000 + "}", suffix=".json")
def test_yamlish_text_load(text: str, suffix: str, tmp_path: Path) -> None:
    EXAMPLES["text"] += 1
    path = tmp_path / f"contract{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check_load(path)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**4400, max_value=10**4500),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.sampled_from(["jury", "regex", "exact", "numeric", "json_path", "file", "command_output", "ordinal", "numeric", "(a*)*b", "a{4294967296}", "(" * 2000]),
    ),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)),
    max_leaves=30,
)


@FUZZ_SETTINGS
@given(data=json_values)
def test_random_data_validate(data: Any) -> None:
    EXAMPLES["data"] += 1
    _check_data(data)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


BASIC_PATHS = [path for path in _paths(BASIC) if path]
FIELD_NAMES = ["method", "pattern", "expected", "scale", "weight", "polarity", "required", "group", "target", "json_path", "tolerance", "units", "kind", "levels", "minimum", "maximum", "k", "quorum", "groups", "mode", "protocol", "settings"]


def _apply_change(data: dict[str, Any], path: tuple[Any, ...], field: str | None, value: Any) -> None:
    """Set the value at path (or a field of the mapping there); skip a path an earlier change removed."""
    target: Any = data
    for key in path[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    if not isinstance(target, (dict, list)) or (isinstance(target, list) and not (isinstance(last, int) and last < len(target))):
        return
    if isinstance(target, dict) and last not in target:
        return
    if field is not None and isinstance(target[last], dict):
        target[last][field] = value
        if field == "pattern":
            target[last]["method"] = "regex"
    else:
        target[last] = value


@FUZZ_SETTINGS
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(BASIC_PATHS), st.one_of(st.none(), st.sampled_from(FIELD_NAMES)), json_values),
        min_size=1,
        max_size=4,
    )
)
@example(changes=[(("criteria", 1), "pattern", "a{4294967296}")])
@example(changes=[(("criteria", 1), "pattern", "(" * 2000 + ")" * 2000)])
def test_mutated_contract_validates(changes: list[tuple[tuple[Any, ...], str | None, Any]], tmp_path: Path) -> None:
    EXAMPLES["mutations"] += 1
    data = copy.deepcopy(BASIC)
    for path, field, value in changes:
        _apply_change(data, path, field, value)
    _check_data(data)
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return
    path_json = tmp_path / "mutated.json"
    path_json.write_text(text, encoding="utf-8")
    _check_load(path_json)


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        ("a: " + "[" * 100_000, ".yaml"),
        ("[" * 100_000 + "]" * 100_000, ".json"),
        ("id: x\ntask: {prompt: p}\ncriteria: [{id: a, requirement: r, weight: " + "9" * 5000 + "}]", ".yaml"),
        (_alias_bomb() + "\nid: x\ntask: {prompt: p}\ncriteria: *l8\n", ".yaml"),
        ("id: x\ntask: {prompt: p}\ncriteria: [{id: a, requirement: r, method: regex, pattern: 'a{4294967296}'}]", ".yaml"),
        ("id: x\ntask: {prompt: p}\ncriteria: [{id: a, requirement: r, method: regex, pattern: '" + "(" * 2000 + ")" * 2000 + "'}]", ".yaml"),
    ],
    ids=["deep-yaml", "deep-json", "huge-integer", "alias-bomb", "regex-repeat-overflow", "regex-deep-groups"],
)
def test_loader_regression(text: str, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"contract{suffix}"
    path.write_text(text, encoding="utf-8")

    with time_limit(EXAMPLE_SECONDS), pytest.raises(ContractError) as raised:
        load_contract(path)

    assert all(len(str(problem)) < 2000 for problem in raised.value.problems)


def _weighted_contract(weights: list[float]) -> dict[str, Any]:
    criteria = []
    for index, weight in enumerate(weights):
        polarity = "negative" if index % 3 == 2 else "positive"
        expected = "Paris" if index % 2 == 0 else "Rome"
        criteria.append({"id": f"C{index}", "requirement": "Names a city.", "method": "contains", "expected": expected, "extract": "whole", "weight": weight, "polarity": polarity})
    return {"id": "weights", "task": {"prompt": "Name a city."}, "criteria": criteria}


def _grade_deterministic(data: dict[str, Any]) -> Any:
    import asyncio

    from shared_contract.evidence import Evidence
    from shared_contract.grading import Grader

    return asyncio.run(Grader(None).grade(contract_from_data(data), Evidence(response="Paris")))


@FUZZ_SETTINGS
@given(weights=st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=40))
def test_valid_contract_grades(weights: list[float]) -> None:
    """A contract with weights between 1e-6 and 1e6 grades without raising, to a finite score."""
    EXAMPLES["weights"] += 1
    with time_limit(EXAMPLE_SECONDS):
        record = _grade_deterministic(_weighted_contract(weights))
    assert record.score is None or math.isfinite(record.score)
    assert math.isfinite(record.coverage)


@pytest.mark.parametrize("weights", [[1e308, 1e308], [1e-300, 1e-300, 359538627.0]], ids=["sum-overflow", "ratio-overflow"])
def test_extreme_weights_rejected(weights: list[float]) -> None:
    data = _weighted_contract(weights)
    try:
        contract_from_data(data)
    except ContractError:
        return
    record = _grade_deterministic(data)
    assert record.score is None or math.isfinite(record.score)


def test_fuzz_figures() -> None:
    """Record how many examples the tests above ran (runs last in this module)."""
    record_figure("fuzz.examples", dict(EXAMPLES))
    record_figure("fuzz.outcomes", dict(OUTCOMES))
    assert sum(EXAMPLES.values()) > 0
