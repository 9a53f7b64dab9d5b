"""Contracts and replay scripts for the Harbor adapter tests.

Judges are ``replay/<name>`` models, and a script gives each judge name a fixed reply.
The judge names a contract uses therefore choose its jury's verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def verdict(decision: str, rationale: str = "scripted") -> dict[str, Any]:
    """Return a replay reply whose completion is a JSON verdict."""
    return {
        "completion": json.dumps({"verdict": decision, "rationale": rationale}),
        "usage": {"input_tokens": 50, "output_tokens": 10},
    }


def server_error() -> dict[str, Any]:
    """Return a replay reply that raises HTTP 500 on every call."""
    return {"error": {"status": 500, "message": "scripted outage"}}


def rule(judge: str, reply: dict[str, Any], criterion: str | None = None) -> dict[str, Any]:
    """Return a replay rule that gives one judge the same reply on every call."""
    entry: dict[str, Any] = {"judge": judge, "replies": [reply]}
    if criterion is not None:
        entry["criterion"] = criterion
    return entry


def write_script(path: Path, rules: list[dict[str, Any]]) -> Path:
    """Write a replay script and return its path."""
    path.write_text(json.dumps({"rules": rules}, indent=2), encoding="utf-8")
    return path


def write_contract(path: Path, data: dict[str, Any]) -> Path:
    """Write contract data as YAML and return its path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def juries(prefix_a: str = "A", prefix_b: str = "B", size: int = 3) -> dict[str, list[dict[str, str]]]:
    """Return two juries of replay judges: 'a' (A1..An) and 'b' (B1..Bn)."""
    return {
        "a": [{"model": f"replay/{prefix_a}{index}"} for index in range(1, size + 1)],
        "b": [{"model": f"replay/{prefix_b}{index}"} for index in range(1, size + 1)],
    }


def file_contract(contract_id: str, *, jury_names: dict[str, list[dict[str, str]]] | None = None) -> dict[str, Any]:
    """A contract on /app/haiku.txt: a required file check and a jury criterion on the file."""
    return {
        "id": contract_id,
        "task": {"prompt": "Write a haiku about version control to /app/haiku.txt.", "reference_answer": "branches drift apart\na quiet merge at midnight\nhistory made whole\n"},
        "target": {"kind": "file", "path": "haiku.txt"},
        "criteria": [
            {"id": "file-written", "requirement": "haiku.txt exists.", "method": "file_exists", "path": "haiku.txt", "required": True},
            {"id": "haiku-form", "requirement": "The text is a haiku about version control."},
        ],
        "juries": jury_names or juries(),
        "default_jury": "a",
        "judging": {"max_attempts": 2},
    }


def answer_contract(contract_id: str, criterion_id: str = "answer-quality", *, jury_names: dict[str, list[dict[str, str]]] | None = None) -> dict[str, Any]:
    """A contract on the final answer with one jury criterion."""
    return {
        "id": contract_id,
        "task": {"prompt": "Explain in one sentence what a merge commit is.", "reference_answer": "A merge commit joins two branches and has two parents.\n"},
        "criteria": [{"id": criterion_id, "requirement": "The answer explains what a merge commit is."}],
        "juries": jury_names or juries(),
        "default_jury": "a",
        "judging": {"max_attempts": 2},
    }
