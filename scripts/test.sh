#!/usr/bin/env bash
# make test: set up what the suite needs, then run the bot's tests (Python 3.10 env) and the
# desk's tests (Python 3.11 env) against the real PostgreSQL, Redis and Rasa on 127.0.0.1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false

say "Python environments"
ensure_envs
say "PostgreSQL and Redis on 127.0.0.1"
ensure_test_services
say "Chromium for browser tests"
ensure_chromium
say "bot model"
BOT_VENV="$ROOT/.venv-bot" bash scripts/train_bot.sh | tail -n 1

say "lint: ruff and mypy (desk)"
.venv/bin/ruff check .
.venv/bin/mypy agent_desk channels
say "bot tests (tests/bot)"
.venv-bot/bin/python -m pytest tests/bot -q -p no:cacheprovider "$@"
say "desk tests"
.venv/bin/python -m pytest tests -q --ignore=tests/bot -p no:cacheprovider "$@"
