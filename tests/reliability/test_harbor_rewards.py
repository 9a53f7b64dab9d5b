"""Harbor reward files: planted rewards never survive, and only finite rewards in [0, 1] are written.

A matrix of verdicts (pass, fail, unscored, judge outage, invalid contract) and planted files
(reward.json, reward.txt, both, a folder, a symbolic link, non-finite text) runs through
``asymmetryzero-harbor verify`` in-process. A property test feeds the verify command verdict
records with any float score and coverage. Two cases run the installed console script.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asymmetryzero_harbor import cli
from asymmetryzero_inspect import replay
from shared_contract.audit import Decision, VerdictRecord
from tests.harbor_support.replay_contracts import answer_contract, rule, server_error, verdict, write_contract, write_script
from tests.reliability.support import record_figure

HARBOR_CLI = Path(sys.executable).parent / "asymmetryzero-harbor"
PLANTS = ["none", "json", "txt", "both", "json-folder", "json-symlink", "json-nan", "txt-inf"]
EXAMPLES: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _fresh_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from inspect_ai.model import _model

    replay.reset_counters()
    # get_model() memoizes models by name, and a replay model reads its script only when built.
    monkeypatch.setattr(_model, "_models", {})
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("HARBOR_TELEMETRY", "0")


def _folders(root: Path) -> dict[str, Path]:
    folders = {name: root / name for name in ("app", "verifier", "tests", "outside")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def _plant(kind: str, folders: dict[str, Path]) -> Path | None:
    """Plant reward files as agent code could; return a file outside the folder that must survive."""
    out = folders["verifier"]
    if kind in ("json", "both"):
        (out / "reward.json").write_text('{"reward": 1}', encoding="utf-8")
    if kind in ("txt", "both"):
        (out / "reward.txt").write_text("1.0", encoding="utf-8")
    if kind == "json-folder":
        (out / "reward.json").mkdir()
        (out / "reward.json" / "inner").write_text("1", encoding="utf-8")
    if kind == "json-nan":
        (out / "reward.json").write_text('{"reward": NaN}', encoding="utf-8")
    if kind == "txt-inf":
        (out / "reward.txt").write_text("inf", encoding="utf-8")
    if kind == "json-symlink":
        target = folders["outside"] / "precious.json"
        target.write_text('{"reward": 1}', encoding="utf-8")
        (out / "reward.json").symlink_to(target)
        return target
    return None


def _strict_json(text: str) -> Any:
    def reject(constant: str) -> float:
        raise ValueError(f"non-finite constant {constant} in reward.json")

    return json.loads(text, parse_constant=reject)


def check_reward_folder(out: Path, code: int) -> dict[str, float] | None:
    """Check Harbor's verifier folder after a verify run and return the rewards written, if any."""
    reward_json = out / "reward.json"
    assert not (out / "reward.txt").exists()
    assert not (out / "reward.txt").is_symlink()
    if code != cli.EXIT_REWARD:
        assert not reward_json.exists(), f"exit {code} left {reward_json}"
        assert not reward_json.is_symlink(), f"exit {code} left {reward_json}"
        return None
    assert reward_json.is_file()
    assert not reward_json.is_symlink()
    rewards = _strict_json(reward_json.read_text(encoding="utf-8"))
    assert isinstance(rewards, dict)
    assert "reward" in rewards
    for key, value in rewards.items():
        assert isinstance(value, (int, float)), f"{key}={value!r}"
        assert not isinstance(value, bool), f"{key}={value!r}"
        assert math.isfinite(value), f"{key}={value!r}"
    assert 0.0 <= rewards["reward"] <= 1.0
    return rewards


SCENARIOS: dict[str, dict[str, Any]] = {
    "pass": {"replies": verdict("PASS"), "code": cli.EXIT_REWARD, "reward": 1.0},
    "fail": {"replies": verdict("FAIL"), "code": cli.EXIT_REWARD, "reward": 0.0},
    "unscored": {"replies": {"completion": "No verdict here.", "usage": {"input_tokens": 5, "output_tokens": 5}}, "code": cli.EXIT_NO_REWARD},
    "outage": {"replies": server_error(), "code": cli.EXIT_NO_REWARD},
    "invalid-contract": {"replies": verdict("PASS"), "code": cli.EXIT_USAGE},
}


