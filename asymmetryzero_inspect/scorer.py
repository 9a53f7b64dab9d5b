"""The contract scorer: grade a sample's completion against its contract with the core Grader.

The scorer only gathers evidence and hands the verdict record to Inspect, because every
decision comes from the core. The core's jury engine turns judge and provider exceptions into
INVALID votes, so an exception from this scorer points to a configuration problem such as a
missing contract or an unknown jury name.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from asymmetryzero_inspect._naming import registry_name_for
from asymmetryzero_inspect.judges import RoleBackend, choose_panel, parse_model_names
from asymmetryzero_inspect.metrics import contract_metrics
from asymmetryzero_inspect.records import RecordWriter
from asymmetryzero_inspect.verdict_score import score_from_record
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.jury import JuryEngine
from shared_contract.loading import contract_hash, load_contract
from shared_contract.pricing import PriceTable
from shared_contract.schema import Contract, TargetKind

logger = logging.getLogger(__name__)

# Sample metadata keys read by the scorer (contract_eval writes them).
CONTRACT_PATH_KEY = "contract_path"
CONTRACT_DIR_KEY = "contract_dir"
WORKSPACE_KEY = "asymmetryzero_workspace"
CONTRACT_HASH_KEY = "contract_hash"


def contract_location(metadata: dict[str, Any] | None, sample_id: object) -> tuple[Path, Path]:
    """Return the sample's contract file and the folder its reference files are relative to.

    Raises:
        ValueError: the metadata has no contract path.
    """
    path = (metadata or {}).get(CONTRACT_PATH_KEY)
    if not path:
        raise ValueError(
            f"sample {sample_id!r} has no {CONTRACT_PATH_KEY!r} in its metadata; build samples with "
            f"asymmetryzero_inspect/contract_eval or set metadata {CONTRACT_PATH_KEY!r} to the contract file"
        )
    contract_file = Path(str(path)).expanduser().resolve()
    base = (metadata or {}).get(CONTRACT_DIR_KEY)
    return contract_file, Path(str(base)).expanduser().resolve() if base else contract_file.parent


def _warn_if_changed(contract: Contract, current: str, metadata: dict[str, Any] | None, warned: set[str]) -> None:
    """Log once per contract when its file changed since the sample was built (for example before a re-score)."""
    recorded = (metadata or {}).get(CONTRACT_HASH_KEY)
    if recorded and recorded != current and contract.id not in warned:
        warned.add(contract.id)
        logger.warning(
            "contract %s changed since the eval ran: sample hash %s, file hash %s; the new records carry the file's hash",
            contract.id, recorded, current,
        )


def _needs_trajectory(contract: Contract) -> bool:
    return any(contract.target_of(criterion).kind is TargetKind.TRAJECTORY for criterion in contract.criteria)


def _trajectory(state: TaskState) -> str:
    return json.dumps([message.model_dump(mode="json", exclude_none=True) for message in state.messages], ensure_ascii=False)


class _SharedEngine:
    """One JuryEngine per scorer instance, so its concurrency limits hold across all samples.

    The engine's asyncio semaphores belong to one event loop. A scorer reused under a new loop
    (two ``eval()`` calls with one Task object) therefore gets a new engine there.
    """

    def __init__(self, backend: RoleBackend, prices: PriceTable):
        self.backend = backend
        self.prices = prices
        self._loop: asyncio.AbstractEventLoop | None = None
        self._grader: Grader | None = None

    def grader(self) -> Grader:
        loop = asyncio.get_running_loop()
        if self._grader is None or self._loop is not loop:
            self._grader = Grader(JuryEngine(self.backend, prices=self.prices))
            self._loop = loop
        return self._grader


@scorer(metrics=contract_metrics(), name=registry_name_for("contract_scorer"))
def contract_scorer(
    jury: str | None = None,
    judges: str | list[str] | None = None,
    records: str | None = None,
    prices: str | None = None,
) -> Scorer:
    """Grade the completion against the sample's evaluation contract.

    Args:
        jury: A jury profile named in each contract (``-S jury=NAME``).
        judges: Judge model names, a list or comma-separated (``-S judges=a,b,c``); they win over ``jury``.
            With neither, the model role ``jury`` is used when bound, else the contract's default jury.
        records: A JSONL file to append each sample's verdict record to. The full record is
            always in the score's metadata as well.
        prices: A YAML price table (US dollars per million tokens) overriding the packaged one.

    Returns:
        A scorer whose value keys are listed in ``asymmetryzero_inspect.verdict_score.VALUE_KEYS``.
    """
    explicit = parse_model_names(judges)
    backend = RoleBackend()
    engine = _SharedEngine(backend, PriceTable.load(prices))
    writer = RecordWriter(records) if records else None
    contracts: dict[Path, tuple[Contract, str]] = {}
    warned: set[str] = set()

    async def score(state: TaskState, target: Target) -> Score:
        contract_file, base_dir = contract_location(state.metadata, state.sample_id)
        if contract_file not in contracts:
            loaded = load_contract(contract_file)
            contracts[contract_file] = (loaded, contract_hash(loaded, base_dir))
        contract, current_hash = contracts[contract_file]
        _warn_if_changed(contract, current_hash, state.metadata, warned)

        jury_name, panel = choose_panel(explicit, jury, backend)
        workspace = state.metadata.get(WORKSPACE_KEY)
        evidence = Evidence(
            response=state.output.completion,
            workspace=Path(workspace) if workspace else None,
            trajectory=_trajectory(state) if _needs_trajectory(contract) else None,
        )
        record = await engine.grader().grade(
            contract,
            evidence,
            judges=panel,
            jury=jury_name,
            base_dir=base_dir,
            sample_id=str(state.sample_id),
            epoch=state.epoch,
            solver=str(state.model),
            framework="inspect",
        )
        if writer is not None:
            writer.append(record)
        return score_from_record(record)

    return score
