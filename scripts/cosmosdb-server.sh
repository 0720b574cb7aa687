#!/usr/bin/env bash
# @vercel/cosmosdb-server (npm, an in-memory Cosmos DB look-alike in Node), a second Cosmos
# DB test server that is a real HTTPS server, for the Rust SDK azure_data_cosmos 1.0.0.
# It runs behind scripts/cosmosdb-server/adapter.js, which fixes the protocol differences
# the SDK cannot get past (numeric partition key range ids, 500 for a missing item,
# non-atomic batches, partition-scoped queries, advertised endpoints; see that file).
#
#   scripts/cosmosdb-server.sh install          # @vercel/cosmosdb-server@1.0.1 into
#                                               #   target/cosmosdb-server (once)
#   eval "$(scripts/cosmosdb-server.sh start)"  # starts it on a free 127.0.0.1 port and sets
#                                               #   KVS_COSMOS_ENDPOINT, KVS_COSMOS_KEY,
#                                               #   KVS_COSMOS_SERVER_PID and the SDK's
#                                               #   AZURE_COSMOS_* settings (see below)
#   cargo test ...
#   scripts/cosmosdb-server.sh stop             # stops $KVS_COSMOS_SERVER_PID (or: stop PID)
#
# The package goes to KVS_COSMOSDB_SERVER_DIR (default: target/cosmosdb-server in the
# repository). The server's log goes to KVS_COSMOSDB_SERVER_LOG (default: a file in the
# temporary folder); KVS_COSMOSDB_ADAPTER_TRACE=1 logs every request. With
# KVS_COSMOSDB_SERVER_NO_SSL=1 it serves plain HTTP (the SDK allows http:// for loopback
# hosts only). `start` prints only the `export` lines on standard output.
#
# The client settings exported by `start` (azure_data_cosmos reads them from the
# environment when the client is built): HTTP/2 off (the server speaks HTTP/1.1 only),
# certificate validation off for the emulator (the package's self-signed certificate;
# honoured only for loopback hosts), binary encoding off (the server reads JSON only).
set -euo pipefail

PACKAGE=@vercel/cosmosdb-server
VERSION=1.0.1
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${KVS_COSMOSDB_SERVER_DIR:-$REPO/target/cosmosdb-server}"
PKG_DIR="$DIR/node_modules/$PACKAGE"
ADAPTER="$REPO/scripts/cosmosdb-server/adapter.js"
READY_TIMEOUT="${KVS_COSMOSDB_SERVER_READY_TIMEOUT:-30}"
# The Cosmos DB emulator's published, well-known key (the server checks no signature).
EMULATOR_KEY='C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=='

say() { echo "cosmosdb-server.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

need_node() {
    command -v node >/dev/null 2>&1 || die "node is not installed ($PACKAGE $VERSION needs Node 20 or newer)"
    node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
        die "$PACKAGE $VERSION needs Node 20 or newer; node is $(node --version)"
}

# True when DIR holds the package at VERSION and it loads.
installed() {
    [[ -f "$PKG_DIR/package.json" ]] || return 1
    node - "$PKG_DIR" "$VERSION" >/dev/null 2>&1 <<'EOF'
const [dir, version] = process.argv.slice(2);
if (require(dir + "/package.json").version !== version) process.exit(1);
require(dir + "/lib/index.js");
EOF
}

cmd_install() {
    need_node
    if installed; then
        say "$PACKAGE $VERSION is already installed in $DIR"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm is not installed"
    mkdir -p "$DIR"
    [[ -f "$DIR/package.json" ]] || echo '{ "private": true }' >"$DIR/package.json"
    say "installing $PACKAGE@$VERSION into $DIR"
    (cd "$DIR" && npm install --no-audit --no-fund --omit=dev --save-exact "$PACKAGE@$VERSION" >&2) ||
        die "npm could not install $PACKAGE@$VERSION (is the npm registry reachable?)"
    installed || die "$PACKAGE $VERSION was installed into $DIR but does not load"
    say "$PACKAGE $VERSION installed in $DIR"
}

free_port() {
    node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# True once the server at $1 answers GET / with the account document.
answers() {
    node - "$1" >/dev/null 2>&1 <<'EOF'
const url = new URL(process.argv[2]);
const get = (url.protocol === "https:" ? require("https") : require("http")).get;
const req = get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => process.exit(res.statusCode === 200 && JSON.parse(body).writableLocations ? 0 : 1));
});
req.on("error", () => process.exit(1));
req.on("timeout", () => process.exit(1));
EOF
}

