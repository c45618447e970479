#!/usr/bin/env bash
# Set up the host (packages, crun fix, npm deps, build) and run the whole
# test suite. This is the README's second command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
exec node scripts/run-tests.mjs "$@"
