"""Benchmark the jury engine: framework CPU per vote, and wall time against the concurrency bound.

Run: python benchmarks/bench_jury.py [--votes 5000] [--latency 0.05] [--concurrency 50]

Two judge paths are measured:
- ``direct``: an in-process backend that answers at once (or after the simulated latency), so the
  figure is the cost of our engine, parsing, aggregation and records alone;
- ``inspect``: the same votes through Inspect's model API with the replay provider, which adds
  Inspect's per-call work (events, usage accounting) to every vote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from shared_contract.backend import JudgeReply, JudgeRequest
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.jury import JuryEngine, JuryLimits
from shared_contract.loading import contract_from_data
from shared_contract.pricing import PriceTable

CRITERIA = 10
JUDGES = 5


class InstantBackend:
    """Answers every request with a fixed verdict after ``latency_s`` seconds."""

    def __init__(self, latency_s: float):
        self.latency_s = latency_s

    def accepts_images(self, model: str) -> bool:
        return False

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return JudgeReply('Looks fine.\n{"verdict": "PASS", "reason": "meets it"}', "stop", 400, 20)


def _contract(model_prefix: str) -> object:
    return contract_from_data(
        {
            "id": "bench",
            "task": {"prompt": "Summarise the report."},
            "criteria": [{"id": f"K{i}", "requirement": f"Requirement number {i}."} for i in range(CRITERIA)],
            "juries": {"panel": [{"model": f"{model_prefix}J{j}"} for j in range(JUDGES)]},
            "default_jury": "panel",
        }
    )


async def _run(engine: JuryEngine, contract: object, tasks: int) -> None:
    grader = Grader(engine)
    evidence = Evidence(response="A short report about quarterly numbers. " * 20)
    await asyncio.gather(*(grader.grade(contract, evidence, sample_id=str(i)) for i in range(tasks)))


def measure(path: str, votes: int, latency: float, concurrency: int) -> dict[str, float]:
    """Grade ``votes`` votes and return CPU seconds per vote, wall time and the bound."""
    tasks = votes // (CRITERIA * JUDGES)
    limits = JuryLimits(max_concurrency=concurrency, per_model_concurrency=concurrency)
    if path == "direct":
        contract = _contract("bench/")
        backend = InstantBackend(latency)
    else:
        from inspect_ai.model import get_model

        from shared_contract.inspect_backend import InspectBackend

        script = Path(tempfile.mkdtemp()) / "script.json"
        reply = {"completion": 'Looks fine.\n{"verdict": "PASS", "reason": "meets it"}', "usage": {"input_tokens": 400, "output_tokens": 20}}
        if latency:
            reply["delay_s"] = latency
        script.write_text(json.dumps({"rules": [{"replies": [reply]}]}), encoding="utf-8")
        contract = _contract("replay/")
        backend = InspectBackend({f"replay/J{j}": get_model(f"replay/J{j}", script=str(script)) for j in range(JUDGES)})
    engine = JuryEngine(backend, PriceTable.load(), limits=limits)

    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(_run(engine, contract, tasks))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = tasks * CRITERIA * JUDGES
    bound = done * latency / concurrency
    return {"votes": done, "cpu_ms_per_vote": 1000 * cpu / done, "wall_s": wall, "bound_s": bound, "ratio": wall / bound if bound else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="Simulated judge latency in seconds.")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    print(f"machine: {os.cpu_count()} cores, {cpu_model}, Python {sys.version.split()[0]}")
    print(f"{'path':8} {'latency':>8} {'votes':>6} {'cpu ms/vote':>12} {'wall s':>8} {'bound s':>8} {'wall/bound':>10}")
    for path in ("direct", "inspect"):
        for latency in (0.0, args.latency):
            row = measure(path, args.votes, latency, args.concurrency)
            print(
                f"{path:8} {latency:8.3f} {row['votes']:6d} {row['cpu_ms_per_vote']:12.3f} {row['wall_s']:8.2f} "
                f"{row['bound_s']:8.2f} {row['ratio']:10.3f}"
            )


if __name__ == "__main__":
    main()
