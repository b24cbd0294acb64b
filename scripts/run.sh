#!/usr/bin/env bash
# make run: everything on one machine, nothing installed beforehand.
#   Creates both Python environments (cached), trains the bot when its inputs changed,
#   starts a private redis-server unless REDIS_URL is set, uses a SQLite file unless
#   DATABASE_URL is set, migrates, creates demo accounts (dev), then starts the action
#   server, Rasa and the desk and prints the URLs. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

RUN="$ROOT/.run"; mkdir -p "$RUN"
export DESK_ENV="${DESK_ENV:-dev}"
export DESK_PORT="${DESK_PORT:-8000}" BOT_PORT="${BOT_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
export BOT_URL="http://127.0.0.1:$BOT_PORT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false  # no network calls to Rasa's telemetry service
secret_file="$RUN/secrets.env"
if [ ! -f "$secret_file" ]; then  # per-checkout random secrets, never committed
  umask 077
  printf 'BOT_API_TOKEN=%s\nDESK_SERVICE_TOKEN=%s\nDESK_SECRET_KEY=%s\n' \
    "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" "$(openssl rand -hex 32)" > "$secret_file"
fi
set -a; source "$secret_file"; set +a

# One stack per checkout: a second `make run` must not take over run.pid (make stop would then
# lose the running one) nor truncate its logs.
if [ -f "$RUN/run.pid" ] && kill -0 "$(cat "$RUN/run.pid")" 2>/dev/null; then
  die "already running (pid $(cat "$RUN/run.pid")); \`make stop\` first, or use another checkout"
fi

