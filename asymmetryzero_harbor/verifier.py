"""Host-side Harbor verifier: grades a trial from its recorded folders, outside the sandbox.

Use it with ``harbor run`` or ``harbor job regrade``::

    --verifier asymmetryzero_harbor.verifier:ContractVerifier \\
    --verifier-kwarg contract=PATH --verifier-kwarg jury=NAME

Evidence comes from the trial folder that Harbor fills before verification: the answer
file and workspace from ``artifacts/`` (so the task must declare ``artifacts = ["/app"]``,
as exported tasks do), and the trajectory from ``agent/``. Contracts with command
criteria are rejected, because their commands would run agent-written files on the host.

Judges run in Harbor's process, so their credentials come from the host environment;
``[verifier.env]`` and ``--ve`` only reach the in-sandbox verifier (tests/test.sh).

Every failure to produce a reward raises Harbor's ``VerifierOutputParseError``. Harbor
0.25.0 classifies that type as a verifier failure that is never retried, so the trial is
recorded as errored, neither scored 0 nor re-run with its agent. Any other exception type
(a provider's rate-limit error, for instance) would make Harbor retry the whole trial.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any

from harbor.models.verifier.result import VerifierResult
from harbor.verifier.base import BaseVerifier
from harbor.verifier.verifier import VerifierOutputParseError

from asymmetryzero_harbor.evidence import gather_evidence
from asymmetryzero_harbor.grading import grade
from asymmetryzero_harbor.needs import contract_needs
from asymmetryzero_harbor.outputs import remove_reward_files, write_details, write_rewards
from asymmetryzero_harbor.rewards import NoRewardError, rewards_from_record
from shared_contract.audit import VerdictRecord
from shared_contract.loading import ContractError, load_contract
from shared_contract.schema import Contract

logger = logging.getLogger(__name__)

CONTRACT_NAMES = ("contract.yaml", "contract.yml", "contract.json")


class ContractVerifier(BaseVerifier):
    """Grades a trial against an AsymmetryZero contract on the host.

    Args:
        contract: Contract file; the default is the task's ``tests/contract.yaml`` (or .yml, .json).
        jury: Jury of the contract to use; the default is the contract's default jury.
        judges: Inspect model names replacing the contract's juries, as a JSON list
            (``--verifier-kwarg 'judges=["openai/gpt-4o"]'``) or one name.
        workspace: The agent's working folder inside the sandbox, found under the trial's artifacts.
        response_file: The answer file inside the sandbox, found under the trial's artifacts.
        **kwargs: Harbor's verifier arguments, passed to ``BaseVerifier``.
    """

    def __init__(
        self,
        *,
        contract: str | None = None,
        jury: str | None = None,
        judges: list[str] | str | None = None,
        workspace: str = "/app",
        response_file: str | None = "/app/answer.txt",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Harbor parses kwarg values as JSON where they parse, so jury=1 arrives as an int.
        self.contract_path = Path(str(contract)) if contract else None
        self.jury = str(jury) if jury is not None else None
        self.judges = [judges] if isinstance(judges, str) else [str(model) for model in judges or []]
        self.workspace = workspace
        self.response_file = response_file

    def _resolve_contract_path(self) -> Path:
        if self.contract_path is not None:
            return self.contract_path
        tests_dir = self.task.paths.tests_dir
        for name in CONTRACT_NAMES:
            if (tests_dir / name).is_file():
                return tests_dir / name
        raise VerifierOutputParseError(
            f"no contract given and none of {', '.join(CONTRACT_NAMES)} found in {tests_dir}: "
            "pass --verifier-kwarg contract=PATH"
        )

    def _artifact_path(self, sandbox_path: str) -> Path:
        """Map an absolute sandbox path to its copy under the trial's artifacts folder."""
        path = PurePosixPath(sandbox_path)
        if not path.is_absolute() or ".." in path.parts:
            raise VerifierOutputParseError(
                f"sandbox path {sandbox_path!r} must be absolute and without '..', e.g. /app/answer.txt"
            )
        return self.trial_paths.artifacts_dir.joinpath(*path.relative_to("/").parts)

    def _load(self) -> tuple[Path, Contract]:
        path = self._resolve_contract_path()
        try:
            contract = load_contract(path)
        except ContractError as error:
            raise VerifierOutputParseError(f"invalid contract, no reward:\n{error}") from None
        commands = contract_needs(contract).commands
        if commands:
            raise VerifierOutputParseError(
                f"contract {contract.id!r} runs commands {list(commands)}, which the host-side verifier does not run "
                "on the host; grade it in the sandbox with the task's tests/test.sh (drop --verifier)"
            )
        return path, contract

    async def _grade(self, path: Path, contract: Contract) -> VerdictRecord:
        workspace = self._artifact_path(self.workspace)
        if not workspace.is_dir():
            logger.warning(
                "trial %s: %s was not collected as an artifact; declare artifacts = [%r] in task.toml",
                self.trial_paths.trial_dir.name,
                self.workspace,
                self.workspace,
            )
        response = self._artifact_path(self.response_file) if self.response_file else None
        evidence = gather_evidence(workspace, response, self.trial_paths.agent_dir)
        try:
            return await grade(contract, evidence, base_dir=path.resolve().parent, jury=self.jury, judge_models=self.judges)
        except KeyError as error:
            raise VerifierOutputParseError(f"{error.args[0]}; pass one with --verifier-kwarg jury=NAME") from None
        except Exception as error:
            # The core turns judge faults into INVALID votes. Anything else is a bug or a broken
            # install, and must not reach Harbor as a retryable provider error.
            logger.exception("trial %s: grading failed", self.trial_paths.trial_dir.name)
            raise VerifierOutputParseError(f"grading failed with {type(error).__name__}: {error}") from error

    async def verify(self) -> VerifierResult:
        """Grade the trial, write reward-details.json and reward.json, and return the rewards.

        Raises:
            VerifierOutputParseError: No reward can be given; the message gives the reason.
        """
        out_dir = self.trial_paths.verifier_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_reward_files(out_dir)
        path, contract = self._load()
        record = await self._grade(path, contract)
        write_details(record, out_dir)
        try:
            rewards = rewards_from_record(record, contract.reward_keys)
        except NoRewardError as error:
            raise VerifierOutputParseError(f"contract {contract.id!r}: {error}") from None
        write_rewards(rewards, out_dir)
        return VerifierResult(rewards=rewards)
