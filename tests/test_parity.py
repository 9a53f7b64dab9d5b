"""Parity: the same contracts, responses and judge completions graded by `inspect eval` and `harbor run`.

The contracts cover every judging method, scales, a penalty, required criteria, groups, batched
and per-criterion jury modes, an unscored criterion and invalid votes. The verdict records of the
two frameworks must be identical outside the fields documented as run-specific and the sample
identity (sample id, epoch, solver), which each framework names its own way.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from asymmetryzero_harbor.export import export_tasks
from shared_contract.audit import Decision, read_records
from shared_contract.parity import CROSS_FRAMEWORK_IGNORED, diff_records

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JURY = [{"model": f"replay/P{seat}"} for seat in (1, 2, 3)]
ENVIRONMENT = "tests.harbor_support.bound_chroot:BoundChrootEnvironment"

CONTRACTS = {
    "parity-text": {
        "task": {"prompt": "Give the total of the invoice as JSON and explain it."},
        "criteria": [
            {"id": "exact", "requirement": "Final answer is 42.", "method": "exact", "expected": "42", "required": True, "group": "checks"},
            {"id": "contains", "requirement": "Mentions the invoice.", "method": "contains", "expected": "invoice", "normalize": ["casefold"], "group": "checks"},
            {"id": "regex", "requirement": "Has an ISO date.", "method": "regex", "pattern": r"\d{4}-\d{2}-\d{2}", "extract": "whole", "group": "checks"},
            {"id": "numeric", "requirement": "Total near 42.", "method": "numeric", "expected": 42, "tolerance": {"absolute": 0.5}, "group": "checks"},
            {"id": "jsonpath", "requirement": "JSON total is 42.", "method": "json_path", "json_path": "$.total", "expected": 42, "extract": "whole", "weight": 2, "group": "checks"},
            {"id": "clarity", "requirement": "Clarity from 1 (poor) to 5 (excellent).", "scale": {"kind": "numeric", "minimum": 1, "maximum": 5, "pass_at": 0.7}, "weight": 3, "group": "quality"},
            {"id": "tone", "requirement": "Tone.", "scale": {"kind": "ordinal", "levels": [{"value": 0, "label": "rude"}, {"value": 1, "label": "neutral"}, {"value": 2, "label": "warm"}]}, "group": "quality"},
            {"id": "jargon", "requirement": "Uses unexplained jargon.", "polarity": "negative", "weight": 2, "group": "quality"},
            {"id": "split", "requirement": "Is concise.", "group": "quality"},
        ],
        "juries": {"parity": JURY},
        "aggregation": {"groups": {"checks": 1, "quality": 3}, "pass_threshold": 0.5},
    },
    "parity-batched": {
        "task": {"prompt": "Summarise the meeting."},
        "criteria": [{"id": f"b{i}", "requirement": f"Batched requirement {i}."} for i in (1, 2, 3)],
        "juries": {"parity": JURY},
        "judging": {"mode": "batched"},
    },
    "parity-workspace": {
        "task": {"prompt": "Write report.md and a script that exits 0."},
        "criteria": [
            {"id": "exists", "requirement": "report.md exists.", "method": "file_exists", "path": "report.md", "required": True},
            {"id": "file-has", "requirement": "report.md has a summary.", "method": "file_contains", "path": "report.md", "expected": "Summary"},
            {"id": "runs", "requirement": "check.sh exits 0.", "method": "command_exit_code", "command": "sh check.sh"},
            {"id": "report-quality", "requirement": "The report is readable.", "target": {"kind": "file", "path": "report.md"}},
            {"id": "tie-or-invalid", "requirement": "The answer is polite."},
        ],
        "juries": {"parity": JURY},
        "vote_rule": {"kind": "majority"},
        "aggregation": {"pass_threshold": 0.5},
    },
}

RESPONSES = {
    "parity-text": 'The invoice dated 2024-05-01 totals:\n{"total": 42}\nFinal answer: 42',
    "parity-batched": "We agreed on the plan and set a date.",
    "parity-workspace": "Done: report.md and check.sh are written.",
}
WORKSPACE_FILES = {"parity-workspace": {"report.md": "# Report\n\nSummary: all good.\n", "check.sh": "exit 0\n"}}


def _reply(payload: dict, tokens: tuple[int, int] = (60, 12)) -> dict:
    return {"completion": "Reasoning first.\n" + json.dumps(payload), "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


def _script() -> dict:
    votes = {
        "clarity": [{"score": 5}, {"score": 4}, {"score": 2}],
        "tone": [{"score": 2}, {"score": 1}, {"score": 0}],
        "jargon": [{"verdict": "FAIL"}, {"verdict": "FAIL"}, {"verdict": "PASS"}],
        "split": [{"verdict": "PASS"}, {"verdict": "PASS"}, {"verdict": "FAIL"}],
        "report-quality": [{"verdict": "PASS"}, {"verdict": "PASS"}, {"verdict": "PASS"}],
    }
    rules = []
    for criterion, payloads in votes.items():
        for seat, payload in enumerate(payloads, start=1):
            rules.append({"judge": f"P{seat}", "criterion": criterion, "replies": [_reply({**payload, "reason": f"P{seat} on {criterion}"})]})
    # One invalid vote (no verdict) and a 1-1 split leave this criterion UNSCORED.
    for seat, completion in ((1, '{"verdict": "PASS"}'), (2, "I cannot decide."), (3, '{"verdict": "FAIL"}')):
        rules.append({"judge": f"P{seat}", "criterion": "tie-or-invalid", "replies": [{"completion": completion, "usage": {"input_tokens": 40, "output_tokens": 5}}]})
    batched = {"verdicts": [{"criterion": "b1", "verdict": "PASS"}, {"criterion": "b2", "verdict": "FAIL"}, {"criterion": "b3", "verdict": "PASS"}]}
    for seat in (1, 2, 3):
        rules.append({"judge": f"P{seat}", "batch": True, "replies": [_reply(batched, (120, 30))]})
    return {"rules": rules}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if os.geteuid() != 0:
        pytest.skip("the Harbor chroot environment needs root")
    root = tmp_path_factory.mktemp("parity")
    contracts = root / "contracts"
    contracts.mkdir()
    for contract_id, data in CONTRACTS.items():
        (contracts / f"{contract_id}.yaml").write_text(yaml.safe_dump({"id": contract_id, **data}, sort_keys=False), encoding="utf-8")
    script = root / "judges.json"
    script.write_text(json.dumps(_script()), encoding="utf-8")
    env = {
        **os.environ,
        "HARBOR_TELEMETRY": "0",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": str(REPO),
        "ASYMMETRYZERO_REPLAY_SCRIPT": str(script),
        "ASYMMETRYZERO_TEST_RO_BINDS": json.dumps([str(REPO), str(root)]),
        "INSPECT_LOG_DIR": str(root / "logs"),
    }

    # Inspect: saved responses, workspaces on the host.
    responses = root / "responses.json"
    responses.write_text(json.dumps(RESPONSES), encoding="utf-8")
    workspaces = root / "workspaces"
    for contract_id, files in WORKSPACE_FILES.items():
        for name, text in files.items():
            (workspaces / contract_id).mkdir(parents=True, exist_ok=True)
            (workspaces / contract_id / name).write_text(text, encoding="utf-8")
    inspect_records = root / "inspect.jsonl"
    run = subprocess.run(
        [
            str(BIN / "inspect"), "eval", "asymmetryzero_inspect/contract_eval",
            "-T", f"contracts={contracts}", "-T", f"responses={responses}", "-T", f"workspaces={workspaces}",
            "-T", "jury=parity", "-T", f"records={inspect_records}", "--model", "none", "--display", "none",
        ],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    # Harbor: the oracle's solve.sh writes the same answer bytes and workspace files into /app.
    tasks = root / "tasks"
    export_tasks(sorted(contracts.glob("*.yaml")), tasks, jury="parity")
    for contract_id, response in RESPONSES.items():
        lines = ["#!/bin/bash", "set -e", "mkdir -p /app", f"printf '%s' {shlex.quote(response)} > /app/answer.txt"]
        for name, text in WORKSPACE_FILES.get(contract_id, {}).items():
            lines.append(f"printf '%s' {shlex.quote(text)} > /app/{name}")
        solve = tasks / contract_id / "solution" / "solve.sh"
        solve.parent.mkdir(exist_ok=True)
        solve.write_text("\n".join(lines) + "\n", encoding="utf-8")
        solve.chmod(0o755)
    run = subprocess.run(
        [
            str(BIN / "harbor"), "run", "-p", str(tasks), "-a", "oracle", "--env", ENVIRONMENT, "-o", str(root / "jobs"),
            "--job-name", "parity", "--plugin", "asymmetryzero", "-y",
        ],
        cwd=root, env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {"inspect": inspect_records, "harbor": root / "jobs" / "parity" / "asymmetryzero-records.jsonl", "root": root}


def _by_contract(path: Path) -> dict:
    return {record.contract_id: record for record in read_records(path)}


def test_records_identical_across_frameworks(graded: dict[str, Path]) -> None:
    inspect_side, harbor_side = _by_contract(graded["inspect"]), _by_contract(graded["harbor"])
    assert sorted(inspect_side) == sorted(CONTRACTS)
    assert sorted(harbor_side) == sorted(CONTRACTS)
    for contract_id in CONTRACTS:
        left, right = inspect_side[contract_id], harbor_side[contract_id]
        assert left.run.framework == "inspect"
        assert right.run.framework == "harbor"
        assert diff_records(left, right, ignored=CROSS_FRAMEWORK_IGNORED) == [], contract_id


def test_suite_covers_the_hard_parts(graded: dict[str, Path]) -> None:
    records = _by_contract(graded["inspect"])
    methods = {result.method for record in records.values() for result in record.criteria}
    assert methods == {"exact", "contains", "regex", "numeric", "json_path", "file_exists", "file_contains", "command_exit_code", "jury"}
    text = {r.id: r for r in records["parity-text"].criteria}
    assert text["clarity"].split == "2-1"
    assert text["jargon"].decision is Decision.FAIL
    workspace = {r.id: r for r in records["parity-workspace"].criteria}
    assert workspace["tie-or-invalid"].decision is Decision.UNSCORED
    assert any(v.verdict.value == "INVALID" for v in workspace["tie-or-invalid"].votes)
    assert workspace["runs"].decision is Decision.PASS
    batched = {r.id: r.decision for r in records["parity-batched"].criteria}
    assert batched == {"b1": Decision.PASS, "b2": Decision.FAIL, "b3": Decision.PASS}


def test_parity_command_names_first_difference(graded: dict[str, Path]) -> None:
    """An adapter that normalised whitespace in the answer would change the evidence: the check must say where."""
    root = graded["root"]
    altered = root / "harbor-normalised.jsonl"
    lines = []
    for record in read_records(graded["harbor"]):
        if record.contract_id == "parity-text":
            record = record.model_copy(update={"evidence_chars": record.evidence_chars - 1, "evidence_digest": "sha256:" + "0" * 64})
        lines.append(record.to_json(indent=None))
    altered.write_text("\n".join(lines) + "\n", encoding="utf-8")

    same = subprocess.run([str(BIN / "asymmetryzero"), "parity", str(graded["inspect"]), str(graded["harbor"]), "--by", "contract"], capture_output=True, text=True)
    assert same.returncode == 0, same.stdout + same.stderr
    differ = subprocess.run([str(BIN / "asymmetryzero"), "parity", str(graded["inspect"]), str(altered), "--by", "contract"], capture_output=True, text=True)
    assert differ.returncode == 1
    assert "parity-text" in differ.stdout
    assert "evidence_digest" in differ.stdout
    assert "evidence_chars" in differ.stdout