def _prepare(root: Path, scenario: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Path], Path]:
    """Write the scenario's judge script, contract and answer; return the folders and the contract path."""
    folders = _folders(root)
    script = write_script(root / "script.json", [rule(f"A{index}", SCENARIOS[scenario]["replies"]) for index in (1, 2, 3)])
    monkeypatch.setenv("ASYMMETRYZERO_REPLAY_SCRIPT", str(script))
    data = answer_contract(f"reward-{scenario}")
    data["judging"] = {"max_attempts": 1, "reask_unparseable": 0}
    if scenario == "invalid-contract":
        data["criteria"][0]["weight"] = float("nan")
    contract = write_contract(folders["tests"] / "contract.yaml", data)
    (folders["app"] / "answer.txt").write_text("A merge commit joins two branches and has two parents.", encoding="utf-8")
    return folders, contract


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_verify_reward_files(scenario: str, plant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders, contract = _prepare(tmp_path, scenario, monkeypatch)
    survivor = _plant(plant, folders)

    code = cli.main(["verify", "--contract", str(contract), "--workspace", str(folders["app"]), "--out", str(folders["verifier"]), "--response-file", str(folders["app"] / "answer.txt")])

    assert code == SCENARIOS[scenario]["code"]
    rewards = check_reward_folder(folders["verifier"], code)
    if "reward" in SCENARIOS[scenario]:
        assert rewards == {"reward": SCENARIOS[scenario]["reward"]}
    if survivor is not None:
        assert survivor.read_text(encoding="utf-8") == '{"reward": 1}', "the link's target was changed"
    EXAMPLES["matrix"] += 1


def _record(score: float | None, coverage: float, outcome: Decision) -> VerdictRecord:
    return VerdictRecord(
        contract_id="crafted",
        contract_version="1",
        contract_hash="sha256:" + "0" * 64,
        evidence_digest="sha256:" + "1" * 64,
        criteria=[],
        score=score,
        outcome=outcome,
        coverage=coverage,
    )


scores = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0 + 1e-12, 1.0 + 1e-6, -0.0, -1e-300, 5e-324]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(score=scores, coverage=st.floats(allow_nan=True, allow_infinity=True), outcome=st.sampled_from(list(Decision)), plant=st.sampled_from(PLANTS))
def test_verify_only_finite_rewards(score: float | None, coverage: float, outcome: Decision, plant: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    EXAMPLES["property"] += 1
    root = tmp_path_factory.mktemp("crafted")
    folders = _folders(root)
    data = answer_contract("crafted")
    data["reward_keys"] = ["score", "coverage", "pass"]
    contract = write_contract(folders["tests"] / "contract.yaml", data)
    (folders["app"] / "answer.txt").write_text("Anything.", encoding="utf-8")
    survivor = _plant(plant, folders)
    crafted = _record(score, coverage, outcome)

    async def crafted_grade(*args: Any, **kwargs: Any) -> VerdictRecord:
        return crafted

    monkeypatch.setattr(cli, "grade", crafted_grade)
    try:
        code = cli.main(["verify", "--contract", str(contract), "--workspace", str(folders["app"]), "--out", str(folders["verifier"]), "--response-file", str(folders["app"] / "answer.txt")])
    except ValueError as error:
        # NOTE: verify does not catch a record it cannot serialise (non-finite score or coverage):
        # the interpreter exits 1 with a traceback and no reward-details.json. Its clean-up still runs.
        assert "not JSON compliant" in str(error)
        code = cli.EXIT_NO_REWARD
        EXAMPLES["unserialisable_record"] += 1

    rewards = check_reward_folder(folders["verifier"], code)
    finite = score is not None and math.isfinite(score) and math.isfinite(coverage)
    if not finite or outcome is Decision.UNSCORED or (score is not None and score > 1 + 1e-9):
        assert code == cli.EXIT_NO_REWARD
    if rewards is not None:
        assert set(rewards) == {"reward", "score", "coverage", "pass"}
        assert rewards["pass"] in (0.0, 1.0)
    if survivor is not None:
        assert survivor.read_text(encoding="utf-8") == '{"reward": 1}'


@pytest.mark.parametrize(("scenario", "expected_code"), [("pass", 0), ("outage", 1)])
def test_console_script_reward_files(scenario: str, expected_code: int, tmp_path: Path) -> None:
    folders = _folders(tmp_path)
    script = write_script(tmp_path / "script.json", [rule(f"A{index}", SCENARIOS[scenario]["replies"]) for index in (1, 2, 3)])
    data = answer_contract(f"console-{scenario}")
    data["judging"] = {"max_attempts": 1}
    contract = write_contract(folders["tests"] / "contract.yaml", data)
    (folders["app"] / "answer.txt").write_text("A merge commit joins two branches.", encoding="utf-8")
    _plant("both", folders)
    env = {**os.environ, "ASYMMETRYZERO_REPLAY_SCRIPT": str(script), "HARBOR_TELEMETRY": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [str(HARBOR_CLI), "verify", "--contract", str(contract), "--workspace", str(folders["app"]), "--out", str(folders["verifier"]), "--response-file", str(folders["app"] / "answer.txt")]

    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)

    assert run.returncode == expected_code, run.stderr
    check_reward_folder(folders["verifier"], run.returncode)
    assert VerdictRecord.model_validate_json((folders["verifier"] / "reward-details.json").read_text(encoding="utf-8")).contract_id == f"console-{scenario}"


def test_harbor_figures() -> None:
    """Record how many verify runs the tests above made (runs last in this module's tests of that kind)."""
    record_figure("harbor.verify_matrix_runs", EXAMPLES["matrix"])
    record_figure("harbor.verify_property_examples", EXAMPLES["property"])
    record_figure("harbor.verify_raised_on_unserialisable_record", EXAMPLES["unserialisable_record"])
    assert EXAMPLES["matrix"] > 0
