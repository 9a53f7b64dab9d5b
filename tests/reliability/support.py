"""Helpers for the reliability tests: replay scripts, grading through Inspect's model API, figures."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asymmetryzero_inspect import replay
from shared_contract.audit import VerdictRecord
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine, JuryLimits
from shared_contract.schema import Contract

# When this variable names a file, tests merge the figures they measure into it (JSON object).
FIGURES_ENV = "ASYMMETRYZERO_RELIABILITY_FIGURES"

FAST_LIMITS = JuryLimits(max_concurrency=64, per_model_concurrency=64, backoff_base_s=0.0, backoff_max_s=0.0)


def write_script(path: Path, script: dict[str, Any]) -> Path:
    """Write a replay script as JSON and return its path."""
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def verdict_rule(judge: str, criterion: str, completion: str, tokens: tuple[int, int] = (100, 20)) -> dict[str, Any]:
    """Return a replay rule that gives one judge one completion on one criterion."""
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
    return {"judge": judge, "criterion": criterion, "replies": [{"completion": completion, "usage": usage}]}


def panel_contract(contract_id: str, criteria: Sequence[dict[str, Any]], judges: Sequence[str], **judging: Any) -> dict[str, Any]:
    """Return contract data whose default jury is one replay judge per name, seats named after them."""
    return {
        "id": contract_id,
        "task": {"prompt": "Answer the question in the material."},
        "criteria": list(criteria),
        "juries": {"panel": [{"model": f"replay/{name}", "name": name} for name in judges]},
        "default_jury": "panel",
        "judging": judging,
    }


async def grade_samples(
    contract: Contract,
    evidences: Sequence[Evidence],
    script: Path,
    limits: JuryLimits = FAST_LIMITS,
    backend_wrapper: Any = None,
) -> tuple[list[VerdictRecord], JuryEngine]:
    """Grade each evidence as sample ``0``, ``1``, ... with the contract's default jury on replay judges.

    Args:
        contract: A contract whose default jury seats ``replay/<name>`` models.
        evidences: One evidence per sample.
        script: The replay script every judge reads.
        limits: Concurrency and back-off of the jury engine.
        backend_wrapper: Optional callable that wraps the InspectBackend (to record requests).

    Returns:
        The records in sample order and the engine (its ``calls`` counts requests).
    """
    from inspect_ai.model import GenerateConfig, get_model

    assert contract.default_jury is not None
    # A fixed connection limit: Inspect's adaptive limit would shrink under the injected faults and
    # make timings depend on its history, which a soak must not measure.
    config = GenerateConfig(max_connections=limits.per_model_concurrency)
    panel = contract.juries[contract.default_jury]
    models = {judge.model: get_model(judge.model, config=config, script=str(script)) for judge in panel}
    backend: Any = InspectBackend(models)
    if backend_wrapper is not None:
        backend = backend_wrapper(backend)
    engine = JuryEngine(backend, limits=limits)
    grader = Grader(engine)
    records = await asyncio.gather(
        *(grader.grade(contract, evidence, sample_id=str(index)) for index, evidence in enumerate(evidences))
    )
    return list(records), engine


def grade_with_replay(
    contract: Contract,
    evidences: Sequence[Evidence],
    script: Path,
    limits: JuryLimits = FAST_LIMITS,
    backend_wrapper: Any = None,
) -> tuple[list[VerdictRecord], JuryEngine]:
    """Run ``grade_samples`` in a fresh event loop with fresh replay counters."""
    replay.reset_counters()
    return asyncio.run(grade_samples(contract, evidences, script, limits, backend_wrapper))


def record_figure(name: str, value: Any, command: str = "") -> None:
    """Merge one measured figure into the file named by ASYMMETRYZERO_RELIABILITY_FIGURES, if set.

    Args:
        name: Stable key of the figure, e.g. "faults.injected".
        value: A JSON-serialisable value.
        command: What produced it, when it is not the test run itself.
    """
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    path = Path(target)
    figures = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    figures[name] = {"value": value, "command": command} if command else {"value": value}
    path.write_text(json.dumps(figures, indent=2, sort_keys=True), encoding="utf-8")
