#!/usr/bin/env node
// Test infrastructure only: runs @vercel/cosmosdb-server 1.0.1 (an in-memory Cosmos DB
// look-alike written in Node) with the fixes the Rust SDK azure_data_cosmos 1.0.0 needs.
// Started by scripts/cosmosdb-server.sh; nothing here is used by kvs itself.
//
//   node adapter.js --package DIR --port N [--host 127.0.0.1] [--no-ssl] [--fixes LIST | --raw]
//
//   --package DIR  the installed node_modules/@vercel/cosmosdb-server
//   --no-ssl       plain HTTP (the SDK accepts http:// only for loopback hosts)
//   --fixes LIST   only the numbered fixes in LIST (e.g. 1,3); default: all of them
//   --raw          no fixes at all: the package as shipped (same as --fixes "")
//   KVS_COSMOSDB_ADAPTER_TRACE=1  log every request and answer to standard error
//
// The package is loaded in-process and patched through its own module objects (its
// compiled CommonJS reads `module.default` at call time), so every fix below is a
// small wrapper around the package's handler or store, not a reimplementation. Each fix
// names the mismatch it translates. The store, the SQL engine (@zeit/cosmosdb-query) and
// the status codes for everything else are the package's own.
"use strict";

const path = require("path");

function parseArgs(argv) {
    const args = { host: "127.0.0.1", ssl: true, fixes: new Set(["1", "2", "3", "4", "5", "6"]) };
    while (argv.length) {
        const key = argv.shift();
        switch (key) {
            case "--package": args.pkg = argv.shift(); break;
            case "--port": args.port = parseInt(argv.shift(), 10); break;
            case "--host": args.host = argv.shift(); break;
            case "--no-ssl": args.ssl = false; break;
            case "--raw": args.fixes = new Set(); break;
            case "--fixes": args.fixes = new Set(argv.shift().split(",").filter(Boolean)); break;
            default: throw new Error(`unknown argument ${key}`);
        }
    }
    if (!args.pkg || !Number.isInteger(args.port)) {
        throw new Error("usage: adapter.js --package DIR --port N [--host H] [--no-ssl] [--fixes LIST | --raw]");
    }
    return args;
}

const args = parseArgs(process.argv.slice(2));
const lib = (name) => require(path.join(args.pkg, "lib", name));
const TRACE = process.env.KVS_COSMOSDB_ADAPTER_TRACE === "1";

const PK_HEADER = "x-ms-documentdb-partitionkey";
const BODY = Symbol("kvs.body"); // the parsed request body, cached on the request
const PARTITION = Symbol("kvs.partition"); // a query's partition key value (see fix 4)

function notFound(res) {
    res.statusCode = 404;
    return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
}

function badRequest(res, message) {
    res.statusCode = 400;
    return { code: "BadRequest", message };
}

// The partition key header as a JSON array (`["a"]`), or undefined when absent.
// `[{}]` is how Cosmos spells "the key is undefined" (the field is missing).
function headerPartitionKey(req) {
    const raw = req.headers[PK_HEADER];
    if (raw === undefined) return undefined;
    const value = JSON.parse(Array.isArray(raw) ? raw[0] : raw);
    return Array.isArray(value) ? value : [value];
}

// The partition key value of a document, in the header's array form, for the collection's
// partition key paths (`/pk`, or nested `/a/b`); a missing field is `{}` as in the header.
function documentPartitionKey(collection, doc) {
    const getValue = lib("utils/get-value").default;
    const paths = ((collection.read() || {}).partitionKey || {}).paths || ["/id"];
    return paths.map((p) => {
        const v = getValue(p.slice(1).split("/"), doc);
        return v === undefined ? {} : v;
    });
}

