#!/usr/bin/env bash
# moto, a second DynamoDB test server (Python, from PyPI), for tests/dynamodb_moto.rs.
#
#   scripts/moto.sh install          # a venv with moto[dynamodb,server]==5.2.5 (once)
#   eval "$(scripts/moto.sh start)"  # starts it on a free 127.0.0.1 port and sets
#                                    #   KVS_MOTO_ENDPOINT and KVS_MOTO_PID
#   cargo test --test dynamodb_moto
#   scripts/moto.sh stop             # stops the server $KVS_MOTO_PID (or: stop PID)
#
# The venv is KVS_MOTO_VENV, by default .venv-moto in the repository (gitignored). The
# server's log goes to KVS_MOTO_LOG, by default moto.log in the venv. `start` prints
# only the `export` lines on standard output; everything else goes to standard error.
set -euo pipefail

MOTO_VERSION=5.2.5
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KVS_MOTO_VENV:-$REPO/.venv-moto}"
READY_TIMEOUT="${KVS_MOTO_READY_TIMEOUT:-30}"

say() { echo "moto.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# The system python3 (to create the venv and to find a free port).
need_python3() {
    command -v python3 >/dev/null 2>&1 ||
        die "python3 is not installed (moto needs Python 3.9 or newer: install python3 and python3-venv)"
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
        die "moto $MOTO_VERSION needs Python 3.9 or newer; python3 is $(python3 --version 2>&1)"
}

# True when the venv holds moto at MOTO_VERSION with what the server and DynamoDB need.
installed() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/moto_server" ]] || return 1
    "$VENV/bin/python" - "$MOTO_VERSION" >/dev/null 2>&1 <<'EOF'
import importlib.metadata, sys
assert importlib.metadata.version("moto") == sys.argv[1]
import flask, flask_cors, moto.server, moto.dynamodb.models  # the extras [server] and [dynamodb]
EOF
}

cmd_install() {
    need_python3
    if installed; then
        say "moto $MOTO_VERSION is already installed in $VENV"
        return 0
    fi
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -c 'import venv, ensurepip' 2>/dev/null ||
            die "python3 has no venv/ensurepip module (on Debian or Ubuntu: apt-get install python3-venv)"
        say "creating the venv $VENV"
        rm -rf "$VENV"
        python3 -m venv "$VENV" ||
            die "python3 -m venv $VENV failed (on Debian or Ubuntu: apt-get install python3-venv)"
    fi
    say "installing moto[dynamodb,server]==$MOTO_VERSION into $VENV (about a minute)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "moto[dynamodb,server]==$MOTO_VERSION" ||
        die "pip could not install moto[dynamodb,server]==$MOTO_VERSION (is PyPI reachable?)"
    installed || die "moto $MOTO_VERSION was installed into $VENV but does not import"
    say "moto $MOTO_VERSION installed in $VENV"
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True when the server at $1 answers HTTP (any status).
answers() {
    "$VENV/bin/python" - "$1" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2)
except urllib.error.HTTPError:
    pass
EOF
}

cmd_start() {
    need_python3
    installed || die "moto $MOTO_VERSION is not installed in $VENV: run scripts/moto.sh install first"
    local log="${KVS_MOTO_LOG:-$VENV/moto.log}"
    local attempt port endpoint pid deadline
    # A port found free can be taken before the server binds it: then try another.
    for attempt in 1 2 3; do
        port="$(free_port)"
        endpoint="http://127.0.0.1:$port"
        say "starting moto_server on $endpoint (log: $log)"
        "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + READY_TIMEOUT))
        while ((SECONDS < deadline)); do
            if ! kill -0 "$pid" 2>/dev/null; then
                say "moto_server exited before answering (attempt $attempt); its log:"
                tail -n 20 "$log" >&2 || true
                continue 2
            fi
            if answers "$endpoint"; then
                say "moto_server is ready on $endpoint (PID $pid)"
                echo "export KVS_MOTO_ENDPOINT=$endpoint"
                echo "export KVS_MOTO_PID=$pid"
                return 0
            fi
            sleep 0.2
        done
        kill "$pid" 2>/dev/null || true
        tail -n 20 "$log" >&2 || true
        die "moto_server did not answer on $endpoint within ${READY_TIMEOUT}s"
    done
    die "moto_server could not start (3 attempts); see $log"
}

cmd_stop() {
    local pid="${1:-${KVS_MOTO_PID:-}}"
    [[ -n "$pid" ]] || die "no server to stop: KVS_MOTO_PID is not set (and no PID was given)"
    [[ "$pid" =~ ^[0-9]+$ ]] || die "KVS_MOTO_PID is not a process id: $pid"
    if ! kill -0 "$pid" 2>/dev/null; then
        say "moto_server $pid is not running"
        return 0
    fi
    # Never kill a process that is not moto (a stale PID reused by another program).
    if [[ -r "/proc/$pid/cmdline" ]]; then
        local cmdline
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
        [[ "$cmdline" == *moto_server* ]] || die "process $pid is not a moto_server ($cmdline); not stopping it"
    fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || {
            say "moto_server $pid stopped"
            return 0
        }
        sleep 0.1
    done
    say "moto_server $pid did not stop on SIGTERM within 5s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop "${2:-}" ;;
*)
    echo "usage: scripts/moto.sh install | start | stop [PID]" >&2
    echo '  eval "$(scripts/moto.sh start)" sets KVS_MOTO_ENDPOINT and KVS_MOTO_PID' >&2
    exit 2
    ;;
esac
