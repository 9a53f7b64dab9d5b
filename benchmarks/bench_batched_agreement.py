"""Compare batched judging with per-criterion judging on the example contracts, with the local judge.

Run: python benchmarks/bench_batched_agreement.py [--n-threads 1] [--out results.json]

Each example contract (examples/contracts/*.yaml) grades its saved response
(examples/responses.jsonl) twice with one seat, the offline local judge
``local/qwen2.5-coder-1.5b``. The first pass sends one request per jury criterion, and the second
uses batched mode (one request for all binary jury criteria of the task). The script prints the
vote of each mode for every jury criterion, the number of criteria on which the two votes agree,
and the input and output tokens and judge calls of each mode.

The local judge runs on the CPU and takes 2 to 60 seconds per request, depending on the load of
the machine. Run it when the machine is quiet, or pass ``--n-threads 1`` when it is busy, because
llama.cpp threads wait for each other at every step and slow down sharply under competing load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared_contract.audit import VerdictRecord
from shared_contract.evidence import Evidence
from shared_contract.grading import Grader
from shared_contract.inspect_backend import InspectBackend
from shared_contract.jury import JuryEngine
from shared_contract.loading import load_contract
from shared_contract.schema import Contract, Judge, JudgingMode, Method

ROOT = Path(__file__).resolve().parent.parent
LOCAL_JUDGE = "local/qwen2.5-coder-1.5b"

logger = logging.getLogger(__name__)


@dataclass
class ModeTotals:
    """Judge usage and wall time of one judging mode over all contracts."""

    judge_calls: int = 0
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    wall_time_s: float = 0.0


@dataclass
class Comparison:
    """Per-criterion votes of both modes, and the usage of each mode.

    Each vote entry has the contract and criterion ids, the verdict of each mode, its parse status
    and the completion it came from.
    """

    votes: list[dict[str, str]] = field(default_factory=list)
    per_criterion: ModeTotals = field(default_factory=ModeTotals)
    batched: ModeTotals = field(default_factory=ModeTotals)

    @property
    def agreeing(self) -> int:
        """Number of jury criteria on which both modes gave the same vote."""
        return sum(1 for vote in self.votes if vote["per_criterion"] == vote["batched"])


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_responses(path: Path) -> dict[str, str]:
    """Read saved responses from a JSON Lines file of {"id": ..., "response": ...} objects."""
    responses: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            responses[str(item["id"])] = str(item["response"])
    return responses


def batched(contract: Contract) -> Contract:
    """Return a copy of the contract switched to batched judging."""
    return contract.model_copy(update={"judging": contract.judging.model_copy(update={"mode": JudgingMode.BATCHED})})


def _add_usage(totals: ModeTotals, record: VerdictRecord, wall_time_s: float) -> None:
    totals.judge_calls += record.totals.judge_calls
    totals.requests += record.totals.requests
    totals.input_tokens += record.totals.input_tokens
    totals.cached_input_tokens += record.totals.cached_input_tokens
    totals.output_tokens += record.totals.output_tokens
    totals.wall_time_s += wall_time_s


def _vote(record: VerdictRecord, criterion_id: str) -> dict[str, str]:
    """Return the seat's vote on a criterion with its parse status and the completion behind it."""
    result = next(result for result in record.criteria if result.id == criterion_id)
    if not result.votes:
        return {"verdict": result.decision.value, "status": result.reason or "", "completion": ""}
    vote = result.votes[0]
    return {"verdict": vote.verdict.value, "status": vote.parse_status, "completion": vote.completion or ""}


