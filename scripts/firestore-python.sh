#!/usr/bin/env bash
# Google's Python client for Firestore (google-cloud-firestore, from PyPI), for the
# interop check of tests/firestore.rs: documents written by kvs, read by Google's own
# client, are ordinary Firestore values.
#
#   scripts/firestore-python.sh install   # a venv with google-cloud-firestore (once)
#   scripts/firestore-python.sh python    # prints the venv's python, for
#                                         #   KVS_FIRESTORE_PYTHON
#   KVS_FIRESTORE_PYTHON="$(scripts/firestore-python.sh python)" \
#       cargo test --test firestore python_client
#
# The venv is KVS_FIRESTORE_VENV, by default .venv-firestore in the repository
# (gitignored). The tests start the emulator themselves.
set -euo pipefail

FIRESTORE_PY_VERSION=2.34.1
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KVS_FIRESTORE_VENV:-$REPO/.venv-firestore}"

say() { echo "firestore-python.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

installed() {
    [[ -x "$VENV/bin/python" ]] || return 1
    "$VENV/bin/python" - "$FIRESTORE_PY_VERSION" >/dev/null 2>&1 <<'PY'
import importlib.metadata, sys
assert importlib.metadata.version("google-cloud-firestore") == sys.argv[1]
from google.cloud import firestore  # noqa: F401
PY
}

case "${1:-}" in
install)
    if installed; then
        say "google-cloud-firestore $FIRESTORE_PY_VERSION is installed in $VENV"
        exit 0
    fi
    command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
    python3 -m venv "$VENV" || die "could not create a venv at $VENV (install python3-venv)"
    "$VENV/bin/pip" install --quiet "google-cloud-firestore==$FIRESTORE_PY_VERSION" ||
        die "pip could not install google-cloud-firestore==$FIRESTORE_PY_VERSION"
    installed || die "google-cloud-firestore does not import after installing it"
    say "installed google-cloud-firestore $FIRESTORE_PY_VERSION in $VENV"
    ;;
python)
    installed || die "not installed: run scripts/firestore-python.sh install"
    echo "$VENV/bin/python"
    ;;
*)
    die "usage: $0 install|python"
    ;;
esac
