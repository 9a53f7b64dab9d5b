"""Run the reliability suite and print the figures of RELIABILITY.md as Markdown.

Usage:
    python benchmarks/reliability_figures.py [--json FILE] [pytest arguments...]

The suite (tests/reliability plus tests/test_judge_cases.py, slow tests included) runs in a
subprocess. Tests write their measured figures to a JSON file named by
ASYMMETRYZERO_RELIABILITY_FIGURES; pass, fail and xfail counts come from pytest's JUnit XML.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUITE = ["tests/reliability", "tests/test_judge_cases.py"]
FIGURES_ENV = "ASYMMETRYZERO_RELIABILITY_FIGURES"


def machine() -> dict[str, Any]:
    """Describe the machine: CPU count and model, memory, Python and OS."""
    model = "unknown"
    memory_gb: float | None = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def outcomes(junit: Path) -> dict[str, Counter[str]]:
    """Count passed, failed, error, skipped and xfailed tests per test module from JUnit XML."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1] if case.get("classname") else "?"
        children = {child.tag for child in case}
        skipped = case.find("skipped")
        if "failure" in children:
            counts[module]["failed"] += 1
        elif "error" in children:
            counts[module]["error"] += 1
        elif skipped is not None and "xfail" in (skipped.get("type", "") + skipped.get("message", "")).lower():
            counts[module]["xfailed"] += 1
        elif skipped is not None:
            counts[module]["skipped"] += 1
        else:
            counts[module]["passed"] += 1
    return counts


def value(figures: dict[str, Any], name: str) -> Any:
    """Return a figure's value, or 'not measured' when the test that records it did not pass."""
    entry = figures.get(name)
    return entry["value"] if entry else "not measured"


def _tests(counts: dict[str, Counter[str]], module: str) -> str:
    found = counts.get(module, Counter())
    parts = [f"{found[key]} {key}" for key in ("passed", "failed", "error", "xfailed", "skipped") if found[key]]
    return ", ".join(parts) or "not run"


