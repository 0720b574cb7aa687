#!/usr/bin/env bash
# Google's Cloud Firestore emulator (the machine image's Debian package
# google-cloud-cli-firestore-emulator, run with Java), for running the examples on
# Firestore. The tests need none of this: tests/firestore.rs starts its own emulator.
#
#   eval "$(scripts/firestore-emulator.sh start)"  # starts it on a free 127.0.0.1 port and
#                                                 #   sets FIRESTORE_EMULATOR_HOST,
#                                                 #   GOOGLE_CLOUD_PROJECT (if unset) and
#                                                 #   KVS_FIRESTORE_EMULATOR_PID
#   KVS_BACKEND=firestore cargo run --example quickstart --features firestore
#   scripts/firestore-emulator.sh stop              # stops $KVS_FIRESTORE_EMULATOR_PID
#
# The jar is KVS_FIRESTORE_EMULATOR_JAR, by default where the Debian package puts it. The
# emulator's log goes to KVS_FIRESTORE_EMULATOR_LOG (default: a file in the temporary
# folder). `start` prints only the `export` lines on standard output.
set -euo pipefail

JAR="${KVS_FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
READY_TIMEOUT="${KVS_FIRESTORE_EMULATOR_READY_TIMEOUT:-90}"
MAIN_CLASS=com.google.cloud.datastore.emulator.firestore.CloudFirestore

say() { echo "firestore-emulator.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# True once the emulator answers its root path with "Ok".
answers() {
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen("http://" + sys.argv[1] + "/", timeout=2) as r:
    assert b"Ok" in r.read()
EOF
}

cmd_start() {
    [[ -f "$JAR" ]] || die "the Firestore emulator jar is not at $JAR (install the Debian \
package google-cloud-cli-firestore-emulator, or set KVS_FIRESTORE_EMULATOR_JAR)"
    command -v java >/dev/null 2>&1 || die "java is not on PATH (the emulator needs Java 17+)"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to find a free port"
    local attempt port host pid deadline log
    # A port found free can be taken before the emulator binds it: then try another.
    for attempt in 1 2 3; do
        port="$(free_port)"
        host="127.0.0.1:$port"
        log="${KVS_FIRESTORE_EMULATOR_LOG:-${TMPDIR:-/tmp}/kvs-firestore-emulator-$port.log}"
        say "starting the Firestore emulator on $host (log: $log)"
        java -Xmx512m -cp "$JAR" "$MAIN_CLASS" start --host=127.0.0.1 --port="$port" \
            </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + READY_TIMEOUT))
        while ((SECONDS < deadline)); do
            if ! kill -0 "$pid" 2>/dev/null; then
                say "the emulator exited (attempt $attempt); its log:"
                tail -n 20 "$log" >&2 || true
                break
            fi
            if answers "$host"; then
                say "the Firestore emulator is ready on $host (PID $pid)"
                echo "export FIRESTORE_EMULATOR_HOST=$host"
                echo "export GOOGLE_CLOUD_PROJECT=${GOOGLE_CLOUD_PROJECT:-kvs-examples}"
                echo "export KVS_FIRESTORE_EMULATOR_PID=$pid"
                return 0
            fi
            sleep 0.5
        done
        kill "$pid" 2>/dev/null || true
    done
    die "the Firestore emulator did not start (see the log above)"
}

cmd_stop() {
    local pid="${1:-${KVS_FIRESTORE_EMULATOR_PID:-}}"
    [[ -n "$pid" ]] || die "no emulator to stop: KVS_FIRESTORE_EMULATOR_PID is not set (and no PID was given)"
    [[ "$pid" =~ ^[0-9]+$ ]] || die "not a process id: $pid"
    # Never kill a process that is not the emulator (a stale PID reused by another program).
    if ! grep -q "$MAIN_CLASS" "/proc/$pid/cmdline" 2>/dev/null; then
        say "process $pid is not running the emulator; nothing to stop"
        return 0
    fi
    kill "$pid"
    say "the Firestore emulator $pid stopped"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop "${2:-}" ;;
*) die "usage: $0 start | stop [PID]" ;;
esac
