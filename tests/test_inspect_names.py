"""Registered Inspect names are the same under ``pip install .`` and ``pip install -e .``.

Each test installs a copy of the project into a fresh virtual environment and runs that
environment's Python to resolve the names the way the ``inspect`` command does. The new
environment imports this environment's packages (inspect-ai and the other dependencies) through a
``.pth`` line, which adds the folder to ``sys.path`` without running its ``.pth`` files. The
editable install of this checkout therefore cannot supply the imported package, and each test
checks where the package was imported from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.inspect_support import ROOT

pytestmark = pytest.mark.slow

PACKAGES = ("shared_contract", "asymmetryzero_inspect", "asymmetryzero_harbor")
EXPECTED = [
    ("task", "asymmetryzero_inspect/contract_eval"),
    ("scorer", "asymmetryzero_inspect/contract_scorer"),
    ("solver", "asymmetryzero_inspect/replay_solver"),
    ("metric", "asymmetryzero_inspect/jury_split_rate"),
    ("metric", "asymmetryzero_inspect/invalid_vote_rate"),
    ("metric", "asymmetryzero_inspect/judge_cost_usd"),
    ("metric", "asymmetryzero_inspect/judge_latency_s"),
]

# Runs in the new environment. Nothing is imported from asymmetryzero_inspect first, so every
# lookup loads the package through its entry point as `inspect eval` does.
LOOKUP = """
import json, sys
from inspect_ai._util.registry import registry_info, registry_lookup, registry_find, registry_unqualified_name
found = {}
for kind, name in json.loads(sys.argv[1]):
    obj = registry_lookup(kind, name)
    found[f"{kind}:{name}"] = None if obj is None else registry_info(obj).name
replay = registry_find(lambda info: info.type == "modelapi" and registry_unqualified_name(info) == "replay")
import asymmetryzero_inspect
print(json.dumps({"found": found, "replay_models": len(replay), "module": asymmetryzero_inspect.__file__}))
"""


def _copy_project(target: Path) -> Path:
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def _environment(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return python, env


def _install_and_lookup(tmp_path: Path, editable: bool) -> dict:
    try:
        import setuptools  # noqa: F401
        import wheel  # noqa: F401
    except ImportError:
        pytest.skip("needs setuptools>=69 and wheel in the test environment to build without isolation: pip install 'setuptools>=69' wheel")
    source = _copy_project(tmp_path / "source")
    python, env = _environment(tmp_path)
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    install += ["-e", str(source)] if editable else [str(source)]
    finished = subprocess.run(install, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr

    lookup = subprocess.run(
        [str(python), "-c", LOOKUP, json.dumps(EXPECTED)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert lookup.returncode == 0, lookup.stderr
    return json.loads(lookup.stdout.strip().splitlines()[-1])


def _check_names(result: dict) -> None:
    for kind, name in EXPECTED:
        assert result["found"][f"{kind}:{name}"] == name, f"{kind} {name} not registered under that name: {result}"
    assert result["replay_models"] == 1


def test_names_regular_install(tmp_path: Path) -> None:
    result = _install_and_lookup(tmp_path, editable=False)
    assert "site-packages" in result["module"]
    _check_names(result)


def test_names_editable_install(tmp_path: Path) -> None:
    result = _install_and_lookup(tmp_path, editable=True)
    assert result["module"].startswith(str(tmp_path / "source"))
    _check_names(result)
