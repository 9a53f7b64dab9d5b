"""Time the jury comparison on one million votes per jury, from verdict records already in memory.

Default scale: 4 solvers x 5,000 tasks = 20,000 records per jury, 10 jury criteria per record
(200,000 criterion decisions) and 5 judges per jury, so 1,000,000 votes per jury and 2,000,000 in
all. Jury B's judges agree with jury A's decisions 90 % of the time; 1 % of votes are INVALID.

Steps timed separately:

1. building the synthetic ``VerdictRecord`` objects by validating plain dicts, the same work as
   loading after JSON parsing, which is not part of the analysis;
2. extracting the columnar form (``columns_from_records``), once per jury;
3. ``compare_columns``: pairing, every statistic of every group (overall and per solver) and the
   task-clustered bootstrap (2,000 resamples by default).

With ``--jsonl`` it also writes jury A's records as JSONL and times ``load_records`` on them
(pydantic validation of every vote).

Run: ``python benchmarks/bench_compare.py [--resamples 2000] [--jsonl]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from shared_contract.analysis.columns import columns_from_records
from shared_contract.analysis.compare import compare_columns
from shared_contract.analysis.gc_pause import garbage_collection_paused
from shared_contract.analysis.sources import load_records
from shared_contract.audit import VerdictRecord, VoteVerdict

VERDICTS = (VoteVerdict.FAIL, VoteVerdict.PASS, VoteVerdict.INVALID)


def synthetic_votes(
    n_records: int, n_criteria: int, n_judges: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw vote codes (0 FAIL, 1 PASS, 2 INVALID) for both juries, shape (records, criteria, judges).

    Each criterion has a true PASS/FAIL state drawn with a per-task pass rate. Judges of A match it
    85 % of the time and judges of B 80 %, and 1 % of all votes are INVALID.
    """
    rng = np.random.default_rng(seed)
    pass_rate = rng.beta(3, 2, size=(n_records, 1))
    truth = rng.random((n_records, n_criteria)) < pass_rate
    juries = []
    for accuracy in (0.85, 0.80):
        correct = rng.random((n_records, n_criteria, n_judges)) < accuracy
        votes = np.where(correct, truth[..., np.newaxis], ~truth[..., np.newaxis]).astype(np.int8)
        votes[rng.random(votes.shape) < 0.01] = 2
        juries.append(votes)
    return juries[0], juries[1]


