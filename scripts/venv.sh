# Source this file: it creates (once) and activates .venv with Python 3.12 from pyenv or PATH.
set -euo pipefail
export HARBOR_TELEMETRY=0 LITELLM_LOCAL_MODEL_COST_MAP=True
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ASYMMETRYZERO_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python=""
  pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root)"
  fi
  # A pyenv shim can exist for a version that is not selected, so each candidate must run.
  for candidate in "$pyenv_root/versions/3.12.1/bin/python3.12" python3.12; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
      python="$candidate"
      break
    fi
  done
  if [ -z "$python" ] && PYENV_VERSION=3.12.1 python3.12 --version >/dev/null 2>&1; then
    python="$(PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)')"
  fi
  if [ -z "$python" ]; then
    echo "error: Python 3.12 not found; install it (pyenv install 3.12.1) and run again" >&2
    exit 1
  fi
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
cd "$root"
