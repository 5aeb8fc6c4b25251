#!/usr/bin/env bash
# Build the one-file binary dist/vcore-app from a checkout (what `make binary` runs).
# Sets up .venv if it is missing and installs the app with PyInstaller (the `binary` extra) into it.
# VCORE_ONEDIR=1 builds the one-folder variant dist/vcore-app-onedir/ instead (faster start).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -e '.[binary]'
"$VENV/bin/python" -m PyInstaller --noconfirm --log-level WARN vcore.spec
if [ "${VCORE_ONEDIR:-}" = 1 ]; then
    ls -l dist/vcore-app-onedir/vcore-app
else
    ls -l dist/vcore-app
fi
