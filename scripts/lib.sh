# Shared shell helpers for run.sh, test.sh and .ci/run. Source it; it defines functions only.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${ZWKF_CACHE:-$HOME/.cache/zhengwu-kefu}"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

hash_files() { cat "$@" | sha256sum | cut -c1-16; }

apt_install() {
  # Installs Debian packages when missing (root on this kind of machine; sudo elsewhere).
  local SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  say "installing $* through apt"
  $SUDO apt-get install -y -q "$@" >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q "$@" >/dev/null; }
}

# Some machines' pip config lists local index folders that do not exist; pip warns once per
# package about them. The warnings say nothing about this install, so they are dropped.
quiet_pip() { grep -v "is ignored: it is neither a file nor a directory" || true; }

# ensure_venv <link> <python> <key-files...> -- <pip args...>
# Virtualenvs live in the cache keyed by a hash of their requirement files, so a fresh
# clone reuses them; <link> in the checkout is a symlink to the cached one.
ensure_venv() {
  local link="$1" py="$2"; shift 2
  local keys=(); while [ "$1" != "--" ]; do keys+=("$1"); shift; done; shift
  local h; h="$(hash_files "${keys[@]}")"
  local target="$CACHE_ROOT/venvs/$(basename "$link")-$h"
  if [ -e "$link" ] && [ ! -L "$link" ] && [ -f "$link/.zwkf-hash" ] && [ "$(cat "$link/.zwkf-hash")" = "$h" ]; then
    return 0  # a real venv made in place with the same inputs
  fi
  if [ ! -f "$target/.zwkf-hash" ]; then
    say "creating $(basename "$link") ($py) — first time only, cached in $target"
    command -v "$py" >/dev/null || die "$py not found"
    rm -rf "$target"; mkdir -p "$(dirname "$target")"
    "$py" -m venv "$target"
    local log="$target.pip.log"
    if ! { "$target/bin/pip" install -q --upgrade pip && "$target/bin/pip" install "$@"; } >"$log" 2>&1; then
      quiet_pip <"$log" >&2; rm -rf "$target" "$log"; die "installing $(basename "$link") failed"
    fi
    quiet_pip <"$log" >&2; rm -f "$log"
    echo "$h" > "$target/.zwkf-hash"
  fi
  if [ -L "$link" ] || [ ! -e "$link" ]; then
    ln -sfn "$target" "$link"
  else
    say "$link is a local venv with other inputs; updating it in place"
    "$link/bin/pip" install -q "$@" >&2 && echo "$h" > "$link/.zwkf-hash"
  fi
}

python310() {
  # pyenv's shim may exist without 3.10 being selected, so each candidate must really run.
  local p
  for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 "$(command -v python3.10 2>/dev/null)"; do
    [ -x "$p" ] && "$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$p"; return 0; }
  done
  return 1
}

ensure_desk_env() {
  (cd "$ROOT" && ensure_venv "$ROOT/.venv" "$(command -v python3.11 || command -v python3)" \
    requirements/desk.lock -- -q -r requirements/desk.lock)
}

ensure_bot_env() {
  local py10; py10="$(python310)" || die "Python 3.10 is needed for Rasa 3.6 (install it, e.g. through pyenv)"
  (cd "$ROOT" && ensure_venv "$ROOT/.venv-bot" "$py10" bot/requirements.txt -- -q -r bot/requirements.txt)
}

ensure_envs() { ensure_desk_env && ensure_bot_env; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_http() {  # wait_http <url> <seconds> <what> [pid]
  local url="$1" secs="$2" what="$3" pid="${4:-}" i=0
  while [ "$i" -lt $((secs * 5)) ]; do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && die "$what exited; see its log in .run/"
    sleep 0.2; i=$((i + 1))
  done
  die "$what not ready after ${secs}s"
}

ensure_redis_binary() { command -v redis-server >/dev/null || apt_install redis-server; }

ensure_test_services() {
  # PostgreSQL and Redis on 127.0.0.1 (the machine's own), started or installed when missing.
  if ! port_open 127.0.0.1 5432; then
    if ! ls /etc/postgresql >/dev/null 2>&1; then apt_install postgresql; fi
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || die "cannot start PostgreSQL"
    for _ in $(seq 1 50); do port_open 127.0.0.1 5432 && break; sleep 0.2; done
  fi
  if ! port_open 127.0.0.1 6379; then
    ensure_redis_binary
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/redis-ci.log || die "cannot start Redis"
    for _ in $(seq 1 50); do port_open 127.0.0.1 6379 && break; sleep 0.2; done
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
  # Without a CJK font every Chinese character renders as a box: the browser tests' layout
  # checks and screenshots would judge boxes, not the real pages.
  fc-list :lang=zh 2>/dev/null | grep -q . || apt_install fonts-wqy-microhei
}
