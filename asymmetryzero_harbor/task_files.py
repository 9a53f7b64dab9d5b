"""Text of the files in an exported Harbor task folder.

Sandbox layout of an exported task: the agent works in ``/app`` and writes its final
answer to ``/app/answer.txt``; Harbor uploads ``tests/`` to ``/tests`` and collects
``/logs/verifier``; the verifier runs in a fresh container of the same image
(``environment_mode = "separate"``), which receives ``/app`` as a collected artifact.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

WORKSPACE = "/app"
RESPONSE_FILE = "/app/answer.txt"
AGENT_LOG_DIR = "/logs/agent"
VERIFIER_DIR = "/logs/verifier"
TESTS_DIR = "/tests"
BASE_IMAGE = "python:3.12-slim"
JURY_ENV_VAR = "ASYMMETRYZERO_JURY"


def toml_string(value: str) -> str:
    """Quote a TOML basic string.

    JSON string escapes are valid TOML escapes. DEL is escaped too, because TOML forbids it
    raw and ``json.dumps`` leaves it. Non-ASCII text stays raw, because JSON's ASCII
    escapes would split characters outside the BMP into surrogates, which TOML rejects.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def task_toml(
    *,
    metadata: Mapping[str, str],
    verifier_timeout_sec: float,
    verifier_env: Mapping[str, str],
    artifacts: Sequence[str],
) -> str:
    """Render task.toml.

    Args:
        metadata: Free-form ``[metadata]`` entries.
        verifier_timeout_sec: ``[verifier].timeout_sec``.
        verifier_env: ``[verifier.env]`` entries, values written verbatim (``${VAR}`` templates included).
        artifacts: Sandbox paths collected after the agent runs.
    """
    lines = [
        'schema_version = "1.4"',
        # A top-level key must come before the first table, or TOML puts it in that table.
        f"artifacts = [{', '.join(toml_string(path) for path in artifacts)}]",
        "",
        "[metadata]",
        *(f"{key} = {toml_string(value)}" for key, value in metadata.items()),
        "",
        "[verifier]",
        f"timeout_sec = {float(verifier_timeout_sec)!r}",
        'environment_mode = "separate"',
        "",
        "[verifier.env]",
        *(f"{key} = {toml_string(value)}" for key, value in verifier_env.items()),
        "",
        "[environment]",
        f"workdir = {toml_string(WORKSPACE)}",
    ]
    return "\n".join(lines) + "\n"


def instruction_md(prompt: str, *, answer_file: bool, graded_files: Sequence[str]) -> str:
    """Render instruction.md: the contract's task prompt and where the grader reads the work.

    Args:
        prompt: The contract's task prompt.
        answer_file: Whether a final answer is graded, read from ``/app/answer.txt``.
        graded_files: Workspace-relative paths the grader reads.
    """
    parts = [prompt.rstrip()]
    if answer_file:
        parts.append(
            "## Your answer\n\n"
            f"Write your final answer to `{RESPONSE_FILE}`. The grader reads your answer from that file only."
        )
    if graded_files:
        listing = "\n".join(f"- `{PurePosixPath(WORKSPACE, path)}`" for path in graded_files)
        parts.append(f"## Graded files\n\nThe grader reads these files:\n\n{listing}")
    return "\n\n".join(parts) + "\n"


def dockerfile(*, pip_requirement: str | None = None, wheel_name: str | None = None) -> str:
    """Render environment/Dockerfile, which installs the verifier command.

    Args:
        pip_requirement: A pinned requirement such as ``asymmetryzero==0.1.0``.
        wheel_name: A wheel file placed next to the Dockerfile, installed instead.
    """
    lines = [
        f"FROM {BASE_IMAGE}",
        "# tests/test.sh runs asymmetryzero-harbor. With environment_mode = \"separate\" it runs in",
        "# a fresh container of this image, so the verifier must be installed here.",
    ]
    if wheel_name is not None:
        lines += [f"COPY {wheel_name} /tmp/{wheel_name}", f"RUN pip install --no-cache-dir /tmp/{wheel_name} && rm /tmp/{wheel_name}"]
    elif pip_requirement is not None:
        lines.append(f"RUN pip install --no-cache-dir {shlex.quote(pip_requirement)}")
    else:
        raise ValueError("dockerfile needs pip_requirement or wheel_name")
    lines.append(f"WORKDIR {WORKSPACE}")
    return "\n".join(lines) + "\n"


def test_sh(*, contract_file: str, jury: str | None, answer_file: bool, trajectory: bool) -> str:
    """Render tests/test.sh, which runs the in-sandbox verifier.

    Args:
        contract_file: The contract's file name inside tests/.
        jury: Jury used unless ``ASYMMETRYZERO_JURY`` is set; None uses the contract's default jury.
        answer_file: Whether to pass the answer file.
        trajectory: Whether to pass the agent log folder.
    """
    command = [
        "asymmetryzero-harbor verify",
        f"--contract {shlex.quote(f'{TESTS_DIR}/{contract_file}')}",
        f"--workspace {WORKSPACE}",
        f"--out {VERIFIER_DIR}",
    ]
    if answer_file:
        command.append(f"--response-file {RESPONSE_FILE}")
    if trajectory:
        command.append(f"--trajectory-dir {AGENT_LOG_DIR}")
    command.append('"${jury_args[@]}"')
    jury_default = f'if [ -z "${{{JURY_ENV_VAR}:-}}" ]; then {JURY_ENV_VAR}={shlex.quote(jury)}; fi' if jury else None
    lines = [
        "#!/bin/bash",
        "# Grades the agent's work against the AsymmetryZero contract in /tests.",
        "# reward.json is written only for a scored verdict: an UNSCORED verdict or a judge outage",
        "# leaves no reward file, so Harbor records the trial as errored instead of scoring it 0.",
        f"# Set {JURY_ENV_VAR} (e.g. harbor job regrade --ve {JURY_ENV_VAR}=NAME) to grade with another jury.",
        *([jury_default] if jury_default else []),
        "jury_args=()",
        f'if [ -n "${{{JURY_ENV_VAR}:-}}" ]; then jury_args=(--jury "${JURY_ENV_VAR}"); fi',
        " \\\n    ".join(command),
    ]
    return "\n".join(lines) + "\n"


def solve_sh(reference_answer: str, target_path: str) -> str:
    """Render solution/solve.sh, which writes the reference answer where the verifier reads it.

    The answer is embedded as base64, so no character of it can break the shell quoting,
    and the file gets its exact bytes.
    """
    encoded = base64.b64encode(reference_answer.encode("utf-8")).decode("ascii")
    target = shlex.quote(target_path)
    parent = shlex.quote(str(PurePosixPath(target_path).parent))
    lines = [
        "#!/bin/bash",
        "# Writes the contract's reference answer where the verifier reads the agent's work.",
        "set -euo pipefail",
        f"mkdir -p {parent}",
        f"printf '%s' {shlex.quote(encoded)} | base64 -d > {target}",
    ]
    return "\n".join(lines) + "\n"