const samePartitionKey = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function installFixes(on) {
    // Every handler reads its JSON body through lib/json.js; cache the parse on the
    // request so a fix can look at the body before the handler runs.
    const json = lib("json");
    const readJson = json.default;
    json.default = async (req) => {
        if (!(BODY in req)) req[BODY] = await readJson(req);
        return req[BODY];
    };

    // Fix 1 - partition key range ids. The package stores and returns the one range with
    // the number `id: 0` (and numeric `parents`); Cosmos returns strings, and the SDK
    // (PartitionKeyRange.id: String) fails to decode the routing map, so every
    // container-level call failed with 503/20305 ClientTopologyResolutionFailed.
    const pkRanges = (body) => {
        if (body && Array.isArray(body.PartitionKeyRanges)) {
            body.PartitionKeyRanges = body.PartitionKeyRanges.map((r) => ({
                ...r,
                id: String(r.id),
                parents: (r.parents || []).map(String),
            }));
        }
        return body;
    };

    // Fix 2 - reading a missing item. The package's read handler dereferences the missing
    // document (`data[path]`) and answers 500; Cosmos answers 404 NotFound.
    const readDocument = (handler) => async (account, req, res, params) => {
        const collection = account.database(params.dbId).collection(params.collId);
        if (!collection.read()) return notFound(res);
        const pk = headerPartitionKey(req);
        if (pk !== undefined) {
            const { parsePartitionKey } = lib("utils/get-partition-from-header");
            const key = parsePartitionKey(req.headers[PK_HEADER], params.docId);
            if (!collection.document(params.docId, key).read()) return notFound(res);
        }
        return handler(account, req, res, params);
    };

    // Fix 3 - transactional batches. (a) The SDK sends the batch's partition key once, in
    // the x-ms-documentdb-partitionkey header, and no `partitionKey` in the operations; the
    // package parses each operation's own `partitionKey`, throws on the missing one (500)
    // after the earlier operations were applied. The header is copied into each operation.
    // (b) Cosmos refuses (400) an operation whose body has another partition key than the
    // batch; the package would write it to the other partition.
    // (c) Atomicity: Cosmos applies all operations or none; the package applies them one by
    // one and keeps those before a failure. The collection's document maps are copied when
    // the batch's first operation starts and put back when an operation fails, both inside
    // the package's synchronous loop over the operations (so no other request can run in
    // between). The answer is then 207 Multi-Status with the failed operation's status and
    // 424 Failed Dependency for every other operation, as Cosmos answers.
    // (d) Reads inside a batch ignore `ifMatch`; Cosmos answers 412 when the ETag differs
    // (a read with if-match is how a batch states a condition on an item).
    const ops = lib("handler/_document-operations");
    const BATCH = Symbol("kvs.batch"); // set on each operation of an atomic batch
    const withRollback = (operation) => (collection, input) => {
        const state = input && input[BATCH];
        const docs = collection.documents;
        if (state && !state.snapshot) {
            state.snapshot = { data: new Map(docs._data), index: new Map(docs._index), ridCount: docs._ridCount };
        }
        const result = operation(collection, input);
        if (state && result.statusCode >= 400 && !state.failed) {
            state.failed = true;
            docs._data = state.snapshot.data;
            docs._index = state.snapshot.index;
            docs._ridCount = state.snapshot.ridCount;
        }
        return result;
    };
    const readWithIfMatch = (read) => (collection, input) => {
        const result = read(collection, input);
        if (result.statusCode === 200 && input.ifMatch && input.ifMatch !== result.body._etag) {
            return {
                statusCode: 412,
                body: { code: "PreconditionFailed", message: "Operation cannot be performed because one of the specified precondition is not met." },
            };
        }
        return result;
    };
    if (on("3")) {
        ops.readOperation = readWithIfMatch(ops.readOperation);
        for (const name of ["createOperation", "upsertOperation", "replaceOperation", "deleteOperation", "readOperation"]) {
            ops[name] = withRollback(ops[name]);
        }
    }
    const batch = (handler) => async (account, req, res, params) => {
        const collection = account.database(params.dbId).collection(params.collId);
        if (!collection.read()) return notFound(res);
        const body = await json.default(req);
        if (!Array.isArray(body)) return handler(account, req, res, params);
        const pk = headerPartitionKey(req);
        const atomic = String(req.headers["x-ms-cosmos-batch-atomic"] || "").toLowerCase() === "true";
        const state = { snapshot: null, failed: false };
        for (const op of body) {
            if (!op || typeof op !== "object") continue;
            if (pk !== undefined) {
                if (op.partitionKey === undefined) op.partitionKey = req.headers[PK_HEADER];
                if (op.resourceBody && !samePartitionKey(documentPartitionKey(collection, op.resourceBody), pk)) {
                    return badRequest(res, "The partition key of an operation does not match the batch's partition key.");
                }
            }
            if (atomic) Object.defineProperty(op, BATCH, { value: state, enumerable: false });
        }
        const results = await handler(account, req, res, params);
        if (!state.failed || res.statusCode >= 400 || !Array.isArray(results)) return results;
        const failed = results.findIndex((r) => r.statusCode >= 400 && r.statusCode !== 424);
        res.statusCode = 207;
        return results.map((r, i) => (i === failed ? r : { statusCode: 424, requestCharge: 0 }));
    };

    // Fix 4 - partition-scoped queries. The package runs every query over the whole
    // collection; with the x-ms-documentdb-partitionkey header Cosmos runs it over that
    // logical partition only. The query now sees only the documents of that partition.
    // The package also refuses (400 "missing partition keys") a query without the
    // cross-partition header unless its WHERE names the partition key; a query scoped by
    // the header (or by x-ms-documentdb-partitionkeyrangeid, which the SDK sends for each
    // range of a cross-partition query: the package has one range) is accepted by Cosmos.
    const Documents = lib("account/documents").default;
    const query = Documents.prototype.query;
    if (on("4")) Documents.prototype.query = function scopedQuery(params, options) {
        const pk = params && params[PARTITION];
        if (pk === undefined) return query.call(this, params, options);
        const collection = this._parent;
        const all = this._data;
        this._data = new Map([...all].filter(([, item]) => samePartitionKey(documentPartitionKey(collection, item.read()), pk)));
        try {
            return query.call(this, params, options);
        } finally {
            this._data = all;
        }
    };
    const queryDocuments = (handler) => async (account, req, res, params) => {
        const body = await json.default(req);
        const pk = headerPartitionKey(req);
        if (pk !== undefined && body && typeof body === "object") {
            Object.defineProperty(body, PARTITION, { value: pk, enumerable: false });
        }
        if (pk !== undefined || req.headers["x-ms-documentdb-partitionkeyrangeid"] !== undefined) {
            req.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
        }
        return handler(account, req, res, params);
    };

    // Fix 5 - advertised endpoints. The account document always names https:// endpoints;
    // the SDK then calls those. With --no-ssl they must be http://.
    const account = (body) => {
        if (!args.ssl && body) {
            for (const list of [body.writableLocations, body.readableLocations]) {
                for (const loc of list || []) {
                    loc.databaseAccountEndpoint = loc.databaseAccountEndpoint.replace(/^https:/, "http:");
                }
            }
        }
        return body;
    };

    // Keyed by the package's handler each fix wraps.
    const after = (post) => (handler) => async (...a) => post(await handler(...a));
    return new Map([
        ["1", "read-partition-key-ranges", after(pkRanges)],
        ["2", "read-document", readDocument],
        ["3", "batch-documents", batch],
        ["4", "query-documents", queryDocuments],
        ["5", "read-meta", after(account)],
    ].filter(([n]) => on(n)).map(([, name, wrap]) => [lib(`handler/${name}`).default, wrap]));
}