def build_records(
    votes: np.ndarray, solvers: list[str], n_tasks: int, jury: str, cost_per_vote: float, latency_s: float
) -> list[VerdictRecord]:
    """Build one jury's records from plain dicts with ``VerdictRecord.model_validate``.

    Decisions follow the strict majority of the panel and scores the share of PASS decisions.
    Validation from dicts is what loading does after parsing JSON; in pydantic 2.14 it is also
    about ten times faster per object than ``model_construct``, which runs in Python.
    """
    n_records, n_criteria, n_judges = votes.shape
    seats = [f"J{index + 1}" for index in range(n_judges)]
    models = [f"{jury}/judge-{index + 1}" for index in range(n_judges)]
    criterion_ids = [f"K{index:02d}" for index in range(n_criteria)]
    verdicts = [verdict.value for verdict in VERDICTS]
    timing = {"latency_s": latency_s}

    records = []
    for record_index in range(n_records):
        solver = solvers[record_index // n_tasks]
        task = record_index % n_tasks
        criteria = []
        passed_criteria = 0
        for criterion_index, criterion_id in enumerate(criterion_ids):
            codes = votes[record_index, criterion_index].tolist()
            passed, failed = codes.count(1), codes.count(0)
            if 2 * passed > n_judges:
                decision = "PASS"
                passed_criteria += 1
            elif 2 * failed > n_judges:
                decision = "FAIL"
            else:
                decision = "UNSCORED"
            criteria.append(
                {
                    "id": criterion_id,
                    "method": "jury",
                    "weight": 1.0,
                    "polarity": "positive",
                    "decision": decision,
                    "split": f"{max(passed, failed)}-{min(passed, failed)}",
                    "tally": {"panel": n_judges, "pass": passed, "fail": failed, "invalid": n_judges - passed - failed},
                    "votes": [
                        {"seat": seat, "model": model, "verdict": verdicts[code], "cost_usd": cost_per_vote, "timing": timing}
                        for seat, model, code in zip(seats, models, codes, strict=True)
                    ],
                }
            )
        score = passed_criteria / n_criteria
        records.append(
            VerdictRecord.model_validate(
                {
                    "contract_id": f"task-{task:05d}",
                    "contract_version": "1",
                    "contract_hash": f"hash-{task:05d}",
                    "sample_id": f"task-{task:05d}",
                    "epoch": 1,
                    "solver": solver,
                    "evidence_digest": "",
                    "jury": {"name": jury},
                    "criteria": criteria,
                    "score": score,
                    "outcome": "PASS" if score >= 0.6 else "FAIL",
                    "coverage": 1.0,
                    "totals": {
                        "cost_usd": cost_per_vote * n_criteria * n_judges,
                        "latency_s": latency_s * n_criteria * n_judges,
                    },
                }
            )
        )
    return records


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, else the machine type."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    """Build the data, run each step once and print the timings with the machine's CPU facts."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solvers", type=int, default=4, help="solvers (groups)")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks per solver (bootstrap clusters)")
    parser.add_argument("--criteria", type=int, default=10, help="jury criteria per record")
    parser.add_argument("--judges", type=int, default=5, help="judges per jury")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples per group")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jsonl", action="store_true", help="also time load_records on jury A written as JSONL")
    arguments = parser.parse_args()

    solvers = [f"solver-{index}" for index in range(arguments.solvers)]
    n_records = arguments.solvers * arguments.tasks
    n_votes = n_records * arguments.criteria * arguments.judges
    print(f"cpu: {cpu_model()}, {os.cpu_count()} logical CPUs, python {platform.python_version()}")
    print(
        f"data: {n_records:,} records per jury, {n_records * arguments.criteria:,} criterion decisions, "
        f"{arguments.judges} judges: {n_votes:,} votes per jury, {2 * n_votes:,} in all"
    )

    started = time.perf_counter()
    votes_a, votes_b = synthetic_votes(n_records, arguments.criteria, arguments.judges, arguments.seed)
    with garbage_collection_paused():
        records_a = build_records(votes_a, solvers, arguments.tasks, "jury-a", 0.0004, 1.2)
        records_b = build_records(votes_b, solvers, arguments.tasks, "jury-b", 0.0001, 0.6)
    print(f"build records (validated from dicts, not analysis): {time.perf_counter() - started:6.2f} s")

    started = time.perf_counter()
    columns_a = columns_from_records(records_a)
    columns_b = columns_from_records(records_b)
    extract_s = time.perf_counter() - started
    print(f"extract columns (both juries):                 {extract_s:6.2f} s")

    started = time.perf_counter()
    report = compare_columns(columns_a, columns_b, by="solver", n_resamples=arguments.resamples, seed=arguments.seed)
    compare_s = time.perf_counter() - started
    print(f"compare_columns ({len(report.groups)} groups, {arguments.resamples} resamples): {compare_s:6.2f} s")
    print(f"analysis from loaded records (extract + compare): {extract_s + compare_s:6.2f} s")

    overall = report.groups[0]
    print(
        f"overall: decision agreement {overall.decision_agreement.estimate:.4f} "
        f"[{overall.decision_agreement.low:.4f}, {overall.decision_agreement.high:.4f}], "
        f"Fleiss A {overall.juries['A'].fleiss_kappa.estimate:.4f}, "
        f"3-2 share A {overall.juries['A'].splits.narrowest_majority_share.estimate:.4f}"
    )

    if arguments.jsonl:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "jury-a.jsonl"
            path.write_text("\n".join(record.to_json(indent=None) for record in records_a) + "\n", encoding="utf-8")
            started = time.perf_counter()
            loaded = load_records(path)
            print(f"load_records on jury A JSONL ({len(loaded):,} records, validated): {time.perf_counter() - started:6.2f} s")
    # ru_maxrss is in KiB on Linux.
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
