"""Install the project with the given extras into the running venv, showing progress.

Usage: python scripts/install.py test,local

llama-cpp-python (in the 'local' extra) is built from source; it is built for a portable CPU
target (GGML_NATIVE=OFF) because the native build crashed in the AMX kernels on this kind of
machine (llama-cpp-python 0.3.36). pip keeps the built wheel in its cache, so later installs are
quick. Without a terminal, pip's own output is shown instead of the progress bar.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    extras = sys.argv[1] if len(sys.argv) > 1 else "test"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]"]
    env = {**os.environ, "CMAKE_ARGS": os.environ.get("CMAKE_ARGS", "-DGGML_NATIVE=OFF"), "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    if not sys.stderr.isatty():
        print(f"installing asymmetryzero[{extras}] (a first build of llama-cpp-python takes about 5 minutes)", file=sys.stderr, flush=True)
        return subprocess.call(command, env=env)

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # pip reports no build progress, so the bar advances against an estimate of 5 minutes.
    estimate_s = 300.0 if "local" in extras else 60.0
    with Progress(TextColumn(f"installing asymmetryzero[{extras}]"), BarColumn(), TextColumn("estimate"), TimeElapsedColumn()) as progress:
        task = progress.add_task("install", total=estimate_s)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = time.monotonic()
        while process.poll() is None:
            progress.update(task, completed=min(time.monotonic() - started, estimate_s * 0.99))
            time.sleep(0.5)
        progress.update(task, completed=estimate_s)
        output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        print(output, file=sys.stderr)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