// Route-level hook: lib/index.js looks up `routes.default(req)` for every request.
function installRouteHook(fixes) {
    const routes = lib("routes");
    const route = routes.default;
    routes.default = (req) => {
        const found = route(req);
        if (!found) return found;
        let [params, handler] = found;
        if (fixes.has(handler)) handler = fixes.get(handler)(handler);
        if (TRACE) {
            const inner = handler;
            handler = async (account, req2, res, prm) => {
                const out = await inner(account, req2, res, prm);
                const h = Object.entries(req2.headers)
                    .filter(([k]) => (k.startsWith("x-ms-") && !["x-ms-date", "x-ms-version", "x-ms-client-id", "x-ms-cosmos-sdk-supportedcapabilities"].includes(k)) || k.startsWith("if-"))
                    .map(([k, v]) => `${k}=${v}`).join(" ");
                process.stderr.write(`${req2.method} ${req2.url} [${h}] ${req2[BODY] !== undefined ? JSON.stringify(req2[BODY]).slice(0, 300) : ""}\n` +
                    `  -> ${res.statusCode} ${out === undefined ? "" : JSON.stringify(out).slice(0, 300)}\n`);
                return out;
            };
        }
        return [params, handler];
    };
}

// Fix 6 - resource ids. Cosmos writes a resource id (`_rid`) in base64 with `/` replaced
// by `-`, since ids travel in URL paths; the package writes plain base64 (and reads back
// only the first `-`). From the 33rd database on, ids hold a `/`, and the SDK fails to
// parse them ("failed to extract database RID from container RID 'gAE/AIAAAAE='").
function installResourceIds() {
    const { default: ResourceId } = lib("account/resource-id");
    ResourceId.toBase64String = (buffer) => buffer.toString("base64").replace(/\//g, "-");
    ResourceId.fromBase64String = (s) => Buffer.from(s.replace(/-/g, "/"), "base64");
}

if (args.fixes.has("6")) installResourceIds();
installRouteHook(installFixes((n) => args.fixes.has(n)));
const { createHttpServer, createHttpsServer } = lib("index");
const server = (args.ssl ? createHttpsServer : createHttpServer)();
server.listen(args.port, args.host, () => {
    const { port } = server.address();
    console.log(`Ready to accept HTTP${args.ssl ? "S" : ""} connections at ${args.host}:${port}; fixes: ${[...args.fixes].join(",") || "none"}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
        server.close(() => process.exit(0));
        setTimeout(() => process.exit(0), 500).unref();
    });
}