def table(figures: dict[str, Any], counts: dict[str, Counter[str]]) -> str:
    """Render the figures as a Markdown table."""
    rows = [
        ("Judge outputs", "hard-case file run by tests/test_judge_cases.py: cases / kinds", f"{value(figures, 'judge_outputs.case_file_cases')} / {value(figures, 'judge_outputs.case_file_kinds')}, each in both protocols"),
        ("Judge outputs", "case-file tests", _tests(counts, "test_judge_cases")),
        ("Judge outputs", "new hard completions (JSON / letter protocol)", f"{value(figures, 'judge_outputs.rows_json')} / {value(figures, 'judge_outputs.rows_grade_letter')}"),
        ("Judge outputs", "tests", _tests(counts, "test_judge_outputs")),
        ("Provider faults", "votes in the soak", value(figures, "faults.votes")),
        ("Provider faults", "judge calls / faults injected", f"{value(figures, 'faults.calls')} / {value(figures, 'faults.injected')}"),
        ("Provider faults", "faults by attempt status", value(figures, "faults.injected_by_status")),
        ("Provider faults", "votes retried and then valid", value(figures, "faults.votes_retried_and_valid")),
        ("Provider faults", "votes INVALID after retries ran out (by reason)", f"{value(figures, 'faults.votes_invalid_after_retries')} {value(figures, 'faults.invalid_by_reason')}"),
        ("Provider faults", "votes missing from records", value(figures, "faults.votes_missing")),
        ("Provider faults", "records without INVALID votes equal to the fault-free run", value(figures, "faults.records_equal_to_fault_free")),
        ("Provider faults", "seconds: fault-free run / run with faults", f"{value(figures, 'faults.seconds_fault_free')} / {value(figures, 'faults.seconds_with_faults')}"),
        ("Provider faults", "peak RSS of the test process (MB)", value(figures, "faults.peak_rss_mb")),
        ("Provider faults", "tests (a crash fails one)", _tests(counts, "test_provider_faults")),
        ("Prompt injection", "payloads (x 3 prompt layouts, plus a positive control each)", value(figures, "injection.payloads")),
        ("Prompt injection", "property examples: prompt structure / obedient judge", f"{value(figures, 'injection.material_property_examples')} / {value(figures, 'injection.obedient_property_examples')}"),
        ("Prompt injection", "tests (a leak fails one)", _tests(counts, "test_prompt_injection")),
        ("Secrets", "files searched: CLI run / Inspect eval", f"{value(figures, 'secrets.cli_files_searched')} / {value(figures, 'secrets.inspect_files_searched')}"),
        ("Secrets", "tests (a key found fails one)", _tests(counts, "test_secrets")),
        ("Contract fuzzing", "examples by strategy", value(figures, "fuzz.examples")),
        ("Contract fuzzing", "outcomes", value(figures, "fuzz.outcomes")),
        ("Contract fuzzing", "tests (another exception or a hang fails one)", _tests(counts, "test_contract_fuzz")),
        ("Size", "1 MB response: characters / requests / seconds / peak MB", f"{value(figures, 'size.megabyte_response_chars')} / {value(figures, 'size.megabyte_response_requests')} / {value(figures, 'size.megabyte_response_seconds')} / {value(figures, 'size.megabyte_response_peak_mb')}"),
        ("Size", "10,000 deterministic criteria: load s / load peak MB / grade s / grade peak MB", f"{value(figures, 'size.deterministic_10000_load_seconds')} / {value(figures, 'size.deterministic_10000_load_peak_mb')} / {value(figures, 'size.deterministic_10000_grade_seconds')} / {value(figures, 'size.deterministic_10000_grade_peak_mb')}"),
        ("Size", "10,000 criteria with a jury subset: votes / seconds / peak MB", f"{value(figures, 'size.jury_subset_votes')} / {value(figures, 'size.jury_subset_seconds')} / {value(figures, 'size.jury_subset_peak_mb')}"),
        ("Size", "validation seconds, 5,000 vs 20,000 criteria", value(figures, "size.validation_seconds_5000_vs_20000")),
        ("Size", "peak MB, 300 vs 1,200 requests on a 100 KB response", value(figures, "size.prompt_memory_mb_300_vs_1200_requests_100kb")),
        ("Size", "tests", _tests(counts, "test_size")),
        ("Harbor rewards", "verify runs: matrix / property examples", f"{value(figures, 'harbor.verify_matrix_runs')} / {value(figures, 'harbor.verify_property_examples')}"),
        ("Harbor rewards", "tests", _tests(counts, "test_harbor_rewards")),
    ]
    lines = ["| Area | Figure | Value |", "| --- | --- | --- |"]
    lines += [f"| {area} | {name} | {found} |" for area, name, found in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the machine, the command and the figures table; return pytest's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="Also write the raw figures, test counts and machine to this JSON file.")
    args, pytest_args = parser.parse_known_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        figures_file = Path(folder) / "figures.json"
        junit = Path(folder) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *SUITE, *pytest_args]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, env={**os.environ, FIGURES_ENV: str(figures_file)}, check=False)
        seconds = time.perf_counter() - started
        figures = json.loads(figures_file.read_text(encoding="utf-8")) if figures_file.is_file() else {}
        counts = outcomes(junit) if junit.is_file() else {}

    described = machine()
    print(f"\nMachine: {described['nproc']} CPUs ({described['cpu']}), {described['memory_gb']} GB, Python {described['python']}, {described['os']}")
    print(f"Command: python benchmarks/reliability_figures.py (pytest {' '.join(SUITE)}), {seconds:.0f} s, pytest exit code {finished.returncode}\n")
    print(table(figures, counts))
    if args.json:
        args.json.write_text(json.dumps({"machine": described, "figures": figures, "tests": counts, "seconds": round(seconds)}, indent=2), encoding="utf-8")
    return finished.returncode


if __name__ == "__main__":
    sys.exit(main())
