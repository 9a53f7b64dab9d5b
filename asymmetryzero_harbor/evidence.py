"""Gather a Harbor trial's evidence: the answer file, the workspace and the agent's trajectory.

Answer convention: the agent writes its final answer to a file, ``/app/answer.txt`` in
exported tasks, and the verifier reads it with ``--response-file``. Agent logs are not used
as the answer, because they hold everything the agent printed, not only its answer.

Trajectory convention: ``trajectory.json`` in the agent log folder when present (the
trajectory file Harbor's own agents write), otherwise every text file in that folder,
each under a ``### <relative path>`` heading, in path order.

Symbolic links and special files (FIFOs, devices) are never read: an agent could point
one at a secret such as ``/proc/self/environ``, or block the verifier on a FIFO.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from shared_contract.evidence import Evidence

logger = logging.getLogger(__name__)

TRAJECTORY_FILE = "trajectory.json"


def _regular_file(path: Path) -> bool:
    """Return True when path is a regular file and not a symbolic link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    return stat.S_ISREG(mode)


def read_response_file(path: Path) -> str | None:
    """Read the agent's answer file.

    Returns:
        The file's text (invalid UTF-8 replaced), or None when the file is missing, is a
        symbolic link or special file, or cannot be read. A missing answer grades as an
        empty response under the contract's ``judging.empty_response`` policy.
    """
    if not os.path.lexists(path):
        logger.info("answer file %s not found: the response is empty", path)
        return None
    if not _regular_file(path):
        logger.warning("answer file %s is a symbolic link or special file, so it is not read: the response is empty", path)
        return None
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        logger.warning("answer file %s is unreadable (%s): the response is empty", path, error)
        return None


def _is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_trajectory(directory: Path) -> str | None:
    """Read the agent's trajectory from its log folder.

    Returns:
        ``trajectory.json`` when it is a regular file, otherwise the text files of the
        folder joined under ``### <relative path>`` headings, or None when the folder is
        missing or contains no text file. Binary files and symbolic links are skipped.
    """
    if not directory.is_dir() or directory.is_symlink():
        return None
    preferred = directory / TRAJECTORY_FILE
    if _regular_file(preferred):
        return preferred.read_text(encoding="utf-8", errors="replace")

    sections: list[str] = []
    for root, folders, files in os.walk(directory, followlinks=False):
        folders.sort()
        for name in sorted(files):
            path = Path(root) / name
            if not _regular_file(path):
                continue
            try:
                data = path.read_bytes()
            except OSError as error:
                logger.warning("trajectory file %s is unreadable, so it is skipped: %s", path, error)
                continue
            if not _is_text(data):
                logger.debug("trajectory file %s is not UTF-8 text, so it is skipped", path)
                continue
            sections.append(f"### {path.relative_to(directory).as_posix()}\n{data.decode('utf-8')}")
    return "\n\n".join(sections) if sections else None


def gather_evidence(workspace: Path | None, response_file: Path | None, trajectory_dir: Path | None) -> Evidence:
    """Build the core's Evidence from a trial's folders.

    Args:
        workspace: The agent's working folder, such as ``/app``; None when the contract
            reads no workspace file or command.
        response_file: The agent's answer file; None when no final answer is graded.
        trajectory_dir: The agent's log folder, such as ``/logs/agent``.

    Returns:
        The evidence, with None for each part that is absent.
    """
    response = read_response_file(response_file) if response_file is not None else None
    trajectory = read_trajectory(trajectory_dir) if trajectory_dir is not None else None
    usable_workspace = workspace if workspace is not None and workspace.is_dir() else None
    if workspace is not None and usable_workspace is None:
        logger.warning("workspace %s is not a folder: file and command criteria cannot be graded", workspace)
    return Evidence(response=response, workspace=usable_workspace, trajectory=trajectory)
