"""Reads one document with Google's own Python client (google-cloud-firestore) and
prints each field as JSON: its Python type and its value (bytes in hex), so that
tests/firestore.rs can check that a document kvs wrote is an ordinary Firestore
document to other programs.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:PORT python firestore_read.py PROJECT COLLECTION ID
"""

import json
import sys

from google.cloud import firestore


def describe(value):
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", value]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if value is None:
        return ["null", None]
    if isinstance(value, list):
        return ["list", [describe(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", {k: describe(v) for k, v in sorted(value.items())}]
    return [type(value).__name__, repr(value)]


def main():
    project, collection, document_id = sys.argv[1:4]
    client = firestore.Client(project=project)
    snapshot = client.collection(collection).document(document_id).get()
    if not snapshot.exists:
        print(json.dumps(None))
        return
    fields = snapshot.to_dict()
    print(json.dumps({k: describe(v) for k, v in sorted(fields.items())}))


if __name__ == "__main__":
    main()
