"""End-to-end: exported tasks run by the real `harbor run` and `harbor job regrade`, without Docker.

Trials run in a per-trial chroot (tests/harbor_support/bound_chroot.py) that binds the
editable checkout and the replay scripts read-only. Four Harbor commands run once per
module: an oracle job and a nop job with the records plugin, then two regrades of the
oracle job with jury 'b', one through tests/test.sh and one through the host-side verifier.

Tasks: 'haiku' grades /app/haiku.txt (file check plus jury); 'planted' grades the final
answer, and its solve.sh also plants /logs/verifier/reward.json = {"reward": 1}; 'outage'
grades the final answer with judges that return HTTP 500 on every call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from harbor.models.trial.result import TrialResult

from asymmetryzero_harbor.export import export_tasks
from shared_contract.audit import Decision, VerdictRecord, Vote, read_records
from tests.harbor_support.replay_contracts import (
    answer_contract,
    file_contract,
    rule,
    server_error,
    verdict,
    write_contract,
    write_script,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENVIRONMENT = "tests.harbor_support.bound_chroot:BoundChrootEnvironment"
HOST_VERIFIER = "asymmetryzero_harbor.verifier:ContractVerifier"
PLANT = 'mkdir -p /logs/verifier && echo \'{"reward": 1}\' > /logs/verifier/reward.json && echo 1 > /logs/verifier/reward.txt && echo planted\n'


@dataclass(frozen=True)
class World:
    """The exported tasks, replay scripts and the environment Harbor runs with."""

    root: Path
    tasks: Path
    jobs: Path
    script_a: Path
    script_b: Path
    env: dict[str, str]


def _jury_rules(prefix: str, replies: dict[str, dict]) -> list[dict]:
    return [rule(f"{prefix}{index}", reply, criterion) for criterion, reply in replies.items() for index in (1, 2, 3)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    if os.geteuid() != 0:
        pytest.skip("the chroot environment needs root")
    root = tmp_path_factory.mktemp("harbor")
    contracts = root / "contracts"
    contracts.mkdir()
    sources = [
        write_contract(contracts / "haiku.yaml", file_contract("haiku")),
        write_contract(contracts / "planted.yaml", answer_contract("planted", "answer-quality")),
        write_contract(contracts / "outage.yaml", answer_contract("outage", "down-criterion")),
    ]
    script_a = write_script(
        root / "jury-a.json",
        _jury_rules("A", {"haiku-form": verdict("PASS"), "answer-quality": verdict("FAIL"), "down-criterion": server_error()}),
    )
    script_b = write_script(
        root / "jury-b.json",
        _jury_rules("B", {"haiku-form": verdict("FAIL"), "answer-quality": verdict("PASS"), "down-criterion": server_error()}),
    )
    tasks = root / "tasks"
    export_tasks(sources, tasks)
    with (tasks / "planted" / "solution" / "solve.sh").open("a", encoding="utf-8") as solve:
        solve.write(PLANT)

    env = {
        **os.environ,
        "HARBOR_TELEMETRY": "0",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": str(REPO),
        "ASYMMETRYZERO_REPLAY_SCRIPT": str(script_a),
        "ASYMMETRYZERO_TEST_RO_BINDS": json.dumps([str(REPO), str(root)]),
    }
    return World(root, tasks, root / "jobs", script_a, script_b, env)


def _harbor(world: World, *args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [str(BIN / "harbor"), *args],
        cwd=world.root,
        env=env or world.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@dataclass(frozen=True)
class Trial:
    """One trial's result with its folder."""

    result: TrialResult
    folder: Path

    @property
    def reward(self) -> float | None:
        rewards = self.result.verifier_result.rewards if self.result.verifier_result else None
        return None if rewards is None else rewards["reward"]

    @property
    def exception(self) -> str | None:
        return self.result.exception_info.exception_type if self.result.exception_info else None

    def record(self) -> VerdictRecord:
        return VerdictRecord.model_validate_json((self.folder / "verifier" / "reward-details.json").read_text())


def _votes(record: VerdictRecord, criterion_id: str) -> list[Vote]:
    return next(result for result in record.criteria if result.id == criterion_id).votes


def _trials(job_dir: Path) -> dict[str, Trial]:
    trials = {}
    for folder in sorted(job_dir.iterdir()):
        if (folder / "result.json").is_file():
            result = TrialResult.model_validate_json((folder / "result.json").read_text())
            trials[result.task_name] = Trial(result, folder)
    return trials


def _run(world: World, agent: str) -> Path:
    job = f"{agent}-job"
    _harbor(world, "run", "-p", str(world.tasks), "-a", agent, "--env", ENVIRONMENT, "-o", str(world.jobs), "--job-name", job, "-y", "-q", "--plugin", "asymmetryzero")
    return world.jobs / job


@pytest.fixture(scope="module")
def oracle_job(world: World) -> Path:
    return _run(world, "oracle")


@pytest.fixture(scope="module")
def nop_job(world: World) -> Path:
    return _run(world, "nop")


@pytest.fixture(scope="module")
def sandbox_regrade_job(world: World, oracle_job: Path) -> Path:
    job = "regrade-sandbox"
    _harbor(
        world, "job", "regrade", str(oracle_job), "-p", str(world.tasks), "--env", ENVIRONMENT, "-o", str(world.jobs),
        "--job-name", job, "--ve", "ASYMMETRYZERO_JURY=b", "--ve", f"ASYMMETRYZERO_REPLAY_SCRIPT={world.script_b}",
    )
    subprocess.run([str(BIN / "asymmetryzero-harbor"), "collect", str(world.jobs / job)], env=world.env, check=True, capture_output=True)
    return world.jobs / job


