"""Time the jury-comparison statistics on synthetic data at product scale.

Default scale: two juries of 5 judges, each rating 200,000 criterion decisions spread over
20,000 tasks (1,000,000 votes per jury, 2,000,000 in all), plus one expert label per decision.
Votes are object arrays of Python strings with ``None`` for a missing vote, as they come out of
parsed verdict records. Bootstrap steps use task-clustered resampling.

Run: ``python benchmarks/bench_stats.py [--resamples 1000]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shared_contract.analysis.stats import (
    agreement_rate,
    classification_report,
    clustered_bootstrap_ratio_ci,
    cohen_kappa,
    cohen_kappa_bootstrap_ci,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    mcnemar_test,
    split_distribution,
)

PASS, FAIL, UNSCORED = "PASS", "FAIL", "UNSCORED"


def generate_data(
    n_decisions: int, n_tasks: int, n_judges: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build synthetic votes with task-level difficulty, so decisions within a task correlate.

    Returns:
        Task id per decision, jury A votes and jury B votes (decisions x judges, object arrays
        with None for a missing vote), and the expert label per decision.
    """
    rng = np.random.default_rng(seed)
    task_index = np.sort(rng.integers(0, n_tasks, size=n_decisions))
    task_ids = np.array([f"task-{index:05d}" for index in task_index], dtype=object)

    pass_rate_by_task = rng.beta(3, 2, size=n_tasks)
    truth = rng.random(n_decisions) < pass_rate_by_task[task_index]
    expert = np.where(rng.random(n_decisions) < 0.05, ~truth, truth)

    labels = np.array([FAIL, PASS], dtype=object)
    juries = []
    for judge_accuracy in (0.85, 0.80):
        correct = rng.random((n_decisions, n_judges)) < judge_accuracy
        votes_pass = np.where(correct, truth[:, np.newaxis], ~truth[:, np.newaxis])
        votes = labels[votes_pass.astype(np.int64)]
        votes[rng.random((n_decisions, n_judges)) < 0.01] = None
        juries.append(votes)
    return task_ids, juries[0], juries[1], labels[expert.astype(np.int64)]


