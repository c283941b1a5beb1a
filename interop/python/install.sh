#!/bin/sh
# Make interop/python ready to run on this machine: Python >= 3.9 with the pinned `cryptography`
# (requirements.txt). Idempotent, and silent when everything is already there.
#
# Where it installs, in order of preference:
#   1. nothing, if `python3` (or $PYTHON) already imports cryptography >= 48;
#   2. that interpreter, with pip (a virtualenv, a user install, a conda env ...);
#   3. a private virtual environment interop/python/.venv, when pip refuses (PEP 668
#      "externally managed" system Pythons). btls-iut-py runs itself with .venv when it exists.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
VENV="$HERE/.venv"
PY=${PYTHON:-python3}
PIP_FLAGS="--quiet --disable-pip-version-check"

fail() { echo "install.sh: $*" >&2; exit 1; }

# ready PYTHON: true when PYTHON is >= 3.9 and imports cryptography >= 48.
ready() {
    "$1" - <<'PYEOF' 2>/dev/null
import sys
if sys.version_info < (3, 9):
    sys.exit(1)
import cryptography
sys.exit(0 if int(cryptography.__version__.split(".")[0]) >= 48 else 1)
PYEOF
}

command -v "$PY" >/dev/null 2>&1 || fail "$PY not found: install Python 3.9 or newer"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || fail "$("$PY" --version 2>&1) is too old: Python 3.9 or newer is required"

if [ -x "$VENV/bin/python3" ] && ready "$VENV/bin/python3"; then exit 0; fi
if ready "$PY"; then exit 0; fi

if "$PY" -m pip install $PIP_FLAGS -r "$HERE/requirements.txt" >/dev/null 2>&1 && ready "$PY"; then
    exit 0
fi

"$PY" -m venv "$VENV" >/dev/null 2>&1 \
    || fail "pip cannot install into $PY and '$PY -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
"$VENV/bin/python3" -m pip install $PIP_FLAGS -r "$HERE/requirements.txt" \
    || fail "pip could not install requirements.txt into $VENV"
ready "$VENV/bin/python3" || fail "$VENV still lacks cryptography >= 48"