@pytest.fixture(scope="module")
def host_regrade_job(world: World, oracle_job: Path) -> Path:
    job = "regrade-host"
    # The host-side verifier's judges read the script path from Harbor's own environment.
    env = {**world.env, "ASYMMETRYZERO_REPLAY_SCRIPT": str(world.script_b)}
    _harbor(
        world, "job", "regrade", str(oracle_job), "-p", str(world.tasks), "--env", ENVIRONMENT, "-o", str(world.jobs),
        "--job-name", job, "--verifier", HOST_VERIFIER, "--verifier-kwarg", "jury=b", env=env,
    )
    subprocess.run([str(BIN / "asymmetryzero-harbor"), "collect", str(world.jobs / job)], env=world.env, check=True, capture_output=True)
    return world.jobs / job


def test_oracle_rewards(oracle_job: Path) -> None:
    trials = _trials(oracle_job)

    assert trials["haiku"].reward == 1.0
    assert trials["planted"].reward == 0.0
    assert trials["outage"].reward is None
    assert trials["outage"].exception == "RewardFileNotFoundError"
    assert trials["haiku"].exception is None
    assert trials["planted"].exception is None


def test_oracle_reward_details(oracle_job: Path) -> None:
    trials = _trials(oracle_job)

    haiku = trials["haiku"].record()
    assert haiku.outcome is Decision.PASS
    assert haiku.jury.name == "a"
    assert json.loads((trials["haiku"].folder / "verifier" / "reward.json").read_text()) == {"reward": 1.0}
    outage = trials["outage"].record()
    assert outage.outcome is Decision.UNSCORED
    assert {vote.parse_status for vote in _votes(outage, "down-criterion")} == {"judge_server_error"}
    assert not (trials["outage"].folder / "verifier" / "reward.json").exists()
    assert "unreachable" in (trials["outage"].folder / "verifier" / "test-stdout.txt").read_text()


def test_planted_reward_ignored(oracle_job: Path) -> None:
    planted = _trials(oracle_job)["planted"]

    assert "planted" in (planted.folder / "agent" / "oracle.txt").read_text()
    assert planted.record().outcome is Decision.FAIL
    assert json.loads((planted.folder / "verifier" / "reward.json").read_text()) == {"reward": 0.0}
    assert not (planted.folder / "verifier" / "reward.txt").exists()


def test_plugin_writes_records_and_summary(oracle_job: Path) -> None:
    trials = _trials(oracle_job)
    records = read_records(oracle_job / "asymmetryzero-records.jsonl")
    summary = json.loads((oracle_job / "asymmetryzero-summary.json").read_text())

    assert sorted(record.contract_id for record in records) == ["haiku", "outage", "planted"]
    haiku = next(record for record in records if record.contract_id == "haiku")
    assert haiku.sample_id == f"haiku/{trials['haiku'].folder.name}"
    assert haiku.solver == "oracle"
    assert haiku.run.run_id == trials["haiku"].folder.name
    assert summary["n_trials"] == 3
    assert summary["n_rewarded"] == 2
    assert summary["mean_reward"] == pytest.approx(0.5)
    assert summary["pass_rate"] == pytest.approx(0.5)
    assert summary["unscored_trials"] == [trials["outage"].folder.name]
    assert summary["errored_trials"] == {trials["outage"].folder.name: "RewardFileNotFoundError"}
    assert summary["missing_records"] == []


def test_nop_agent_scores_zero(nop_job: Path) -> None:
    trials = _trials(nop_job)
    summary = json.loads((nop_job / "asymmetryzero-summary.json").read_text())

    assert {name: trial.reward for name, trial in trials.items()} == {"haiku": 0.0, "planted": 0.0, "outage": 0.0}
    assert all(trial.exception is None for trial in trials.values())
    assert trials["outage"].record().totals.judge_calls == 0
    assert summary["n_rewarded"] == 3
    assert summary["mean_reward"] == 0.0


def test_sandbox_regrade_uses_second_jury(sandbox_regrade_job: Path, oracle_job: Path) -> None:
    trials = _trials(sandbox_regrade_job)
    originals = _trials(oracle_job)
    records = {record.contract_id: record for record in read_records(sandbox_regrade_job / "asymmetryzero-records.jsonl")}

    assert trials["haiku"].reward == 0.5
    assert trials["planted"].reward == 1.0
    assert trials["outage"].exception == "RewardFileNotFoundError"
    assert records["haiku"].jury.name == "b"
    assert [vote.model for vote in _votes(records["haiku"], "haiku-form")] == ["replay/B1", "replay/B2", "replay/B3"]
    assert records["planted"].outcome is Decision.PASS
    assert records["haiku"].sample_id == f"haiku/{originals['haiku'].folder.name}"


def test_host_regrade_uses_second_jury(host_regrade_job: Path, oracle_job: Path) -> None:
    trials = _trials(host_regrade_job)
    originals = _trials(oracle_job)
    records = {record.contract_id: record for record in read_records(host_regrade_job / "asymmetryzero-records.jsonl")}

    assert trials["haiku"].reward == 0.5
    assert trials["planted"].reward == 1.0
    assert trials["outage"].reward is None
    assert trials["outage"].exception == "VerifierOutputParseError"
    assert "unreachable" in trials["outage"].result.exception_info.exception_message
    assert trials["haiku"].record().jury.name == "b"
    assert json.loads((trials["planted"].folder / "verifier" / "reward.json").read_text()) == {"reward": 1.0}
    assert records["planted"].jury.name == "b"
    assert records["planted"].sample_id == f"planted/{originals['planted'].folder.name}"
    assert records["outage"].outcome is Decision.UNSCORED
