"""The contract_eval task: one sample per contract file, graded by the contract scorer."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageUser, ContentImage, ContentText
from inspect_ai.solver import Solver, generate

from asymmetryzero_inspect._naming import registry_name_for
from asymmetryzero_inspect.scorer import CONTRACT_DIR_KEY, CONTRACT_HASH_KEY, CONTRACT_PATH_KEY, WORKSPACE_KEY, contract_scorer
from asymmetryzero_inspect.solver import replay_solver
from shared_contract.loading import contract_hash, load_contract
from shared_contract.schema import Contract

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")


def contract_files(contracts: str | Path) -> list[Path]:
    """List contract files: the file itself, or the YAML and JSON files directly inside a folder, by name.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the folder contains no contract file.
    """
    path = Path(contracts).expanduser().resolve()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"contracts {str(contracts)!r} not found; pass a contract file or a folder of them")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CONTRACT_SUFFIXES)
    if not files:
        raise ValueError(f"no contract file ({', '.join(CONTRACT_SUFFIXES)}) directly inside {str(path)!r}")
    return files


def _image_content(contract: Contract, base_dir: Path) -> list[ContentImage]:
    images = []
    for name in contract.task.reference_files:
        file = base_dir / name
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not file.is_file():
            raise FileNotFoundError(f"contract {contract.id!r}: reference image {str(file)!r} not found; fix task.reference_files")
        media = mimetypes.guess_type(file.name)[0] or "image/png"
        # A data URI keeps the log self-contained when the contract folder moves.
        images.append(ContentImage(image=f"data:{media};base64,{base64.b64encode(file.read_bytes()).decode()}"))
    return images


def contract_sample(file: Path) -> Sample:
    """Build the sample of one contract: its id, task prompt (with reference images) and location."""
    contract = load_contract(file)
    base_dir = file.parent
    images = _image_content(contract, base_dir)
    prompt = contract.task.prompt
    return Sample(
        id=contract.id,
        input=[ChatMessageUser(content=[ContentText(text=prompt), *images])] if images else prompt,
        target=contract.task.reference_answer or "",
        metadata={
            CONTRACT_PATH_KEY: str(file),
            CONTRACT_DIR_KEY: str(base_dir),
            "contract_id": contract.id,
            "contract_version": contract.version,
            CONTRACT_HASH_KEY: contract_hash(contract, base_dir),
            "title": contract.title,
        },
    )


def contract_samples(contracts: str | Path, workspaces: str | Path | None = None) -> list[Sample]:
    """Build one sample per contract file; ``workspaces/<contract id>`` becomes a sample's workspace when it exists.

    Raises:
        ValueError: two files declare the same contract id.
        ContractError: a contract file is invalid (every problem listed).
    """
    samples: list[Sample] = []
    seen: dict[str, Path] = {}
    for file in contract_files(contracts):
        sample = contract_sample(file)
        sample_id = str(sample.id)
        if sample_id in seen:
            raise ValueError(f"contract id {sample_id!r} is declared by both {seen[sample_id]} and {file}; contract ids must be unique")
        seen[sample_id] = file
        if workspaces is not None and (Path(workspaces) / sample_id).is_dir():
            # File and command criteria are checked on the host, in this folder.
            sample.metadata = {**(sample.metadata or {}), WORKSPACE_KEY: str((Path(workspaces) / sample_id).resolve())}
        samples.append(sample)
    return samples


@task(name=registry_name_for("contract_eval"))
def contract_eval(
    contracts: str,
    jury: str | None = None,
    judges: str | None = None,
    responses: str | None = None,
    records: str | None = None,
    prices: str | None = None,
    workspaces: str | None = None,
) -> Task:
    """Evaluate contracts: each contract's task prompt is a sample, graded against that contract.

    Args:
        contracts: A contract file, or a folder whose YAML/JSON files are contracts.
        jury: A jury profile named in every contract, passed to the scorer.
        judges: Judge model names, comma-separated, passed to the scorer (wins over ``jury``).
        responses: Saved responses (JSON or JSONL by contract id). When given, the replay solver
            sets each completion and no solver model is called.
        records: A JSONL file the scorer appends each verdict record to.
        prices: A YAML price table for judge cost (US dollars per million tokens).
        workspaces: A folder with one sub-folder per contract id, holding the files that file
            and command criteria check.

    Returns:
        The task.
    """
    solver: Solver = replay_solver(responses) if responses else generate()
    return Task(
        dataset=MemoryDataset(contract_samples(contracts, workspaces), name=Path(contracts).stem),
        solver=solver,
        scorer=contract_scorer(jury=jury, judges=judges, records=records, prices=prices),
    )
