#!/usr/bin/env bash
# Set up .venv with the test extras and run the whole test suite.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
python -m pip install --quiet -e ".[test]"
python -m pytest -q -p no:cacheprovider "$@"
