#!/usr/bin/env bash
# What the tests need from the machine beyond the Python packages, for `make test` and `.ci/run` alike.
# The Debian packages missing for a test group (the table is tests/support/machine.py) are installed
# with apt-get when this runs as root; otherwise it says which cannot be, and the test run then names
# the groups it skips, when it starts and again in its summary.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t missing < <(python3 -m tests.support.machine packages)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "test-setup: installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "test-setup: cannot install ${missing[*]} (needs apt-get as root); the tests using them will skip" >&2
    fi
fi
