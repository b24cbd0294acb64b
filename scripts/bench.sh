#!/usr/bin/env bash
# make bench: start the whole stack on 127.0.0.1, run locust headless for a fixed time
# (citizens on socket.io + agents on HTTP), sample the desk's memory, and write the
# figures with this exact command to docs/benchmarks.md. Stops by itself.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
USERS="${BENCH_USERS:-30}" SPAWN="${BENCH_SPAWN_RATE:-5}" DURATION="${BENCH_DURATION:-60s}"
export DESK_PORT="${BENCH_DESK_PORT:-8100}" BOT_PORT="${BENCH_BOT_PORT:-5105}" ACTION_PORT="${BENCH_ACTION_PORT:-5155}"
export REDIS_PORT="${BENCH_REDIS_PORT:-6391}"
# Every simulated citizen comes from 127.0.0.1; the per-IP limit (300/60) is for real
# clients, so the benchmark lifts it. The per-citizen limit stays as in production.
export DESK_WEB_RATE_IP="${DESK_WEB_RATE_IP:-100000/60}"
OUT="$ROOT/.run/bench"; rm -rf "$OUT"; mkdir -p "$OUT"

ensure_envs
bash scripts/run.sh >"$OUT/stack.log" 2>&1 &
STACK=$!
# TERM, not INT: a background job of a non-interactive shell ignores SIGINT.
trap 'kill -TERM $STACK 2>/dev/null; wait $STACK 2>/dev/null || true' EXIT
for _ in $(seq 1 1800); do
  curl -fsS -o /dev/null "http://127.0.0.1:$DESK_PORT/healthz" 2>/dev/null && \
    grep -q "is running" "$OUT/stack.log" && break
  kill -0 $STACK 2>/dev/null || { tail -n 30 "$OUT/stack.log"; die "stack did not start"; }
  sleep 1
done
say "load: $USERS users for $DURATION"
DESK_PID="$(pgrep -f "uvicorn agent_desk.asgi:app.*--port $DESK_PORT" | head -1)"
( while kill -0 "$DESK_PID" 2>/dev/null; do ps -o rss= -p "$DESK_PID" >> "$OUT/desk_rss_kb.txt"; sleep 1; done ) &
SAMPLER=$!
BENCH_DESK_URL="http://127.0.0.1:$DESK_PORT" .venv/bin/locust -f loadtests/locustfile.py --headless \
  -u "$USERS" -r "$SPAWN" --run-time "$DURATION" --stop-timeout 10 --csv "$OUT/locust" --only-summary \
  >"$OUT/locust.log" 2>&1 || true
kill $SAMPLER 2>/dev/null || true
.venv/bin/python scripts/bench_report.py --out-dir "$OUT" \
  --command "make bench  (BENCH_USERS=$USERS BENCH_DURATION=$DURATION)" --doc docs/benchmarks.md
