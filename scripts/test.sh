#!/usr/bin/env bash
# Set up .venv with the test extras (and the local judge for its smoke test) and run the test suite.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
python scripts/install.py test,local
python -m pytest -q -p no:cacheprovider "$@"
