"""Gather a Harbor job's verdict records into one JSONL file and summarise the job.

Each line of the JSONL file is one verdict record, so ``shared_contract.audit.read_records``
reads it. Fields that the in-sandbox verifier cannot know are filled in when they are
empty: ``sample_id`` is ``<task name>/<graded trial name>`` (for a regrade, the source
trial, so records of two juries on the same agent run share a sample id), ``solver`` is
the agent name with its model, and ``run.run_id`` is the trial name.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from urllib.parse import unquote, urlparse

from harbor.models.trial.result import TrialResult
from pydantic import BaseModel, ValidationError

from asymmetryzero_harbor.outputs import DETAILS_JSON
from asymmetryzero_harbor.rewards import REWARD_KEY
from shared_contract.audit import Decision, VerdictRecord, write_atomic

logger = logging.getLogger(__name__)

DEFAULT_RECORDS_FILE = "asymmetryzero-records.jsonl"
DEFAULT_SUMMARY_FILE = "asymmetryzero-summary.json"
TRIAL_RESULT_FILE = "result.json"


class JobSummary(BaseModel):
    """Counts over a job's trials.

    ``mean_reward`` is the mean of ``reward`` over trials that received one, and
    ``pass_rate`` the share of those whose verdict outcome is PASS. ``unscored_trials``
    have a verdict record but no reward (UNSCORED verdict or judge outage).
    ``errored_trials`` maps every trial with a recorded exception to its exception type,
    and ``missing_records`` lists trials without a readable reward-details.json.
    """

    job_dir: str
    records_file: str
    n_trials: int
    n_records: int
    n_rewarded: int
    mean_reward: float | None
    n_passed: int
    pass_rate: float | None
    unscored_trials: list[str]
    errored_trials: dict[str, str]
    missing_records: list[str]


def trial_dir_of(result: TrialResult) -> Path:
    """Return the trial folder from the trial's ``file://`` URI, which Harbor always makes absolute."""
    return Path(unquote(urlparse(result.trial_uri).path))


def graded_trial_name(result: TrialResult) -> str:
    """Return the name of the trial whose agent run was graded: the source trial for a regrade."""
    source = result.config.source_trial
    if source is None:
        return result.trial_name
    if source.path is not None:
        return Path(source.path).name
    return str(source.trial_id)


def solver_label(result: TrialResult) -> str:
    """Return the agent name, followed by ``:provider/model`` when the agent used a model."""
    info = result.agent_info
    model = info.model_info
    if model is None:
        return info.name
    name = f"{model.provider}/{model.name}" if model.provider else model.name
    return f"{info.name}:{name}"


def read_trial_record(result: TrialResult, trial_dir: Path) -> VerdictRecord | None:
    """Read the trial's reward-details.json as a verdict record; None when missing or invalid."""
    path = trial_dir / "verifier" / DETAILS_JSON
    if not path.is_file():
        return None
    try:
        return VerdictRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as error:
        logger.warning("trial %s: %s is not a verdict record, so it is skipped: %s", result.trial_name, path, error)
        return None


def annotate(record: VerdictRecord, result: TrialResult) -> VerdictRecord:
    """Fill the record's empty identifying fields from the trial result."""
    run = record.run
    if run.run_id is None:
        run = run.model_copy(update={"run_id": result.trial_name})
    update: dict[str, object] = {"run": run}
    if record.sample_id is None:
        update["sample_id"] = f"{result.task_name}/{graded_trial_name(result)}"
    if record.solver is None:
        update["solver"] = solver_label(result)
    return record.model_copy(update=update)


def _reward(result: TrialResult) -> float | None:
    rewards = result.verifier_result.rewards if result.verifier_result is not None else None
    if not rewards or REWARD_KEY not in rewards:
        return None
    value = float(rewards[REWARD_KEY])
    return value if math.isfinite(value) else None


def collect_records(
    trials: list[tuple[TrialResult, Path]],
    job_dir: Path,
    *,
    records_file: str = DEFAULT_RECORDS_FILE,
    summary_file: str = DEFAULT_SUMMARY_FILE,
) -> JobSummary:
    """Write the job's records JSONL and summary JSON into the job folder.

    Args:
        trials: Every trial of the job, as its result and its folder.
        job_dir: The job folder.
        records_file: Name of the JSONL file inside ``job_dir``.
        summary_file: Name of the summary file inside ``job_dir``.

    Returns:
        The summary that was written.
    """
    ordered = sorted(trials, key=lambda trial: trial[0].trial_name)
    lines: list[str] = []
    rewards: list[float] = []
    passed = 0
    unscored: list[str] = []
    missing: list[str] = []
    errored: dict[str, str] = {}

    for result, trial_dir in ordered:
        if result.exception_info is not None:
            errored[result.trial_name] = result.exception_info.exception_type
        record = read_trial_record(result, trial_dir)
        reward = _reward(result)
        if record is None:
            missing.append(result.trial_name)
        else:
            lines.append(annotate(record, result).to_json(indent=None))
            if reward is None:
                unscored.append(result.trial_name)
        if reward is not None:
            rewards.append(reward)
            if record is not None and record.outcome is Decision.PASS:
                passed += 1

    records_path = job_dir / records_file
    write_atomic(records_path, "".join(line + "\n" for line in lines))
    summary = JobSummary(
        job_dir=str(job_dir),
        records_file=str(records_path),
        n_trials=len(ordered),
        n_records=len(lines),
        n_rewarded=len(rewards),
        mean_reward=math.fsum(rewards) / len(rewards) if rewards else None,
        n_passed=passed,
        pass_rate=passed / len(rewards) if rewards else None,
        unscored_trials=unscored,
        errored_trials=errored,
        missing_records=missing,
    )
    write_atomic(job_dir / summary_file, json.dumps(summary.model_dump(mode="json"), indent=2, allow_nan=False) + "\n")
    logger.info(
        "job %s: %d trials, %d rewarded, mean reward %s, pass rate %s, %d unscored, %d errored; records in %s",
        job_dir,
        summary.n_trials,
        summary.n_rewarded,
        "n/a" if summary.mean_reward is None else f"{summary.mean_reward:.3f}",
        "n/a" if summary.pass_rate is None else f"{summary.pass_rate:.3f}",
        len(unscored),
        len(errored),
        records_path,
    )
    return summary


def read_trial_results(job_dir: Path) -> list[tuple[TrialResult, Path]]:
    """Read the result.json of every trial folder directly inside the job folder.

    Returns:
        Each trial's result with its folder, which is used in place of the recorded
        ``trial_uri`` so a moved job folder still works.
    """
    results = []
    for child in sorted(job_dir.iterdir()):
        path = child / TRIAL_RESULT_FILE
        if not child.is_dir() or not path.is_file():
            continue
        try:
            results.append((TrialResult.model_validate_json(path.read_text(encoding="utf-8")), child))
        except (OSError, ValidationError) as error:
            logger.warning("trial folder %s: %s is not a trial result, so it is skipped: %s", child, path, error)
    return results


def collect_job_dir(
    job_dir: Path,
    *,
    records_file: str = DEFAULT_RECORDS_FILE,
    summary_file: str = DEFAULT_SUMMARY_FILE,
) -> JobSummary:
    """Collect the records of a job folder on disk, such as one written by ``harbor job regrade``."""
    job_dir = job_dir.resolve()
    return collect_records(read_trial_results(job_dir), job_dir, records_file=records_file, summary_file=summary_file)