PIDS=()
cleanup() {  # cleanup <exit status>
  local status="${1:-0}"
  # Ignore further INT/TERM while stopping: a second Ctrl-C, or make passing the signal on,
  # must not kill this script half-way and leave servers running.
  trap '' INT TERM
  trap - EXIT
  say "stopping"
  [ "$(cat "$RUN/run.pid" 2>/dev/null)" = "$$" ] && rm -f "$RUN/run.pid"
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
for port in "$DESK_PORT" "$BOT_PORT" "$ACTION_PORT"; do
  port_open 127.0.0.1 "$port" && die "port $port is in use (set DESK_PORT/BOT_PORT/ACTION_PORT)"
done

trap 'cleanup 0' INT TERM
trap 'cleanup $?' EXIT
echo $$ > "$RUN/run.pid"   # `make stop` sends TERM here; cleanup stops every server

declare -A CMD CWD PID_OF  # per server: how to (re)start it, and its current pid
start() {  # start <name> <cwd> <cmd...>: own process group, log in .run/<name>.log
  local name="$1" cwd="$2"; shift 2
  CMD[$name]="$(printf '%q ' "$@")"; CWD[$name]="$cwd"
  # Keep the previous run's log (a crash is read after the fact), appended to on restarts.
  [ -z "${PID_OF[$name]:-}" ] && [ -f "$RUN/$name.log" ] && mv -f "$RUN/$name.log" "$RUN/$name.log.1"
  (cd "$cwd" && exec setsid "$@") >>"$RUN/$name.log" 2>&1 &
  PIDS+=("$!"); PID_OF[$name]="$!"
}
restart() {  # restart <name>: same command, same log
  local name="$1"
  (cd "${CWD[$name]}" && eval "exec setsid ${CMD[$name]}") >>"$RUN/$name.log" 2>&1 &
  PIDS+=("$!"); PID_OF[$name]="$!"
}

say "preparing Python environments"
ensure_envs

say "bot model (trained only when its inputs changed)"
MODEL="$(BOT_VENV="$ROOT/.venv-bot" bash scripts/train_bot.sh | tail -n 1)"

if [ -z "${REDIS_URL:-}" ]; then
  ensure_redis_binary
  REDIS_PORT="${REDIS_PORT:-6390}"
  port_open 127.0.0.1 "$REDIS_PORT" && die "port $REDIS_PORT is in use (set REDIS_PORT or REDIS_URL)"
  mkdir -p "$RUN/redis"
  start redis "$ROOT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN/redis" --appendonly yes \
    --save ""
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  for _ in $(seq 1 50); do port_open 127.0.0.1 "$REDIS_PORT" && break; sleep 0.2; done
  say "private redis-server on 127.0.0.1:$REDIS_PORT (data in .run/redis)"
fi

say "database: ${DATABASE_URL:-SQLite file .run/desk.sqlite3}"
.venv/bin/python -m agent_desk.cli migrate
if [ "$DESK_ENV" = dev ]; then
  say "demo accounts (dev mode only):"
  .venv/bin/python -m agent_desk.cli seed-demo
fi

say "starting the action server, Rasa and the desk"
export DESK_URL="http://127.0.0.1:$DESK_PORT"
printf 'action_endpoint:\n  url: "http://127.0.0.1:%s/webhook"\n' "$ACTION_PORT" > "$RUN/endpoints.yml"
start actions "$ROOT/bot" env SANIC_HOST=127.0.0.1 ../.venv-bot/bin/rasa run actions --actions actions -p "$ACTION_PORT"
ACTIONS_PID="${PIDS[-1]}"
start rasa "$ROOT/bot" ../.venv-bot/bin/rasa run --enable-api --auth-token "$BOT_API_TOKEN" -i 127.0.0.1 \
  -p "$BOT_PORT" --model "$MODEL" --endpoints "$RUN/endpoints.yml" --credentials credentials.yml
RASA_PID="${PIDS[-1]}"
# No access log: the desk's own JSON log and the audit table record what matters, masked.
start desk "$ROOT" .venv/bin/uvicorn agent_desk.asgi:app --host "${DESK_HOST:-127.0.0.1}" --port "$DESK_PORT" \
  --no-access-log
DESK_PID="${PIDS[-1]}"

wait_http "http://127.0.0.1:$ACTION_PORT/health" 120 "action server" "$ACTIONS_PID"
wait_http "http://127.0.0.1:$BOT_PORT/status?token=$BOT_API_TOKEN" 300 "Rasa server" "$RASA_PID"
# Warm-up: Rasa loads jieba's dictionary on the first message.
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$BOT_PORT/model/parse?token=$BOT_API_TOKEN" \
  -H 'Content-Type: application/json' -d '{"text":"你好"}' || die "Rasa warm-up parse failed"
wait_http "http://127.0.0.1:$DESK_PORT/healthz" 60 "desk" "$DESK_PID"

cat >&2 <<EOT

  政务服务智能客服 is running (Ctrl-C stops everything):
    citizen widget   http://127.0.0.1:$DESK_PORT/widget
    agent workspace  http://127.0.0.1:$DESK_PORT/agent
    manager reports  http://127.0.0.1:$DESK_PORT/reports
    manager accounts http://127.0.0.1:$DESK_PORT/staff
  logs in .run/*.log; Rasa API on 127.0.0.1:$BOT_PORT (token in .run/secrets.env)

EOT
# Supervision. Without Rasa or the action server the desk still works: it hands every new
# question to a person (docs/operations.md), so those two are restarted (a few times, with a
# pause) while the desk stays up. Without the desk or Redis nothing works: stop everything.
declare -A RESTARTS STARTED
# Polled rather than `wait -n`: a server that exits while another is being restarted has been
# reaped by then, and `wait -n` would never report it.
while true; do
  sleep 2
  for name in "${!PID_OF[@]}"; do
    kill -0 "${PID_OF[$name]}" 2>/dev/null && continue
    case "$name" in
      rasa|actions)
        # Five restarts per incident: a server that then ran for 10 minutes starts a new count.
        [ $(( SECONDS - ${STARTED[$name]:-0} )) -gt 600 ] && RESTARTS[$name]=0
        RESTARTS[$name]=$(( ${RESTARTS[$name]:-0} + 1 ))
        if [ "${RESTARTS[$name]}" -gt 5 ]; then
          say "$name exited again (see .run/$name.log); not restarting it: the desk hands questions to agents"
          unset "PID_OF[$name]"
          continue
        fi
        say "$name exited (see .run/$name.log); restarting it (attempt ${RESTARTS[$name]} of 5)"
        sleep 3
        restart "$name"
        STARTED[$name]=$SECONDS
        ;;
      *)
        say "$name exited unexpectedly; stopping everything (see .run/$name.log)"
        exit 1
        ;;
    esac
  done
done
