#!/usr/bin/env bash
# make eval: trains our pipeline and the baseline on a fixed split and writes docs/benchmarks.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_envs
PYTHONPATH="$ROOT" .venv-bot/bin/python scripts/eval_nlu.py "$@"
