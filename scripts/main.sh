#!/usr/bin/env bash
# Set up .venv with the offline local judge and run the main job on the embedded bundle.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
python scripts/install.py local
asymmetryzero demo --out out/main "$@"
