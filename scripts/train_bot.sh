#!/usr/bin/env bash
# Train the Rasa model, or reuse a cached one trained from identical inputs.
#
#   scripts/train_bot.sh            -> prints the model path as its last line
#
# The cache key is a sha256 over every training input (config, domain, NLU
# data, rules, stories, jieba dictionary, custom components, the shared
# normaliser and the pinned requirements). Models live in
# ${MODEL_CACHE_DIR:-$HOME/.cache/zhengwu-kefu/models}/<hash>.tar.gz and
# bot/models/current.tar.gz links to the one in use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOT_VENV="${BOT_VENV:-$ROOT/.venv-bot}"
CACHE_DIR="${MODEL_CACHE_DIR:-$HOME/.cache/zhengwu-kefu/models}"
PY="$BOT_VENV/bin/python"

if [ "$BOT_VENV" = "$ROOT/.venv-bot" ]; then
  # shellcheck source=lib.sh
  source "$ROOT/scripts/lib.sh"
  ensure_bot_env   # the cached Python 3.10 venv; created on first use
fi
[ -x "$PY" ] || { echo "error: bot venv $BOT_VENV has no python" >&2; exit 1; }

HASH="$(cd "$ROOT" && "$PY" - <<'PY'
import hashlib
from pathlib import Path

inputs = [
    "bot/config.yml", "bot/domain", "data/nlu", "data/rules", "data/stories",
    "data/jieba", "bot/components", "channels/normalize.py", "bot/requirements.txt",
]
digest = hashlib.sha256()
for item in inputs:
    path = Path(item)
    if not path.exists():
        raise SystemExit(f"training input {item} is missing")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for f in files:
        digest.update(f.as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
print(digest.hexdigest())
PY
)"

MODEL="$CACHE_DIR/$HASH.tar.gz"
mkdir -p "$CACHE_DIR" "$ROOT/bot/models"
# A link left pointing at a deleted cache entry breaks `rasa train` (it stats bot/models/*).
[ -e "$ROOT/bot/models/current.tar.gz" ] || rm -f "$ROOT/bot/models/current.tar.gz"

if [ -f "$MODEL" ]; then
  echo "using cached model for inputs $HASH" >&2
else
  echo "training model for inputs $HASH (this takes a few minutes on 2 CPUs)" >&2
  TMP_OUT="$(mktemp -d)"
  trap 'rm -rf "$TMP_OUT"' EXIT
  start=$(date +%s)
  (
    cd "$ROOT/bot"
    # RASA_MAX_CACHE_SIZE=0: Rasa's own training cache fingerprints a component's
    # config and inputs but not its code, so an edited custom component could be
    # reused stale. Our cache (above) is keyed by the code as well.
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false RASA_MAX_CACHE_SIZE=0 \
      "$PY" -m rasa train \
        --config config.yml --domain domain \
        --data ../data/nlu ../data/rules ../data/stories \
        --out "$TMP_OUT" --fixed-model-name "$HASH"
  ) >&2
  echo "training took $(( $(date +%s) - start ))s" >&2
  # Write under a temporary name, then rename: a half-written file is never a cache hit.
  cp "$TMP_OUT/$HASH.tar.gz" "$MODEL.partial"
  mv "$MODEL.partial" "$MODEL"
fi

ln -sfn "$MODEL" "$ROOT/bot/models/current.tar.gz"
echo "$MODEL"
