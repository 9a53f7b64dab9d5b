"""Export evaluation contracts as Harbor task folders.

Each contract becomes ``<out_dir>/<task name>/`` with task.toml, instruction.md,
environment/Dockerfile, tests/test.sh, tests/contract.<ext> with the contract's reference
files, and solution/solve.sh when the contract has a reference answer. The task name is
the contract id with characters other than letters, digits, ``_``, ``.`` and ``-``
replaced by ``-``.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from asymmetryzero_harbor import task_files
from asymmetryzero_harbor.needs import ContractNeeds, contract_needs
from shared_contract.audit import package_version
from shared_contract.jury import JuryLimits
from shared_contract.loading import ContractError, ContractProblem, contract_hash, load_contract
from shared_contract.schema import BinaryScale, Contract, JudgingMode, Method, TargetKind

logger = logging.getLogger(__name__)

PACKAGE_NAME = "asymmetryzero"

# Environment variables that Inspect AI's providers read the API key from, by model prefix.
PROVIDER_ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GOOGLE_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "grok": ("XAI_API_KEY",),
    "together": ("TOGETHER_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "fireworks": ("FIREWORKS_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "perplexity": ("PERPLEXITY_API_KEY",),
    "replay": ("ASYMMETRYZERO_REPLAY_SCRIPT",),
}

# Seconds added to the verifier time limit for process start-up and Inspect's import.
_STARTUP_ALLOWANCE_S = 60.0

_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")
_RESERVED_TEST_FILES = frozenset({"test.sh", "contract.yaml", "contract.yml", "contract.json"})


class ExportError(ValueError):
    """A contract cannot be exported as a Harbor task; the message names the contract and the fix."""


@dataclass(frozen=True)
class _Plan:
    """Everything needed to write one task folder, checked before any file is written."""

    source: Path
    contract: Contract
    name: str
    jury: str | None
    needs: ContractNeeds
    references: tuple[str, ...]


def task_name_for(contract: Contract) -> str:
    """Return the task folder name for a contract."""
    return _UNSAFE_NAME_CHARACTERS.sub("-", contract.id)


def _judge_models(contract: Contract, jury: str | None) -> list[str]:
    judges = contract.juries.get(jury, []) if jury is not None else [j for panel in contract.juries.values() for j in panel]
    return [judge.model for judge in judges]


def provider_env_vars(models: Iterable[str]) -> list[str]:
    """Return the API key variables of the models' providers, in first-seen order.

    A provider missing from ``PROVIDER_ENV_VARS`` adds nothing and is logged; pass
    ``judge_env_vars`` to ``export_tasks`` for it.
    """
    names: list[str] = []
    for model in models:
        provider = model.split("/", 1)[0]
        known = PROVIDER_ENV_VARS.get(provider)
        if known is None:
            logger.warning("no API key variable known for judge %r: pass judge_env_vars to export it", model)
            continue
        names.extend(name for name in known if name not in names)
    return names


def verifier_env(contract: Contract, jury: str | None, judge_env_vars: Sequence[str] | None) -> dict[str, str]:
    """Build ``[verifier.env]``: each judge variable templated from the host as ``${VAR}``.

    With explicit ``judge_env_vars`` every one is required. Otherwise the variables of the
    grading jury's providers are required, and those only other juries use are optional
    (``${VAR:-}``), so a regrade with another jury can receive them while ``harbor run``
    does not demand them.
    """
    if judge_env_vars is not None:
        bad = [name for name in judge_env_vars if not _ENV_VAR_NAME.match(name)]
        if bad:
            raise ExportError(f"judge_env_vars {bad} are not environment variable names: use letters, digits and _")
        return {name: f"${{{name}}}" for name in dict.fromkeys(judge_env_vars)}
    if not any(c.method is Method.JURY for c in contract.criteria):
        return {}
    required = provider_env_vars(_judge_models(contract, jury))
    optional = [name for name in provider_env_vars(_judge_models(contract, None)) if name not in required]
    return {**{name: f"${{{name}}}" for name in required}, **{name: f"${{{name}:-}}" for name in optional}}


def estimate_verifier_timeout(contract: Contract) -> float:
    """Estimate a verifier time limit in seconds from the contract's judging budget.

    Each vote may use ``judging.max_total_s`` plus one ``attempt_timeout_s`` per request
    round, because the retry loop stops only between attempts. A vote has one round for the
    first request, one per re-ask of an unparseable completion and one for the retry with
    more tokens after a cut-off. Requests to one model run at most
    ``JuryLimits.per_model_concurrency`` at a time, which bounds the number of rounds in
    sequence. Command timeouts are added in full.
    """
    # NOTE: an estimate from the jury engine's default limits, not a bound: the start-up
    # allowance is a guess and depends on the machine.
    judging = contract.judging
    jury_criteria = [c for c in contract.criteria if c.method is Method.JURY]
    if judging.mode is JudgingMode.BATCHED:
        # Batched mode sends all binary criteria in one request and each scale criterion alone.
        binary = sum(1 for c in jury_criteria if isinstance(c.scale, BinaryScale))
        requests_per_judge = (1 if binary else 0) + len(jury_criteria) - binary
    else:
        requests_per_judge = len(jury_criteria)
    largest_model_share = 0
    for judges in contract.juries.values():
        per_model: dict[str, int] = {}
        for judge in judges:
            per_model[judge.model] = per_model.get(judge.model, 0) + requests_per_judge
        largest_model_share = max([largest_model_share, *per_model.values()])
    waves = math.ceil(largest_model_share / JuryLimits().per_model_concurrency)
    per_vote_s = (judging.max_total_s + judging.attempt_timeout_s) * (2 + judging.reask_unparseable)

    command_s = sum(c.timeout_s for c in contract.criteria if c.method is Method.COMMAND_EXIT_CODE)
    targets = {contract.target, *(contract.target_of(c) for c in contract.criteria)}
    command_s += sum(t.timeout_s for t in targets if t.kind is TargetKind.COMMAND_OUTPUT)
    return _STARTUP_ALLOWANCE_S + command_s + waves * per_vote_s


def _reference_files(contract: Contract, source: Path) -> tuple[str, ...]:
    base = source.resolve().parent
    names = []
    for name in contract.task.reference_files:
        path = PurePosixPath(name)
        resolved = (base / name).resolve()
        if path.is_absolute() or not resolved.is_relative_to(base):
            raise ExportError(
                f"{source}: reference file {name!r} is outside the contract's folder {base}; "
                "move it into that folder, because the task's tests/ folder keeps the same relative paths"
            )
        if not resolved.is_file():
            raise ExportError(f"{source}: reference file {name!r} not found at {resolved}")
        if path.as_posix() in _RESERVED_TEST_FILES:
            raise ExportError(f"{source}: reference file {name!r} would overwrite the task's tests/{name}; rename it")
        names.append(name)
    return tuple(names)


def _plan(source: Path, contract: Contract, jury: str | None) -> _Plan:
    chosen = jury or contract.default_jury
    if jury is not None and jury not in contract.juries:
        raise ExportError(f"{source}: jury {jury!r} not found in contract {contract.id!r}; available: {sorted(contract.juries)}")
    if chosen is None and any(c.method is Method.JURY for c in contract.criteria):
        raise ExportError(
            f"{source}: contract {contract.id!r} has jury criteria but no default_jury; pass jury=NAME "
            f"(one of {sorted(contract.juries)}) or set default_jury in the contract"
        )
    needs = contract_needs(contract)
    if needs.trajectory:
        logger.warning(
            "contract %s grades the agent trajectory, which Harbor's separate verifier mode does not pass to tests/test.sh: "
            "grade these tasks with --verifier asymmetryzero_harbor.verifier:ContractVerifier",
            contract.id,
        )
    return _Plan(source, contract, task_name_for(contract), jury, needs, _reference_files(contract, source))


def _solution_target(contract: Contract) -> str | None:
    """Return the sandbox path that solve.sh writes the reference answer to, or None for no solve.sh."""
    if contract.task.reference_answer is None:
        return None
    target = contract.target
    if target.kind is TargetKind.FINAL_ANSWER:
        return task_files.RESPONSE_FILE
    if target.kind is TargetKind.FILE and target.path is not None:
        relative = PurePosixPath(target.path)
        if relative.is_absolute() or ".." in relative.parts:
            logger.warning("contract %s: no solve.sh, because target path %r leaves the workspace", contract.id, target.path)
            return None
        return str(PurePosixPath(task_files.WORKSPACE, relative))
    logger.info("contract %s: no solve.sh, because a reference answer cannot produce a %s target", contract.id, target.kind.value)
    return None


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def _write_task(
    plan: _Plan,
    task_dir: Path,
    *,
    judge_env_vars: Sequence[str] | None,
    pip_requirement: str | None,
    wheel: Path | None,
    verifier_timeout_sec: float | None,
) -> None:
    contract = plan.contract
    tests_dir = task_dir / "tests"
    environment_dir = task_dir / "environment"
    tests_dir.mkdir(parents=True)
    environment_dir.mkdir()

    base = plan.source.resolve().parent
    contract_file = "contract" + (".json" if plan.source.suffix == ".json" else ".yaml")
    shutil.copyfile(plan.source, tests_dir / contract_file)
    for name in plan.references:
        destination = tests_dir / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / name, destination)

    metadata = {
        "asymmetryzero_contract_id": contract.id,
        "asymmetryzero_contract_version": contract.version,
        "asymmetryzero_contract_hash": contract_hash(contract, base),
    }
    if contract.title:
        metadata["asymmetryzero_contract_title"] = contract.title
    if plan.jury or contract.default_jury:
        metadata["asymmetryzero_jury"] = plan.jury or contract.default_jury or ""
    toml_text = task_files.task_toml(
        metadata=metadata,
        verifier_timeout_sec=verifier_timeout_sec if verifier_timeout_sec is not None else estimate_verifier_timeout(contract),
        verifier_env=verifier_env(contract, plan.jury or contract.default_jury, judge_env_vars),
        artifacts=[task_files.WORKSPACE],
    )
    tomllib.loads(toml_text)  # A quoting bug must fail here, not in Harbor.
    (task_dir / "task.toml").write_text(toml_text, encoding="utf-8")

    graded_files = list(plan.needs.files)
    (task_dir / "instruction.md").write_text(
        task_files.instruction_md(contract.task.prompt, answer_file=plan.needs.final_answer, graded_files=graded_files),
        encoding="utf-8",
    )
    if wheel is not None:
        shutil.copyfile(wheel, environment_dir / wheel.name)
    (environment_dir / "Dockerfile").write_text(
        task_files.dockerfile(pip_requirement=pip_requirement, wheel_name=wheel.name if wheel else None), encoding="utf-8"
    )
    _write_executable(
        tests_dir / "test.sh",
        task_files.test_sh(
            contract_file=contract_file, jury=plan.jury, answer_file=plan.needs.final_answer, trajectory=plan.needs.trajectory
        ),
    )
    solution_target = _solution_target(contract)
    if solution_target is not None and contract.task.reference_answer is not None:
        (task_dir / "solution").mkdir()
        _write_executable(task_dir / "solution" / "solve.sh", task_files.solve_sh(contract.task.reference_answer, solution_target))


def _verifier_install(verifier_package: str | Path | None) -> tuple[str | None, Path | None]:
    """Return the pip requirement or the wheel file that installs the verifier."""
    if verifier_package is None:
        version = package_version()
        if "unknown" in version:
            raise ExportError(
                f"cannot pin {PACKAGE_NAME}: the installed version is {version!r}; pass verifier_package as a pinned "
                f"requirement ({PACKAGE_NAME}==X.Y.Z) or a wheel file"
            )
        return f"{PACKAGE_NAME}=={version}", None
    if str(verifier_package).endswith(".whl"):
        wheel = Path(verifier_package)
        if not wheel.is_file():
            raise ExportError(f"verifier wheel {wheel} not found; build it with `python -m build --wheel`")
        return None, wheel
    return str(verifier_package), None


def export_tasks(
    contract_paths: Iterable[str | Path],
    out_dir: str | Path,
    *,
    jury: str | None = None,
    judge_env_vars: Sequence[str] | None = None,
    verifier_package: str | Path | None = None,
    verifier_timeout_sec: float | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write one Harbor task folder per contract.

    Every contract is loaded and checked before any folder is written, so an error leaves
    ``out_dir`` untouched.

    Args:
        contract_paths: Contract files (YAML or JSON).
        out_dir: Folder that receives one task folder per contract.
        jury: Jury that tests/test.sh grades with; None uses each contract's default jury.
        judge_env_vars: Host variables passed to the verifier as ``${VAR}`` in
            ``[verifier.env]``; None derives them from the judges' providers.
        verifier_package: Pinned pip requirement or local wheel that installs the verifier
            in the task image; None pins the installed asymmetryzero version.
        verifier_timeout_sec: ``[verifier].timeout_sec``; None estimates it from each contract.
        overwrite: Replace existing task folders instead of raising.

    Returns:
        The task folders, in the order of ``contract_paths``.

    Raises:
        ContractError: A contract is invalid; every problem of every contract is listed.
        ExportError: A contract cannot become a task, or a task folder exists and
            ``overwrite`` is false.
    """
    sources = [Path(path) for path in contract_paths]
    if not sources:
        raise ExportError("no contract files given")
    pip_requirement, wheel = _verifier_install(verifier_package)

    problems: list[ContractProblem] = []
    loaded: list[tuple[Path, Contract]] = []
    for source in sources:
        try:
            loaded.append((source, load_contract(source)))
        except ContractError as error:
            problems.extend(error.problems)
    if problems:
        raise ContractError(problems)

    plans = [_plan(source, contract, jury) for source, contract in loaded]
    seen: dict[str, Path] = {}
    for plan in plans:
        if plan.name in seen:
            raise ExportError(f"{plan.source} and {seen[plan.name]} both export as task {plan.name!r}: give the contracts distinct ids")
        seen[plan.name] = plan.source

    root = Path(out_dir)
    existing = [root / plan.name for plan in plans if (root / plan.name).exists()]
    if existing and not overwrite:
        raise ExportError(f"task folders already exist: {[str(path) for path in existing]}; remove them or pass overwrite=True")

    written = []
    for plan in plans:
        task_dir = root / plan.name
        if task_dir.exists():
            shutil.rmtree(task_dir)
        _write_task(
            plan,
            task_dir,
            judge_env_vars=judge_env_vars,
            pip_requirement=pip_requirement,
            wheel=wheel,
            verifier_timeout_sec=verifier_timeout_sec,
        )
        logger.info("exported contract %s to %s", plan.contract.id, task_dir)
        written.append(task_dir)
    return written
