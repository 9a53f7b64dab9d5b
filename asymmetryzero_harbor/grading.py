"""Run the AsymmetryZero core on a Harbor trial's evidence.

Judges are called through Inspect AI's model API, so judge credentials are read from the
process environment: ``[verifier.env]`` in the sandbox, the host environment for the
host-side verifier.
"""

from __future__ import annotations

from pathlib import Path

from shared_contract.audit import VerdictRecord
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine
from shared_contract.schema import Contract, Judge

FRAMEWORK = "harbor"


async def grade(
    contract: Contract,
    evidence: Evidence,
    *,
    base_dir: Path,
    jury: str | None = None,
    judge_models: list[str] | None = None,
) -> VerdictRecord:
    """Grade the evidence against the contract and return the verdict record.

    Args:
        contract: The validated contract.
        evidence: The trial's evidence.
        base_dir: The contract file's folder, which reference files are relative to.
        jury: A jury named in the contract; None selects the contract's default jury.
        judge_models: Inspect model names that replace the contract's juries, each judge
            with default settings; ``jury`` then only names the panel in the record.

    Returns:
        The verdict record. Judge and provider faults become INVALID votes, never exceptions.

    Raises:
        KeyError: ``jury`` is not a jury of the contract.
    """
    judges = [Judge(model=model) for model in judge_models] if judge_models else None
    grader = Grader(JuryEngine(InspectBackend()))
    return await grader.grade(contract, evidence, judges=judges, jury=jury, base_dir=base_dir, framework=FRAMEWORK)
