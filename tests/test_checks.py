"""Deterministic checks: exact, contains, regex, numeric, json_path and workspace methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_contract.audit import Decision
from shared_contract.checks import run_check
from shared_contract.evidence import Evidence, Material
from shared_contract.schema import Criterion

CASES = [
    # (criterion fields, graded text, expected decision)
    ({"method": "exact", "expected": "paris"}, "not paris", "FAIL"),
    ({"method": "exact", "expected": "paris"}, "paris", "PASS"),
    ({"method": "exact", "expected": "Paris"}, "  paris. ", "FAIL"),
    ({"method": "exact", "expected": "Paris", "normalize": ["strip", "casefold", "punctuation"]}, "  paris. ", "PASS"),
    ({"method": "exact", "expected": "1969"}, "It happened in 1969.\nFinal answer: 1969", "PASS"),
    ({"method": "exact", "expected": "1969", "extract": "whole"}, "It happened in 1969.\nFinal answer: 1969", "FAIL"),
    ({"method": "exact", "expected": "Paris", "normalize": ["nfkc", "casefold"]}, "Ｐａｒｉｓ", "PASS"),
    ({"method": "contains", "expected": "paris"}, "the capital is paris.", "PASS"),
    ({"method": "contains", "expected": "paris"}, "a parisian cafe", "FAIL"),
    ({"method": "contains", "expected": "H2O", "normalize": ["casefold"]}, "Water is h2o", "PASS"),
    ({"method": "regex", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, "2024-01-31", "PASS"),
    ({"method": "regex", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, "on 2024-01-31", "FAIL"),
    ({"method": "numeric", "expected": 1234.5}, "1,234.5", "PASS"),
    ({"method": "numeric", "expected": 11.25}, "Final answer: $11.25", "PASS"),
    ({"method": "numeric", "expected": 11.25}, "The total is 11.25", "FAIL"),
    ({"method": "numeric", "expected": 42}, "42 kg", "FAIL"),
    ({"method": "numeric", "expected": 42, "units": ["kg"]}, "42 kg", "PASS"),
    ({"method": "numeric", "expected": 100, "tolerance": {"relative": 0.01}}, "100.9", "PASS"),
    ({"method": "numeric", "expected": 100, "tolerance": {"absolute": 0.5}}, "101", "FAIL"),
    ({"method": "numeric", "expected": -3}, "−3", "PASS"),
    ({"method": "numeric", "expected": 1000000}, "1 000 000", "PASS"),
    ({"method": "numeric", "expected": 12}, "1,2", "FAIL"),
    ({"method": "json_path", "json_path": "$.result.total", "expected": 7}, '```json\n{"result": {"total": 7.0}}\n```', "PASS"),
    ({"method": "json_path", "json_path": "$.items[*].id", "expected": 1}, '{"items": [{"id": 1}, {"id": 1}]}', "FAIL"),
    ({"method": "json_path", "json_path": "$.ok", "expected": True}, '{"ok": true}', "PASS"),
    ({"method": "json_path", "json_path": "$.ok", "expected": True}, "not json", "FAIL"),
    ({"method": "exact", "expected": "x"}, "   ", "FAIL"),
    ({"method": "exact", "expected": "Canberra"}, "\ufeffFinal answer: Canberra\n", "PASS"),
]


@pytest.mark.parametrize(("fields", "text", "decision"), CASES)
def test_text_check_table(fields: dict, text: str, decision: str) -> None:
    criterion = Criterion(id="c", requirement="r", **fields)
    result = run_check(criterion, Evidence(response=text), Material(text, "final_answer"))
    assert result.decision.value == decision, result


def test_empty_response_reason() -> None:
    criterion = Criterion(id="c", requirement="r", method="exact", expected="x")
    assert run_check(criterion, Evidence(response=""), Material("", "final_answer")).reason == "empty_response"


def test_regex_timeout_unscored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared_contract.checks.REGEX_TIMEOUT_S", 0.2)
    criterion = Criterion(id="c", requirement="r", method="regex", pattern=r"^(a|aa)+$")
    text = "a" * 60 + "!"
    result = run_check(criterion, Evidence(response=text), Material(text, "final_answer"))
    assert result.decision is Decision.UNSCORED
    assert result.reason.startswith("regex_timeout")


def _workspace(tmp_path: Path) -> Evidence:
    (tmp_path / "out.txt").write_text("def main():\n    return 0\n", encoding="utf-8")
    (tmp_path / "link").symlink_to("/etc/hostname")
    return Evidence(workspace=tmp_path)


WORKSPACE_CASES = [
    ({"method": "file_exists", "path": "out.txt"}, "PASS"),
    ({"method": "file_exists", "path": "missing.txt"}, "FAIL"),
    ({"method": "file_exists", "path": "../etc/passwd"}, "FAIL"),
    ({"method": "file_contains", "path": "link", "expected": "a"}, "FAIL"),
    ({"method": "file_contains", "path": "out.txt", "expected": "def main"}, "PASS"),
    ({"method": "file_contains", "path": "out.txt", "expected": "def mai"}, "FAIL"),
    ({"method": "command_exit_code", "command": "grep -q main out.txt"}, "PASS"),
    ({"method": "command_exit_code", "command": "grep -q absent out.txt"}, "FAIL"),
    ({"method": "command_exit_code", "command": "exit 3", "exit_code": 3}, "PASS"),
    ({"method": "command_exit_code", "command": "sleep 5", "timeout_s": 0.2}, "UNSCORED"),
]


@pytest.mark.parametrize(("fields", "decision"), WORKSPACE_CASES)
def test_workspace_check_table(fields: dict, decision: str, tmp_path: Path) -> None:
    criterion = Criterion(id="c", requirement="r", **fields)
    result = run_check(criterion, _workspace(tmp_path), Material(None, "workspace"))
    assert result.decision.value == decision, result


def test_workspace_check_without_workspace() -> None:
    criterion = Criterion(id="c", requirement="r", method="file_exists", path="a")
    result = run_check(criterion, Evidence(), Material(None, "workspace"))
    assert result.decision is Decision.UNSCORED
    assert result.reason.startswith("no_workspace")


def test_command_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-for-commands")
    criterion = Criterion(id="c", requirement="r", method="command_exit_code", command='test -z "$OPENAI_API_KEY"')
    result = run_check(criterion, Evidence(workspace=tmp_path), Material(None, "workspace"))
    assert result.decision is Decision.PASS
    assert "sk-test" not in str(result.detail)


def test_command_background_child_killed(tmp_path: Path) -> None:
    marker = tmp_path / "late.txt"
    command = f"(sleep 1; echo late > {marker}) & echo started"
    criterion = Criterion(id="c", requirement="r", method="command_exit_code", command=command, timeout_s=5)
    result = run_check(criterion, Evidence(workspace=tmp_path), Material(None, "workspace"))
    assert result.decision is Decision.PASS
    assert "started" in result.detail["output_tail"]
    import time

    time.sleep(1.5)
    assert not marker.exists()
