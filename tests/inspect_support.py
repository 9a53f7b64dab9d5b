"""Run the real ``inspect eval`` and ``inspect score`` commands offline against the example contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CONTRACTS = EXAMPLES / "contracts"
RESPONSES = EXAMPLES / "responses.jsonl"
JUDGE_SCRIPT = EXAMPLES / "replay_judges.yaml"

# Words of each example task prompt, so the replay solver model can answer each contract.
PROMPT_WORDS = {"capital-city": "capital of Australia", "unit-conversion": "26 miles", "incident-summary": "Summarise this incident"}
SOLVER_USAGE = {"input_tokens": 40, "output_tokens": 30}
COMMAND_TIMEOUT_S = 180


def saved_answers() -> dict[str, str]:
    """Return the example responses by contract id."""
    items = [json.loads(line) for line in RESPONSES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {item["id"]: item["response"] for item in items}


def judge_rules() -> list[dict[str, Any]]:
    """Return the example judge script's rules."""
    return list(yaml.safe_load(JUDGE_SCRIPT.read_text(encoding="utf-8"))["rules"])


def solver_rules() -> list[dict[str, Any]]:
    """Rules that make ``replay/solver`` answer each example task with its saved answer."""
    answers = saved_answers()
    return [
        {"judge": "solver", "prompt_contains": words, "replies": [{"completion": answers[cid], "usage": SOLVER_USAGE}]}
        for cid, words in PROMPT_WORDS.items()
    ]


def write_script(path: Path, rules: list[dict[str, Any]]) -> Path:
    """Write a replay script with these rules and return its path."""
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return path


def inspect_env(log_dir: Path, script: Path) -> dict[str, str]:
    """Environment for an offline Inspect run: logs and traces under ``log_dir``'s folder, replayed judges."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("INSPECT_", "ASYMMETRYZERO_"))}
    env.update(
        INSPECT_LOG_DIR=str(log_dir),
        XDG_DATA_HOME=str(log_dir.parent / "data"),
        ASYMMETRYZERO_REPLAY_SCRIPT=str(script),
        INSPECT_DISPLAY="plain",
        INSPECT_NO_ANSI="1",
    )
    return env


def run_inspect(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -P -m inspect_ai <args>`` and fail with its output when it exits non-zero.

    ``-P`` keeps a checkout in ``cwd`` from shadowing the installed package. Inspect exits 0 even
    when a sample fails, so callers also check the log's status.
    """
    command = [sys.executable, "-P", "-m", "inspect_ai", *args]
    finished = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    if finished.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {finished.returncode}\nstdout:\n{finished.stdout}\nstderr:\n{finished.stderr}")
    return finished


def only_log(log_dir: Path) -> Path:
    """Return the single .eval log in a folder."""
    logs = sorted(log_dir.glob("*.eval"))
    assert len(logs) == 1, f"expected one log in {log_dir}, found {[p.name for p in logs]}"
    return logs[0]
