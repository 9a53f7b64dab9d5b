"""The Harbor adapter without Harbor runs: the verify CLI, rewards, evidence, export and plugin registration."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace

import pytest
from harbor.cli.plugin_registry import resolve_plugin_import_path
from harbor.models.job.plugin import JobPlugin
from harbor.models.trial.paths import TrialPaths
from harbor.utils.import_path import import_class
from harbor.verifier.verifier import VerifierOutputParseError

from asymmetryzero_harbor import cli
from asymmetryzero_harbor.evidence import read_response_file, read_trajectory
from asymmetryzero_harbor.export import ExportError, export_tasks
from asymmetryzero_harbor.outputs import write_rewards
from asymmetryzero_harbor.rewards import NoRewardError, rewards_from_record
from asymmetryzero_harbor.verifier import ContractVerifier
from asymmetryzero_inspect import replay
from shared_contract.audit import CriterionResult, Decision, VerdictRecord
from shared_contract.loading import ContractError
from tests.harbor_support.replay_contracts import (
    answer_contract,
    file_contract,
    rule,
    server_error,
    verdict,
    write_contract,
    write_script,
)

REPO = Path(__file__).resolve().parents[1]
HARBOR = Path(sys.executable).parent / "harbor"


@pytest.fixture(autouse=True)
def _fresh_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from inspect_ai.model import _model

    replay.reset_counters()
    # get_model() memoizes models by name, and a replay model reads its script path from the
    # environment only when it is built, so each test needs fresh models.
    monkeypatch.setattr(_model, "_models", {})
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Path]:
    """Folders standing in for /app, /logs/agent, /logs/verifier and /tests."""
    folders = {name: tmp_path / name for name in ("app", "agent", "verifier", "tests")}
    for folder in folders.values():
        folder.mkdir()
    return folders


def _script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: list[dict]) -> Path:
    path = write_script(tmp_path / "script.json", rules)
    monkeypatch.setenv("ASYMMETRYZERO_REPLAY_SCRIPT", str(path))
    return path


def _all(prefix: str, reply: dict, criterion: str | None = None) -> list[dict]:
    return [rule(f"{prefix}{index}", reply, criterion) for index in (1, 2, 3)]


def _verify(sandbox: dict[str, Path], contract: Path, *extra: str) -> int:
    return cli.main(
        [
            "verify",
            "--contract", str(contract),
            "--workspace", str(sandbox["app"]),
            "--out", str(sandbox["verifier"]),
            "--response-file", str(sandbox["app"] / "answer.txt"),
            "--trajectory-dir", str(sandbox["agent"]),
            *extra,
        ]
    )


def _record(sandbox: dict[str, Path]) -> VerdictRecord:
    return VerdictRecord.model_validate_json((sandbox["verifier"] / "reward-details.json").read_text())


def _criterion(record: VerdictRecord, criterion_id: str) -> CriterionResult:
    return next(result for result in record.criteria if result.id == criterion_id)


def _reward(sandbox: dict[str, Path]) -> dict:
    return json.loads((sandbox["verifier"] / "reward.json").read_text())


# The verify command.


def test_verify_pass_writes_reward(sandbox, tmp_path, monkeypatch, capsys) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    contract = write_contract(sandbox["tests"] / "contract.yaml", file_contract("pass-case"))
    (sandbox["app"] / "haiku.txt").write_text("a\nb\nc\n")

    code = _verify(sandbox, contract)

    assert code == 0
    assert _reward(sandbox) == {"reward": 1.0}
    record = _record(sandbox)
    assert record.outcome is Decision.PASS
    assert record.run.framework == "harbor"
    assert record.jury.name == "a"
    printed = json.loads(capsys.readouterr().out)
    assert printed["contract_id"] == "pass-case"
    assert printed["outcome"] == "PASS"


def test_verify_removes_planted_rewards(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("FAIL")))
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("planted-case"))
    (sandbox["app"] / "answer.txt").write_text("A merge commit is a kind of fruit.")
    (sandbox["verifier"] / "reward.json").write_text('{"reward": 1}')
    (sandbox["verifier"] / "reward.txt").write_text("1")

    code = _verify(sandbox, contract)

    assert code == 0
    assert _reward(sandbox) == {"reward": 0.0}
    assert not (sandbox["verifier"] / "reward.txt").exists()
    assert _record(sandbox).outcome is Decision.FAIL


def test_verify_unscored_no_reward(sandbox, tmp_path, monkeypatch, capsys) -> None:
    # No rule matches, so every judge returns a completion without a verdict and every vote is INVALID.
    _script(tmp_path, monkeypatch, [])
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("unscored-case"))
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")
    (sandbox["verifier"] / "reward.json").write_text('{"reward": 1}')

    code = _verify(sandbox, contract)

    assert code == cli.EXIT_NO_REWARD
    assert not (sandbox["verifier"] / "reward.json").exists()
    assert _record(sandbox).outcome is Decision.UNSCORED
    assert "UNSCORED" in capsys.readouterr().err


def test_verify_judge_outage_no_reward(sandbox, tmp_path, monkeypatch, capsys) -> None:
    # The file check passes and every judge call fails: the core marks the outage UNSCORED
    # (its partial score stays in the record), and no reward is written.
    _script(tmp_path, monkeypatch, _all("A", server_error()))
    data = file_contract("outage-case")
    data["judging"] = {"max_attempts": 1}
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["app"] / "haiku.txt").write_text("a\nb\nc\n")

    code = _verify(sandbox, contract)

    assert code == cli.EXIT_NO_REWARD
    assert not (sandbox["verifier"] / "reward.json").exists()
    record = _record(sandbox)
    assert record.outcome is Decision.UNSCORED
    assert record.outcome_reason.startswith("judge outage")
    assert record.coverage == pytest.approx(0.5)
    assert all(vote.parse_status == "judge_server_error" for vote in _criterion(record, "haiku-form").votes)
    error = capsys.readouterr().err
    assert "UNSCORED" in error or "unreachable" in error


def _planting_contract(contract_id: str, out_dir: Path, *, unscored: bool) -> dict:
    data = answer_contract(contract_id)
    plant = f"echo '{{\"reward\": 1}}' > {out_dir}/reward.json; echo 1 > {out_dir}/reward.txt"
    data["criteria"] = [
        {"id": "runs", "requirement": "The program runs.", "method": "command_exit_code", "command": plant},
        {"id": "answer-quality", "requirement": "The answer is correct.", "required": unscored},
    ]
    return data


def test_command_reward_removed_unscored(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, [])
    data = _planting_contract("command-plant", sandbox["verifier"], unscored=True)
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")

    code = _verify(sandbox, contract)

    assert code == cli.EXIT_NO_REWARD
    assert _criterion(_record(sandbox), "runs").decision is Decision.PASS
    assert not (sandbox["verifier"] / "reward.json").exists()
    assert not (sandbox["verifier"] / "reward.txt").exists()


def test_command_reward_replaced_scored(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("FAIL")))
    data = _planting_contract("command-plant-scored", sandbox["verifier"], unscored=False)
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")

    code = _verify(sandbox, contract)

    assert code == 0
    assert _reward(sandbox) == {"reward": 0.5}
    assert not (sandbox["verifier"] / "reward.txt").exists()


def test_verify_invalid_contract_exits_2(sandbox, capsys) -> None:
    contract = sandbox["tests"] / "contract.yaml"
    contract.write_text("id: broken\ncriteria: []\n")
    (sandbox["verifier"] / "reward.json").write_text('{"reward": 1}')

    code = _verify(sandbox, contract)

    assert code == cli.EXIT_USAGE
    assert not (sandbox["verifier"] / "reward.json").exists()
    assert not (sandbox["verifier"] / "reward-details.json").exists()
    assert "invalid contract" in capsys.readouterr().err


def test_verify_unknown_jury_exits_2(sandbox, tmp_path, monkeypatch, capsys) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("jury-case"))

    code = _verify(sandbox, contract, "--jury", "missing")

    assert code == cli.EXIT_USAGE
    assert not (sandbox["verifier"] / "reward.json").exists()
    assert "'missing' not found" in capsys.readouterr().err


def test_verify_second_jury_selected(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, [*_all("A", verdict("PASS")), *_all("B", verdict("FAIL"))])
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("second-jury"))
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")

    code = _verify(sandbox, contract, "--jury", "b")

    assert code == 0
    assert _reward(sandbox) == {"reward": 0.0}
    record = _record(sandbox)
    assert record.jury.name == "b"
    assert [vote.model for vote in _criterion(record, "answer-quality").votes] == ["replay/B1", "replay/B2", "replay/B3"]


def test_verify_judge_flag_replaces_jury(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, [rule("X1", verdict("PASS"))])
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("judge-flag"))
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")

    code = _verify(sandbox, contract, "--judge", "replay/X1")

    assert code == 0
    record = _record(sandbox)
    assert [seat["model"] for seat in record.jury.seats] == ["replay/X1"]
    assert record.jury.name == "custom"


def test_verify_negative_score_clipped(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, [*_all("A", verdict("FAIL"), "quality"), *_all("A", verdict("PASS"), "rude")])
    data = answer_contract("penalty-case")
    data["criteria"] = [
        {"id": "quality", "requirement": "The answer is correct."},
        {"id": "rude", "requirement": "The answer insults the reader.", "polarity": "negative", "weight": 2},
    ]
    data["reward_keys"] = ["score", "coverage", "pass"]
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["app"] / "answer.txt").write_text("Only a fool asks that.")

    code = _verify(sandbox, contract)

    assert code == 0
    assert _record(sandbox).score == pytest.approx(-2.0)
    assert _reward(sandbox) == {"reward": 0.0, "score": -2.0, "coverage": 1.0, "pass": 0.0}


def test_verify_reward_keys_on_pass(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    data = answer_contract("keys-case")
    data["reward_keys"] = ["pass", "coverage"]
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["app"] / "answer.txt").write_text("A merge commit has two parents.")

    assert _verify(sandbox, contract) == 0
    assert _reward(sandbox) == {"reward": 1.0, "pass": 1.0, "coverage": 1.0}


def test_verify_missing_answer_fails(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    contract = write_contract(sandbox["tests"] / "contract.yaml", answer_contract("no-answer"))

    assert _verify(sandbox, contract) == 0
    assert _reward(sandbox) == {"reward": 0.0}
    record = _record(sandbox)
    assert _criterion(record, "answer-quality").reason == "empty_response"
    assert record.totals.judge_calls == 0


def test_verify_trajectory_missing_no_reward(sandbox, tmp_path, monkeypatch, capsys) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    data = answer_contract("trajectory-case")
    data["target"] = {"kind": "trajectory"}
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)

    code = _verify(sandbox, contract)

    assert code == cli.EXIT_NO_REWARD
    assert not (sandbox["verifier"] / "reward.json").exists()
    assert "grades the agent trajectory" in capsys.readouterr().err


def test_verify_trajectory_graded(sandbox, tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", verdict("PASS")))
    data = answer_contract("trajectory-graded")
    data["target"] = {"kind": "trajectory"}
    contract = write_contract(sandbox["tests"] / "contract.yaml", data)
    (sandbox["agent"] / "trajectory.json").write_text('{"steps": [{"message": "git merge feature"}]}')
    (sandbox["agent"] / "other.txt").write_text("ignored when trajectory.json exists")

    assert _verify(sandbox, contract) == 0
    record = _record(sandbox)
    assert record.evidence_chars == len('{"steps": [{"message": "git merge feature"}]}')


# Rewards.


def _stub_record(score: float | None, outcome: Decision = Decision.PASS, coverage: float = 1.0) -> VerdictRecord:
    return VerdictRecord(
        contract_id="stub", contract_version="1", contract_hash="sha256:0", evidence_digest="sha256:0",
        criteria=[], score=score, outcome=outcome, coverage=coverage,
    )


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf, None])
def test_rewards_non_finite_score_rejected(score) -> None:
    with pytest.raises(NoRewardError, match="not a finite number"):
        rewards_from_record(_stub_record(score))


def test_rewards_score_above_one_rejected() -> None:
    with pytest.raises(NoRewardError, match="above 1"):
        rewards_from_record(_stub_record(1.5))


def test_rewards_unscored_rejected() -> None:
    with pytest.raises(NoRewardError, match="UNSCORED"):
        rewards_from_record(_stub_record(1.0, Decision.UNSCORED))


def test_rewards_non_finite_coverage_rejected() -> None:
    with pytest.raises(NoRewardError, match="coverage"):
        rewards_from_record(_stub_record(1.0, coverage=math.nan), ["coverage"])


@pytest.mark.parametrize("value", [math.nan, math.inf, "1", True])
def test_write_rewards_rejects_non_numbers(tmp_path, value) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        write_rewards({"reward": value}, tmp_path)
    assert not (tmp_path / "reward.json").exists()


# Evidence.


def test_response_file_symlink_not_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("OPENAI_API_KEY=sk-test")
    link = tmp_path / "answer.txt"
    link.symlink_to(secret)

    assert read_response_file(link) is None


def test_response_file_fifo_not_read(tmp_path) -> None:
    fifo = tmp_path / "answer.txt"
    os.mkfifo(fifo)

    assert read_response_file(fifo) is None


def test_trajectory_joins_text_files(tmp_path) -> None:
    (tmp_path / "b.txt").write_text("second")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.log").write_text("nested")
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "link.txt").symlink_to(tmp_path / "b.txt")

    text = read_trajectory(tmp_path)

    assert text == "### b.txt\nsecond\n\n### sub/a.log\nnested"


def test_trajectory_empty_folder_is_none(tmp_path) -> None:
    assert read_trajectory(tmp_path) is None
    assert read_trajectory(tmp_path / "missing") is None


# Export.


def _lint(*task_dirs: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARBOR_TELEMETRY": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([str(HARBOR), "lint", *map(str, task_dirs)], capture_output=True, text=True, env=env, check=False)


def test_export_task_files(tmp_path) -> None:
    source = write_contract(tmp_path / "haiku.yaml", file_contract("export-case"))

    [task_dir] = export_tasks([source], tmp_path / "tasks", jury="b", judge_env_vars=["ASYMMETRYZERO_REPLAY_SCRIPT", "OPENAI_API_KEY"])

    config = tomllib.loads((task_dir / "task.toml").read_text())
    assert config["artifacts"] == ["/app"]
    assert config["verifier"]["environment_mode"] == "separate"
    assert config["verifier"]["env"] == {
        "ASYMMETRYZERO_REPLAY_SCRIPT": "${ASYMMETRYZERO_REPLAY_SCRIPT}",
        "OPENAI_API_KEY": "${OPENAI_API_KEY}",
    }
    assert "env" not in config.get("environment", {})
    assert config["verifier"]["timeout_sec"] > 60
    assert config["metadata"]["asymmetryzero_jury"] == "b"
    assert (task_dir / "tests" / "contract.yaml").read_bytes() == source.read_bytes()
    test_sh = (task_dir / "tests" / "test.sh").read_text()
    assert "asymmetryzero-harbor verify" in test_sh
    assert "ASYMMETRYZERO_JURY='b'" in test_sh or "ASYMMETRYZERO_JURY=b" in test_sh
    assert os.access(task_dir / "tests" / "test.sh", os.X_OK)
    assert "/app/haiku.txt" in (task_dir / "instruction.md").read_text()
    assert "asymmetryzero==" in (task_dir / "environment" / "Dockerfile").read_text()


def test_export_solve_sh_holds_reference(tmp_path) -> None:
    data = answer_contract("solve-case")
    data["task"]["reference_answer"] = "It's a 'merge' with \"quotes\", $HOME and `ticks`\n\u00e9\U0001f600"
    source = write_contract(tmp_path / "answer.yaml", data)

    [task_dir] = export_tasks([source], tmp_path / "tasks")

    solve = (task_dir / "solution" / "solve.sh").read_text()
    encoded = re.search(r"printf '%s' '?([A-Za-z0-9+/=]+)'? \| base64 -d > /app/answer.txt", solve)
    assert encoded is not None
    assert base64.b64decode(encoded.group(1)).decode() == data["task"]["reference_answer"]
    assert "/app/answer.txt" in (task_dir / "instruction.md").read_text()
    assert "--response-file /app/answer.txt" in (task_dir / "tests" / "test.sh").read_text()


def test_export_infers_provider_keys(tmp_path) -> None:
    data = answer_contract("keys-export")
    data["juries"] = {"a": [{"model": "openai/gpt-4o-mini"}, {"model": "anthropic/claude-3-5-haiku-latest"}], "b": [{"model": "google/gemini-2.0-flash"}]}
    source = write_contract(tmp_path / "keys.yaml", data)

    [task_dir] = export_tasks([source], tmp_path / "tasks")

    env = tomllib.loads((task_dir / "task.toml").read_text())["verifier"]["env"]
    assert env == {"OPENAI_API_KEY": "${OPENAI_API_KEY}", "ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}", "GOOGLE_API_KEY": "${GOOGLE_API_KEY:-}"}


def test_export_passes_harbor_lint(tmp_path) -> None:
    sources = [
        write_contract(tmp_path / "one.yaml", file_contract("lint-file")),
        write_contract(tmp_path / "two.yaml", answer_contract("lint-answer")),
        *sorted((REPO / "examples" / "harbor").glob("*.yaml")),
    ]

    task_dirs = export_tasks(sources, tmp_path / "tasks")

    assert len(task_dirs) == len(sources)
    result = _lint(*task_dirs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_export_invalid_contract_lists_problems(tmp_path) -> None:
    good = write_contract(tmp_path / "good.yaml", answer_contract("good"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\n")

    with pytest.raises(ContractError) as raised:
        export_tasks([good, bad], tmp_path / "tasks")

    assert "bad.yaml" in str(raised.value)
    assert not (tmp_path / "tasks").exists()


def test_export_existing_folder_rejected(tmp_path) -> None:
    source = write_contract(tmp_path / "a.yaml", answer_contract("again"))
    export_tasks([source], tmp_path / "tasks")

    with pytest.raises(ExportError, match="already exist"):
        export_tasks([source], tmp_path / "tasks")
    assert export_tasks([source], tmp_path / "tasks", overwrite=True) == [tmp_path / "tasks" / "again"]


def test_export_reference_outside_folder_rejected(tmp_path) -> None:
    (tmp_path / "outside.png").write_bytes(b"png")
    data = answer_contract("outside-ref")
    data["task"]["reference_files"] = ["../outside.png"]
    (tmp_path / "contracts").mkdir()
    source = write_contract(tmp_path / "contracts" / "c.yaml", data)

    # The contract loader rejects it before export looks at the files.
    with pytest.raises((ExportError, ContractError), match="outside the contract's folder"):
        export_tasks([source], tmp_path / "tasks")


def test_export_reference_file_copied(tmp_path) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "expected.txt").write_text("reference")
    data = answer_contract("with-ref")
    data["task"]["reference_files"] = ["refs/expected.txt"]
    source = write_contract(tmp_path / "c.yaml", data)

    [task_dir] = export_tasks([source], tmp_path / "tasks")

    assert (task_dir / "tests" / "refs" / "expected.txt").read_text() == "reference"


def test_export_without_jury_rejected(tmp_path) -> None:
    data = answer_contract("no-jury")
    del data["default_jury"]
    source = write_contract(tmp_path / "c.yaml", data)

    with pytest.raises(ExportError, match="no default_jury"):
        export_tasks([source], tmp_path / "tasks")


# Plugin registration.


def test_plugin_entry_point_resolves() -> None:
    [entry] = [e for e in entry_points(group="harbor.plugins") if e.name == "asymmetryzero"]
    plugin_class = import_class(resolve_plugin_import_path(entry.name), label="plugin")

    assert entry.value == "asymmetryzero_harbor.plugin:VerdictRecordPlugin"
    assert isinstance(plugin_class(), JobPlugin)


# Host-side verifier, called directly on a trial folder.


def _host_verifier(tmp_path: Path, contract: Path, **kwargs: str) -> tuple[ContractVerifier, TrialPaths]:
    paths = TrialPaths(trial_dir=tmp_path / "trial")
    paths.mkdir()
    task = SimpleNamespace(paths=SimpleNamespace(tests_dir=contract.parent))
    return ContractVerifier(task=task, trial_paths=paths, environment=None, contract=str(contract), **kwargs), paths


def test_host_verifier_grades_artifacts(tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("B", verdict("PASS")))
    contract = write_contract(tmp_path / "contract.yaml", file_contract("host-case"))
    verifier, paths = _host_verifier(tmp_path, contract, jury="b")
    (paths.artifacts_dir / "app").mkdir()
    (paths.artifacts_dir / "app" / "haiku.txt").write_text("a\nb\nc\n")
    (paths.verifier_dir / "reward.json").write_text('{"reward": 0.25}')

    result = asyncio.run(verifier.verify())

    assert result.rewards == {"reward": 1.0}
    assert json.loads((paths.verifier_dir / "reward.json").read_text()) == {"reward": 1.0}
    record = VerdictRecord.model_validate_json((paths.verifier_dir / "reward-details.json").read_text())
    assert record.jury.name == "b"


def test_host_verifier_outage_raises(tmp_path, monkeypatch) -> None:
    _script(tmp_path, monkeypatch, _all("A", server_error()))
    data = answer_contract("host-outage")
    data["judging"] = {"max_attempts": 1}
    contract = write_contract(tmp_path / "contract.yaml", data)
    verifier, paths = _host_verifier(tmp_path, contract)
    (paths.artifacts_dir / "app").mkdir()
    (paths.artifacts_dir / "app" / "answer.txt").write_text("A merge commit has two parents.")

    with pytest.raises(VerifierOutputParseError, match="unreachable"):
        asyncio.run(verifier.verify())
    assert not (paths.verifier_dir / "reward.json").exists()
    assert (paths.verifier_dir / "reward-details.json").exists()


def test_host_verifier_rejects_command_criteria(tmp_path) -> None:
    contract = REPO / "examples" / "harbor" / "fizzbuzz-script.yaml"
    verifier, _ = _host_verifier(tmp_path, contract)

    with pytest.raises(VerifierOutputParseError, match="does not run"):
        asyncio.run(verifier.verify())
