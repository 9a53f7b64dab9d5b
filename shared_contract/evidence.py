"""Evidence: what a solver produced, and the graded material each target resolves to."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from shared_contract.schema import Target, TargetKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    """Everything a solver produced that a contract may grade.

    ``response`` is the final answer text; ``workspace`` the folder the agent worked in;
    ``trajectory`` the agent's trajectory as text (JSON or a log).
    """

    response: str | None = None
    workspace: Path | None = None
    trajectory: str | None = None


@dataclass(frozen=True)
class Material:
    """The text a target resolved to.

    ``text`` is None when the material could not be produced. ``infrastructure_error`` marks a
    failure of ours (unreadable file, command timed out), which never counts against the solver.
    """

    text: str | None
    source: str
    infrastructure_error: str | None = None
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """sha256 of the material, or of the error when there is none."""
        payload = self.text if self.text is not None else f"<{self.infrastructure_error or 'missing'}>"
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def is_empty(self) -> bool:
        """True when there is no material or it is only white space."""
        return self.infrastructure_error is None and (self.text is None or not self.text.strip())


def workspace_path(workspace: Path, relative: str) -> Path:
    """Resolve a workspace-relative path, rejecting paths that lead outside the workspace.

    Raises:
        ValueError: the path is absolute or escapes the workspace, through '..' or a symbolic link.
    """
    root = workspace.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise ValueError(f"path {relative!r} leads outside the workspace {str(root)!r}")
    return candidate


SECRET_SUFFIXES = ("_API_KEY", "_KEY", "_TOKEN", "_SECRET", "_PASSWORD")


def command_environment() -> dict[str, str]:
    """Return the environment for contract commands: ours, without judge keys and other secrets.

    Commands may run code the agent wrote, which must not read the judges' API keys.
    """
    return {name: value for name, value in os.environ.items() if not name.upper().endswith(SECRET_SUFFIXES)}


def run_command(command: str, workspace: Path | None, timeout_s: float) -> tuple[int | None, str, str | None]:
    """Run a shell command in the workspace, in its own process group, without secret variables.

    The command's output goes to a temporary file rather than a pipe, so a background process it
    leaves behind cannot hold the check open. When the command ends or times out, every process
    left in its group is killed, so none of them can touch the verifier's files afterwards.

    Returns:
        The exit code (None when it did not finish), the combined stdout and stderr, and an
        infrastructure error message or None.
    """
    cwd = str(workspace) if workspace is not None else None
    with tempfile.TemporaryFile() as output:
        try:
            process = subprocess.Popen(
                command, shell=True, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=command_environment(), start_new_session=True,
            )
        except OSError as error:
            logger.warning("command failed to start: %r: %s", command, error)
            return None, "", f"command_error: {command!r} could not start: {error}"
        try:
            exit_code: int | None = process.wait(timeout=timeout_s)
            error_message = None
        except subprocess.TimeoutExpired:
            logger.warning("command timed out after %ss: %r", timeout_s, command)
            exit_code, error_message = None, f"command_timeout: {command!r} did not finish within {timeout_s}s"
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    return exit_code, text if error_message is None else "", error_message


def resolve_material(target: Target, evidence: Evidence) -> Material:
    """Produce the graded material for a target from the evidence."""
    if target.kind is TargetKind.FINAL_ANSWER:
        return Material(evidence.response, "final_answer")
    if target.kind is TargetKind.TRAJECTORY:
        return Material(evidence.trajectory, "trajectory")
    if evidence.workspace is None:
        return Material(None, target.kind.value, f"no_workspace: target '{target.kind.value}' needs a workspace folder")

    if target.kind is TargetKind.FILE:
        assert target.path is not None
        try:
            path = workspace_path(evidence.workspace, target.path)
        except ValueError as error:
            return Material(None, f"file:{target.path}", f"path_rejected: {error}")
        if not path.is_file():
            # The solver did not produce the file: an empty deliverable, not an infrastructure failure.
            return Material(None, f"file:{target.path}", detail={"missing_file": target.path})
        try:
            return Material(path.read_text(encoding="utf-8", errors="replace"), f"file:{target.path}")
        except OSError as error:
            return Material(None, f"file:{target.path}", f"file_unreadable: {error}")

    assert target.command is not None
    exit_code, output, error = run_command(target.command, evidence.workspace, target.timeout_s)
    return Material(output if error is None else None, f"command:{target.command}", error, {"exit_code": exit_code})