cmd_start() {
    need_node
    installed || die "$PACKAGE $VERSION is not installed in $DIR: run scripts/cosmosdb-server.sh install first"
    [[ -f "$ADAPTER" ]] || die "the adapter $ADAPTER is missing"
    local scheme=https ssl_flag=()
    if [[ "${KVS_COSMOSDB_SERVER_NO_SSL:-}" == 1 ]]; then
        scheme=http
        ssl_flag=(--no-ssl)
    fi
    local attempt port endpoint pid deadline log
    # A port found free can be taken before the server binds it: then try another.
    for attempt in 1 2 3; do
        port="$(free_port)"
        endpoint="$scheme://127.0.0.1:$port/"
        log="${KVS_COSMOSDB_SERVER_LOG:-${TMPDIR:-/tmp}/kvs-cosmosdb-server-$port.log}"
        say "starting $PACKAGE $VERSION on $endpoint (log: $log)"
        node "$ADAPTER" --package "$PKG_DIR" --host 127.0.0.1 --port "$port" "${ssl_flag[@]}" \
            </dev/null >"$log" 2>&1 &
        pid=$!
        deadline=$((SECONDS + READY_TIMEOUT))
        while ((SECONDS < deadline)); do
            if ! kill -0 "$pid" 2>/dev/null; then
                say "the server exited before answering (attempt $attempt); its log:"
                tail -n 20 "$log" >&2 || true
                continue 2
            fi
            if answers "$endpoint"; then
                say "the server is ready on $endpoint (PID $pid)"
                echo "export KVS_COSMOS_ENDPOINT=$endpoint"
                echo "export KVS_COSMOS_KEY='$EMULATOR_KEY'"
                echo "export KVS_COSMOS_SERVER_PID=$pid"
                echo "export AZURE_COSMOS_CONNECTION_POOL_IS_HTTP2_ALLOWED=false"
                echo "export AZURE_COSMOS_EMULATOR_SERVER_CERT_VALIDATION_DISABLED=true"
                echo "export AZURE_COSMOS_BINARY_ENCODING_ENABLED=false"
                return 0
            fi
            sleep 0.2
        done
        kill "$pid" 2>/dev/null || true
        tail -n 20 "$log" >&2 || true
        die "the server did not answer on $endpoint within ${READY_TIMEOUT}s"
    done
    die "the server could not start (3 attempts)"
}

cmd_stop() {
    local pid="${1:-${KVS_COSMOS_SERVER_PID:-}}"
    [[ -n "$pid" ]] || die "no server to stop: KVS_COSMOS_SERVER_PID is not set (and no PID was given)"
    [[ "$pid" =~ ^[0-9]+$ ]] || die "not a process id: $pid"
    if ! kill -0 "$pid" 2>/dev/null; then
        say "the server $pid is not running"
        return 0
    fi
    # Never kill a process that is not the server (a stale PID reused by another program).
    if [[ -r "/proc/$pid/cmdline" ]]; then
        local cmdline
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
        [[ "$cmdline" == *cosmosdb-server/adapter.js* ]] ||
            die "process $pid is not the Cosmos DB test server ($cmdline); not stopping it"
    fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || {
            say "the server $pid stopped"
            return 0
        }
        sleep 0.1
    done
    say "the server $pid did not stop on SIGTERM within 5s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop "${2:-}" ;;
*)
    echo "usage: scripts/cosmosdb-server.sh install | start | stop [PID]" >&2
    echo '  eval "$(scripts/cosmosdb-server.sh start)" sets KVS_COSMOS_ENDPOINT, KVS_COSMOS_KEY,' >&2
    echo '  KVS_COSMOS_SERVER_PID and the AZURE_COSMOS_* client settings' >&2
    exit 2
    ;;
esac