def vote_counts(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count PASS and FAIL votes per decision and take the strict majority (UNSCORED on a tie)."""
    passed = np.count_nonzero(votes == PASS, axis=1)
    failed = np.count_nonzero(votes == FAIL, axis=1)
    decision = np.full(votes.shape[0], UNSCORED, dtype=object)
    decision[passed > failed] = PASS
    decision[failed > passed] = FAIL
    return passed, failed, decision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=200_000, help="criterion decisions per jury")
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks (bootstrap clusters)")
    parser.add_argument("--judges", type=int, default=5, help="judges per jury")
    parser.add_argument("--resamples", type=int, default=1_000, help="bootstrap resamples per interval")
    parser.add_argument("--seed", type=int, default=0, help="seed for the synthetic data")
    arguments = parser.parse_args()

    task_ids, jury_a, jury_b, expert = generate_data(
        arguments.decisions, arguments.tasks, arguments.judges, arguments.seed
    )
    resamples = arguments.resamples
    timings: list[tuple[str, float]] = []
    results: dict[str, Any] = {}

    def step(name: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = function()
        timings.append((name, time.perf_counter() - start))
        return value

    for name, jury in (("A", jury_a), ("B", jury_b)):
        results[f"fleiss {name}"] = step(f"fleiss_kappa jury {name}", lambda jury=jury: fleiss_kappa(jury).kappa)
        results[f"alpha {name}"] = step(f"krippendorff_alpha jury {name}", lambda jury=jury: krippendorff_alpha(jury))
        results[f"ac1 {name}"] = step(
            f"gwet_ac1 jury {name}", lambda jury=jury: gwet_ac1(jury, categories=(FAIL, PASS))
        )

    passed_a, failed_a, decision_a = step("vote counts + majority, jury A", lambda: vote_counts(jury_a))
    passed_b, failed_b, decision_b = step("vote counts + majority, jury B", lambda: vote_counts(jury_b))
    panel = arguments.judges
    results["3-2 share A"] = step(
        "split_distribution jury A", lambda: split_distribution(passed_a, failed_a, panel).narrowest_majority_share
    )
    results["3-2 share B"] = step(
        "split_distribution jury B", lambda: split_distribution(passed_b, failed_b, panel).narrowest_majority_share
    )

    # Jury-vs-jury and jury-vs-expert statistics use only decisions that both juries scored.
    both = (decision_a != UNSCORED) & (decision_b != UNSCORED)
    a_scored, b_scored, tasks_both, expert_both = decision_a[both], decision_b[both], task_ids[both], expert[both]
    results["agreement A-B"] = step("agreement_rate A vs B", lambda: agreement_rate(a_scored, b_scored))
    results["kappa A-B"] = step("cohen_kappa A vs B", lambda: cohen_kappa(a_scored, b_scored))
    results["report A"] = step(
        "classification_report A vs expert", lambda: classification_report(expert_both, a_scored)
    )
    results["report B"] = step(
        "classification_report B vs expert", lambda: classification_report(expert_both, b_scored)
    )
    a_correct = a_scored == expert_both
    b_correct = b_scored == expert_both
    results["mcnemar"] = step("mcnemar_test A vs B correctness", lambda: mcnemar_test(a_correct, b_correct))

    ones = np.ones(a_scored.shape[0])
    rate_inputs = {
        "agreement A-B": (a_scored == b_scored).astype(float),
        "accuracy A": a_correct.astype(float),
        "accuracy B": b_correct.astype(float),
        "pass rate A": (a_scored == PASS).astype(float),
        "pass rate B": (b_scored == PASS).astype(float),
    }
    for name, hits in rate_inputs.items():
        results[f"CI {name}"] = step(
            f"bootstrap {name} ({resamples} resamples)",
            lambda hits=hits: clustered_bootstrap_ratio_ci(hits, ones, tasks_both, n_resamples=resamples),
        )
    for name, truth, predicted in (("A-B", a_scored, b_scored), ("expert-A", expert_both, a_scored)):
        results[f"CI kappa {name}"] = step(
            f"bootstrap kappa {name} ({resamples} resamples)",
            lambda truth=truth, predicted=predicted: cohen_kappa_bootstrap_ci(
                truth, predicted, tasks_both, n_resamples=resamples
            ),
        )

    cpu_model = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    votes = 2 * arguments.decisions * arguments.judges
    print(f"CPU: {cpu_model}, {os.cpu_count()} logical CPUs, numpy {np.__version__}")
    print(
        f"Data: 2 juries x {arguments.judges} judges x {arguments.decisions} decisions ({votes} votes), "
        f"{arguments.tasks} tasks, {int(both.sum())} decisions scored by both juries"
    )
    print()
    width = max(len(name) for name, _ in timings)
    print(f"{'step':<{width}}  seconds")
    for name, seconds in timings:
        print(f"{name:<{width}}  {seconds:7.3f}")
    print(f"{'total':<{width}}  {sum(seconds for _, seconds in timings):7.3f}")
    print()
    for name, value in results.items():
        if hasattr(value, "low"):
            print(f"{name}: {value.estimate:.4f} [{value.low:.4f}, {value.high:.4f}]")
        elif hasattr(value, "accuracy"):
            print(f"{name}: accuracy {value.accuracy:.4f}, kappa {value.cohen_kappa:.4f}, F1 {value.f1:.4f}")
        elif hasattr(value, "p_value"):
            print(f"{name}: only A correct {value.n_only_a}, only B correct {value.n_only_b}, p = {value.p_value:.3g}")
        else:
            print(f"{name}: {value:.4f}")


if __name__ == "__main__":
    main()
