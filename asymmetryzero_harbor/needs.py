"""The evidence a contract grades, which decides what a Harbor task collects and passes to the verifier."""

from __future__ import annotations

from dataclasses import dataclass

from shared_contract.schema import Contract, Method, Target, TargetKind

_WORKSPACE_FILE_METHODS = frozenset({Method.FILE_EXISTS, Method.FILE_CONTAINS})


@dataclass(frozen=True)
class ContractNeeds:
    """Kinds of evidence a contract reads.

    ``files`` are workspace-relative paths read by file targets and file checks, and
    ``commands`` are the shell commands run in the workspace by command targets and
    ``command_exit_code`` checks.
    """

    final_answer: bool
    trajectory: bool
    files: tuple[str, ...]
    commands: tuple[str, ...]

    @property
    def workspace(self) -> bool:
        """True when grading reads the workspace folder."""
        return bool(self.files or self.commands)


def contract_needs(contract: Contract) -> ContractNeeds:
    """Collect the evidence that the criteria and the contract's main target read.

    The grader resolves the main target for the record's evidence digest even when no
    criterion grades it, so its file and command count. A final answer or trajectory counts
    only when a criterion grades it, because resolving an absent one reads nothing.
    """
    criterion_targets: list[Target] = [contract.target_of(c) for c in contract.criteria]
    files: list[str] = []
    commands: list[str] = []
    for target in [contract.target, *criterion_targets]:
        if target.kind is TargetKind.FILE and target.path is not None:
            files.append(target.path)
        elif target.kind is TargetKind.COMMAND_OUTPUT and target.command is not None:
            commands.append(target.command)
    for criterion in contract.criteria:
        if criterion.method in _WORKSPACE_FILE_METHODS and criterion.path is not None:
            files.append(criterion.path)
        elif criterion.method is Method.COMMAND_EXIT_CODE and criterion.command is not None:
            commands.append(criterion.command)

    kinds = {target.kind for target in criterion_targets}
    return ContractNeeds(
        final_answer=TargetKind.FINAL_ANSWER in kinds,
        trajectory=TargetKind.TRAJECTORY in kinds,
        files=tuple(dict.fromkeys(files)),
        commands=tuple(dict.fromkeys(commands)),
    )
