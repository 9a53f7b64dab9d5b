"""Tests for assembling the local judge weights from small fake part files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from shared_contract import local_weights
from shared_contract.local_weights import (
    INSTALL_HINT,
    LocalWeightsError,
    WeightsSpec,
    assemble_weights,
    default_cache_dir,
    ensure_local_weights,
    find_installed_parts,
)

PART_CONTENTS = [b"GGUF-head-" * 7, b"middle-bytes" * 5, b"tail"]
JOINED = b"".join(PART_CONTENTS)
JOINED_SHA256 = hashlib.sha256(JOINED).hexdigest()


def _write_parts(folder: Path, contents: list[bytes] = PART_CONTENTS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, content in enumerate(contents, start=1):
        path = folder / f"part{number:02d}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def _leftover_temp_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.endswith((".partial", ".tmp"))]


def test_assemble_joins_parts_in_order(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"

    result = assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert result == target
    assert target.read_bytes() == JOINED
    assert _leftover_temp_files(target.parent) == []


def test_assemble_writes_verification_marker(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"

    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    marker_text = (target.parent / "model.gguf.verified.json").read_text()
    assert JOINED_SHA256 in marker_text
    assert str(len(JOINED)) in marker_text


def test_assemble_rejects_wrong_hash(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    wrong_sha256 = "0" * 64

    with pytest.raises(LocalWeightsError) as caught:
        assemble_weights(parts, target, len(JOINED), wrong_sha256, progress=False)

    message = str(caught.value)
    assert wrong_sha256 in message
    assert JOINED_SHA256 in message
    assert INSTALL_HINT in message
    assert not target.exists()
    assert _leftover_temp_files(target.parent) == []


def test_assemble_rejects_wrong_total_size(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"

    with pytest.raises(LocalWeightsError) as caught:
        assemble_weights(parts, target, len(JOINED) + 1, JOINED_SHA256, progress=False)

    message = str(caught.value)
    assert f"expected {len(JOINED) + 1} bytes" in message
    assert f"found {len(JOINED)} bytes" in message
    assert INSTALL_HINT in message
    assert not target.exists()


def test_assemble_rejects_missing_part(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    parts[1].unlink()
    target = tmp_path / "cache" / "model.gguf"

    with pytest.raises(LocalWeightsError) as caught:
        assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    message = str(caught.value)
    assert "part02.bin" in message
    assert INSTALL_HINT in message
    assert not target.exists()


def test_assemble_error_midway_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    real_open = Path.open

    def failing_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "part03.bin":
            raise OSError("simulated read failure")
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", failing_open)

    with pytest.raises(OSError, match="simulated read failure"):
        assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert not target.exists()
    assert _leftover_temp_files(target.parent) == []


def test_assemble_failure_keeps_previous_file(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"previous file")

    with pytest.raises(LocalWeightsError):
        assemble_weights(parts, target, len(JOINED), "f" * 64, progress=False, reuse_existing=False)

    assert target.read_bytes() == b"previous file"


def test_reuse_skips_hash_when_marker_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    mtime_before = target.stat().st_mtime_ns

    def fail_hash(path: Path, progress: bool | None) -> str:
        raise AssertionError(f"{path} was re-hashed although its marker matches")

    monkeypatch.setattr(local_weights, "_hash_file", fail_hash)
    for part in parts:
        part.unlink()

    result = assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert result == target
    assert target.stat().st_mtime_ns == mtime_before


def test_reuse_rehashes_when_mtime_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    hashed: list[Path] = []
    real_hash = local_weights._hash_file

    def counting_hash(path: Path, progress: bool | None) -> str:
        hashed.append(path)
        return real_hash(path, progress)

    monkeypatch.setattr(local_weights, "_hash_file", counting_hash)

    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert hashed == [target]


def test_reuse_rebuilds_corrupt_file_of_same_size(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    target.write_bytes(b"X" * len(JOINED))
    # Coarse filesystem timestamps could give the rewrite the old mtime, so move it explicitly.
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert target.read_bytes() == JOINED


def test_reuse_rebuilds_truncated_file(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    target.write_bytes(JOINED[:10])

    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert target.read_bytes() == JOINED


def test_unreadable_marker_triggers_rehash(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "cache" / "model.gguf"
    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)
    marker = target.parent / "model.gguf.verified.json"
    marker.write_text("{not json")

    assemble_weights(parts, target, len(JOINED), JOINED_SHA256, progress=False)

    assert JOINED_SHA256 in marker.read_text()


def _install_fake_part_packages(root: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> WeightsSpec:
    for number, content in enumerate(PART_CONTENTS, start=1):
        package = root / f"{prefix}{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number:02d}.bin").write_bytes(content)
    monkeypatch.syspath_prepend(str(root))
    return WeightsSpec(
        file_name="fake.gguf",
        size=len(JOINED),
        sha256=JOINED_SHA256,
        part_packages=tuple(f"{prefix}{number}" for number in range(1, len(PART_CONTENTS) + 1)),
    )


def test_find_installed_parts_uses_import_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _install_fake_part_packages(tmp_path / "site", monkeypatch, prefix="azfake_found_part")

    parts = find_installed_parts(spec)

    assert [part.read_bytes() for part in parts] == PART_CONTENTS


def test_find_installed_parts_names_missing_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _install_fake_part_packages(tmp_path / "site", monkeypatch, prefix="azfake_missing_part")
    spec = spec.model_copy(update={"part_packages": (*spec.part_packages, "azfake_missing_part_absent")})

    with pytest.raises(LocalWeightsError) as caught:
        find_installed_parts(spec)

    message = str(caught.value)
    assert "azfake_missing_part_absent/data/part04.bin" in message
    assert "1 of 4" in message
    assert INSTALL_HINT in message


def test_ensure_local_weights_assembles_into_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _install_fake_part_packages(tmp_path / "site", monkeypatch, prefix="azfake_ensure_part")
    monkeypatch.setenv("ASYMMETRYZERO_CACHE_DIR", str(tmp_path / "env-cache"))

    path = ensure_local_weights(progress=False, spec=spec)

    assert path == tmp_path / "env-cache" / "fake.gguf"
    assert path.read_bytes() == JOINED


def test_ensure_local_weights_with_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _install_fake_part_packages(tmp_path / "site", monkeypatch, prefix="azfake_progress_part")

    path = ensure_local_weights(progress=True, cache_dir=tmp_path / "cache", spec=spec)

    assert path.read_bytes() == JOINED


def test_default_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASYMMETRYZERO_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "asymmetryzero"

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "asymmetryzero"

    monkeypatch.setenv("ASYMMETRYZERO_CACHE_DIR", str(tmp_path / "override"))
    assert default_cache_dir() == tmp_path / "override"
