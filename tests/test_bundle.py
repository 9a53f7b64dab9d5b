"""Import of the published bundle format, on the example bundle shipped with the repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared_contract.audit import Decision
from shared_contract.bundle import FINAL_ANSWER_INSTRUCTION, BundleError, import_bundle
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.loading import load_contract
from tests.case_support import PEER_BUNDLE

BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "simple_bundle"


def test_embedded_bundle_matches_published_copy() -> None:
    if not PEER_BUNDLE.is_dir():
        pytest.skip("published copy not present beside the repository")
    for name in ("tasks.json", "answers.json", "LICENSE", "refs/math-001.webp", "refs/fiction-001.webp"):
        assert (BUNDLE / name).read_bytes() == (PEER_BUNDLE / name).read_bytes(), name


def test_import_keeps_weights_and_threshold(tmp_path: Path) -> None:
    paths = import_bundle(BUNDLE, tmp_path)
    contracts = {p.stem: load_contract(p) for p in paths}
    assert sorted(contracts) == ["fiction-001", "geography-001", "math-001", "science-001"]
    math = contracts["math-001"]
    assert [c.weight for c in math.criteria] == [30, 30, 20, 20]
    assert all(c.method.value == "jury" for c in math.criteria)
    assert math.aggregation.pass_threshold == 1.0
    assert math.task.reference_files == ["refs/math-001.webp"]
    assert (tmp_path / "refs" / "math-001.webp").is_file()
    geography = contracts["geography-001"]
    assert geography.criteria[0].method.value == "exact"
    assert geography.task.prompt.endswith(FINAL_ANSWER_INSTRUCTION)
    assert FINAL_ANSWER_INSTRUCTION not in math.task.prompt


@pytest.mark.parametrize(
    ("answer", "decision"),
    [("The capital of France is Paris.\nFinal answer: Paris", "PASS"), ("Final answer: not Paris", "FAIL"), ("Final answer: paris.", "PASS")],
)
def test_imported_exact_criterion(answer: str, decision: str, tmp_path: Path) -> None:
    import asyncio

    contract = load_contract(import_bundle(BUNDLE, tmp_path)[0])
    record = asyncio.run(Grader().grade(contract, Evidence(response=answer)))
    assert record.outcome.value == decision


def test_subscript_formula_matches(tmp_path: Path) -> None:
    import asyncio

    contract = load_contract(next(p for p in import_bundle(BUNDLE, tmp_path) if p.stem == "science-001"))
    record = asyncio.run(Grader().grade(contract, Evidence(response="Water.\nFinal answer: H2O")))
    assert record.outcome is Decision.PASS


def test_threshold_scaled_from_percent(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    answers = json.loads((bundle / "answers.json").read_text(encoding="utf-8"))
    answers[1]["passThreshold"] = 60
    del answers[0]["passThreshold"]
    (bundle / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    contracts = {p.stem: load_contract(p) for p in import_bundle(bundle, tmp_path / "out")}
    assert contracts["math-001"].aggregation.pass_threshold == pytest.approx(0.6)
    assert contracts["geography-001"].aggregation.pass_threshold == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a[0]["criteria"][0].update(grader_type="Regexy"), "grader_type 'Regexy'"),
        (lambda a: a[0]["criteria"][0].pop("weight"), "missing 'weight'"),
        (lambda a: a[0].update(task_id="nowhere"), "task_id not found"),
    ],
    ids=["grader-type", "missing-weight", "unknown-task"],
)
def test_malformed_bundle_errors(change, message: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    answers = json.loads((bundle / "answers.json").read_text(encoding="utf-8"))
    change(answers)
    (bundle / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    with pytest.raises(BundleError, match=message):
        import_bundle(bundle, tmp_path / "out")


def test_import_command(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "shared_contract.cli", "import-bundle", str(BUNDLE), "-o", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.split()) == 4
    run = subprocess.run([sys.executable, "-m", "shared_contract.cli", "import-bundle", str(tmp_path / "none"), "-o", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "tasks.json: file not found" in run.stderr


def test_reference_outside_bundle_rejected(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    tasks = json.loads((bundle / "tasks.json").read_text(encoding="utf-8"))
    tasks["prompts"][0]["reference_file"] = "../../../../../etc/hostname"
    (bundle / "tasks.json").write_text(json.dumps(tasks), encoding="utf-8")
    with pytest.raises(BundleError, match="leads outside"):
        import_bundle(bundle, tmp_path / "out")
    assert not (tmp_path / "out" / "refs" / "hostname").exists()