async def compare(contract_paths: list[Path], responses: dict[str, str], n_threads: int | None) -> Comparison:
    """Grade every contract's response in both modes with the local judge and collect the votes.

    Raises:
        KeyError: a contract has no saved response under its id.
    """
    from inspect_ai.model import get_model

    model_args = {"n_threads": n_threads} if n_threads is not None else {}
    backend = InspectBackend(models={LOCAL_JUDGE: get_model(LOCAL_JUDGE, **model_args)})
    grader = Grader(JuryEngine(backend))
    judges = [Judge(model=LOCAL_JUDGE)]
    comparison = Comparison()

    for path in contract_paths:
        contract = load_contract(path)
        if contract.id not in responses:
            raise KeyError(f"no saved response for contract {contract.id!r}; add a line with \"id\": {contract.id!r} to the responses file")
        evidence = Evidence(response=responses[contract.id])
        records: dict[str, VerdictRecord] = {}
        for mode, variant in (("per_criterion", contract), ("batched", batched(contract))):
            started = time.perf_counter()
            records[mode] = await grader.grade(variant, evidence, judges=judges, base_dir=path.parent, sample_id=contract.id)
            elapsed = time.perf_counter() - started
            _add_usage(getattr(comparison, mode), records[mode], elapsed)
            logger.info("graded %s in %s mode in %.1f s", contract.id, mode, elapsed)
        for criterion in contract.criteria:
            if criterion.method is Method.JURY:
                single = _vote(records["per_criterion"], criterion.id)
                joint = _vote(records["batched"], criterion.id)
                comparison.votes.append(
                    {
                        "contract": contract.id,
                        "criterion": criterion.id,
                        "per_criterion": single["verdict"],
                        "batched": joint["verdict"],
                        "per_criterion_status": single["status"],
                        "batched_status": joint["status"],
                        "per_criterion_completion": single["completion"],
                        "batched_completion": joint["completion"],
                    }
                )
    return comparison


def report(comparison: Comparison, load_before: tuple[float, float, float], load_after: tuple[float, float, float], n_threads: int | None) -> None:
    """Print the machine, the votes of both modes, their agreement and their usage."""
    print(f"Machine: nproc {os.cpu_count()}, CPU {cpu_model()!r}, Python {platform.python_version()}")
    print(f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); judge {LOCAL_JUDGE}, n_threads {n_threads or 'default'}\n")
    print("| contract | criterion | per-criterion vote | batched vote | agree |")
    print("|---|---|---|---|---|")
    for vote in comparison.votes:
        agree = "yes" if vote["per_criterion"] == vote["batched"] else "no"
        cells = [f"{vote[mode]} ({vote[mode + '_status']})" if vote[mode] == "INVALID" else vote[mode] for mode in ("per_criterion", "batched")]
        print(f"| {vote['contract']} | {vote['criterion']} | {cells[0]} | {cells[1]} | {agree} |")
    print(f"\nAgreement: {comparison.agreeing} / {len(comparison.votes)} criteria\n")
    print("| mode | judge calls | requests | input tokens | cached input tokens | output tokens | wall time |")
    print("|---|---|---|---|---|---|---|")
    for name, totals in (("per criterion", comparison.per_criterion), ("batched", comparison.batched)):
        print(
            f"| {name} | {totals.judge_calls} | {totals.requests} | {totals.input_tokens:,} | {totals.cached_input_tokens:,} "
            f"| {totals.output_tokens:,} | {totals.wall_time_s:.1f} s |"
        )
    if comparison.per_criterion.input_tokens:
        ratio = comparison.batched.input_tokens / comparison.per_criterion.input_tokens
        print(f"\nBatched input tokens: {ratio:.2f}x per-criterion")


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print it; optionally write it as JSON.

    Returns:
        0 after a complete run.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contracts", type=Path, nargs="+", default=sorted((ROOT / "examples" / "contracts").glob("*.yaml")), help="contract files")
    parser.add_argument("--responses", type=Path, default=ROOT / "examples" / "responses.jsonl", help="saved responses, JSON Lines with id and response")
    parser.add_argument("--n-threads", type=int, default=None, help="CPU threads for the local judge (default: half the CPUs)")
    parser.add_argument("--out", type=Path, default=None, help="write the votes and totals to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    load_before = os.getloadavg()
    comparison = asyncio.run(compare(args.contracts, load_responses(args.responses), args.n_threads))
    load_after = os.getloadavg()
    report(comparison, load_before, load_after, args.n_threads)
    if args.out is not None:
        data = {
            "votes": comparison.votes,
            "agreeing": comparison.agreeing,
            "criteria": len(comparison.votes),
            "per_criterion": asdict(comparison.per_criterion),
            "batched": asdict(comparison.batched),
            "load_average": {"before": load_before, "after": load_after},
            "n_threads": args.n_threads,
        }
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
