// A small OpenAI-compatible chat-completions server over node-llama-cpp (CPU only), for serving
// SmolLM2-135M-Instruct to simulacra's LLM agents in tests. tests/smollm2/setup.sh installs the
// model and node-llama-cpp 3.21.1; tests/smollm2/serve.sh starts this script.
//
//   node server.mjs --model PATH.gguf [--port 0] [--host 127.0.0.1] [--port-file FILE]
//                   [--threads 1] [--context 4096] [--name smollm2-135m]
//   (or env SMOLLM2_MODEL, SMOLLM2_PORT, SMOLLM2_PORT_FILE, SMOLLM2_THREADS, SMOLLM2_CONTEXT)
//
// Routes: POST /v1/chat/completions (non-streaming), GET /v1/models, GET /health.
//
// * Requests are served one at a time on a single context sequence, each from an empty context
//   (no prefix reuse), so an answer depends only on its request.
// * `temperature: 0` decodes greedily; above 0 it samples with the request's `seed` (0 if
//   absent), so answers are reproducible either way.
// * `response_format: {type: "json_schema", json_schema: {schema}}` constrains decoding with
//   a grammar built from the schema; `{type: "json_object"}` with a generic JSON grammar.
// * Errors are OpenAI-shaped (`{"error": {"message", "type", "param", "code"}}`); a bad
//   request never stops the server.
//
// This needs node-llama-cpp to be resolvable: run it with NODE_PATH pointing at the
// node_modules that setup.sh installed (serve.sh does this), or from a folder containing it.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

// --- arguments ---------------------------------------------------------------------------

function parseArgs(argv) {
    const opts = {
        model: process.env.SMOLLM2_MODEL ?? "",
        host: process.env.SMOLLM2_HOST ?? "127.0.0.1",
        port: Number(process.env.SMOLLM2_PORT ?? 0),
        portFile: process.env.SMOLLM2_PORT_FILE ?? "",
        threads: Number(process.env.SMOLLM2_THREADS ?? 1),
        context: Number(process.env.SMOLLM2_CONTEXT ?? 4096),
        name: process.env.SMOLLM2_NAME ?? "smollm2-135m",
    };
    const keys = {
        "--model": "model", "--host": "host", "--port": "port", "--port-file": "portFile",
        "--threads": "threads", "--context": "context", "--name": "name",
    };
    for (let i = 2; i < argv.length; i++) {
        let [flag, value] = argv[i].split(/=(.*)/s, 2);
        const key = keys[flag];
        if (key == null) {
            console.error(`server.mjs: unknown argument ${argv[i]}`);
            process.exit(2);
        }
        if (value === undefined) value = argv[++i];
        if (value === undefined) {
            console.error(`server.mjs: ${flag} needs a value`);
            process.exit(2);
        }
        opts[key] = ["port", "threads", "context"].includes(key) ? Number(value) : value;
    }
    if (!opts.model) {
        console.error("server.mjs: --model PATH.gguf is required");
        process.exit(2);
    }
    for (const k of ["port", "threads", "context"]) {
        if (!Number.isInteger(opts[k]) || opts[k] < 0) {
            console.error(`server.mjs: --${k} must be a non-negative integer`);
            process.exit(2);
        }
    }
    return opts;
}

const opts = parseArgs(process.argv);

// node-llama-cpp from NODE_PATH (ES module imports ignore NODE_PATH), else the usual lookup.
function nodeLlamaCppUrl() {
    const roots = (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean);
    for (const root of roots) {
        const dir = path.resolve(root, "node-llama-cpp");
        if (fs.existsSync(path.join(dir, "package.json"))) {
            return pathToFileURL(path.join(dir, "dist", "index.js")).href;
        }
    }
    return "node-llama-cpp";
}
const { getLlama, LlamaChat, LlamaLogLevel } = await import(nodeLlamaCppUrl());

// --- the model -----------------------------------------------------------------------------

const started = Date.now();
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.warn });
const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0 });
// `threads` must be given: the default (the Llama instance's maxThreads) is far too slow on
// small machines (measured: 0.3 tokens/s instead of about 40-80 on 2 cores).
const context = await model.createContext({
    contextSize: opts.context,
    threads: Math.max(1, opts.threads),
    sequences: 1,
});
const sequence = context.getSequence();
const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
console.error(
    `server.mjs: loaded ${path.basename(opts.model)} in ${Date.now() - started} ms ` +
    `(threads ${opts.threads}, context ${context.contextSize})`,
);

// --- grammars ------------------------------------------------------------------------------

// node-llama-cpp's JSON-schema grammar ignores numeric bounds (`minimum`, `maximum`,
// `exclusive*`, `multipleOf`), `pattern` and `format` other than date/time. A number or integer
// with integer bounds spanning at most 1000 values becomes an enum of those integers, so
// the answer is in range (e.g. simulacra's `LABOR`, 0..100); other unsupported keywords are
// dropped, and the client checks the value as it does for any server. `type` next to `enum`
// or `const` is dropped too (the enum already fixes the type).
function simplifySchema(schema) {
    if (Array.isArray(schema)) return schema.map(simplifySchema);
    if (schema == null || typeof schema !== "object") return schema;
    const out = {};
    for (const [k, v] of Object.entries(schema)) {
        if (["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
            "pattern", "title", "examples", "default", "$schema", "strict"].includes(k)) continue;
        if (k === "format" && !["date-time", "time", "date"].includes(v)) continue;
        if (["properties", "$defs", "definitions"].includes(k) && v && typeof v === "object") {
            out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, simplifySchema(s)]));
        } else if (["items", "additionalProperties", "oneOf", "anyOf", "prefixItems"].includes(k)) {
            out[k === "anyOf" ? "oneOf" : k] = simplifySchema(v);
        } else {
            out[k] = v;
        }
    }
    if ("enum" in out || "const" in out) delete out.type;
    const numeric = out.type === "number" || out.type === "integer";
    const lo = schema.minimum, hi = schema.maximum;
    if (numeric && Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo && hi - lo <= 1000) {
        delete out.type;
        out.enum = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    }
    return out;
}

const grammarCache = new Map();
async function grammarFor(responseFormat) {
    if (responseFormat == null || responseFormat.type == null || responseFormat.type === "text") {
        return undefined;
    }
    if (responseFormat.type === "json_object") {
        if (!grammarCache.has("json")) grammarCache.set("json", await llama.getGrammarFor("json"));
        return grammarCache.get("json");
    }
    if (responseFormat.type === "json_schema") {
        const schema = responseFormat.json_schema?.schema;
        if (schema == null || typeof schema !== "object") {
            throw new BadRequest("response_format.json_schema.schema must be a JSON schema object");
        }
        const key = JSON.stringify(schema);
        if (!grammarCache.has(key)) {
            let grammar;
            try {
                grammar = await llama.createGrammarForJsonSchema(simplifySchema(schema));
            } catch (e) {
                throw new BadRequest(`unsupported JSON schema: ${e?.message ?? e}`);
            }
            if (grammarCache.size > 256) grammarCache.clear();
            grammarCache.set(key, grammar);
        }
        return grammarCache.get(key);
    }
    throw new BadRequest(`unsupported response_format.type: ${JSON.stringify(responseFormat.type)}`);
}

// --- requests ------------------------------------------------------------------------------

class BadRequest extends Error {}

function textOf(content) {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
        return content.map((p) => (typeof p === "string" ? p : p?.text ?? "")).join("");
    }
    if (content == null) return "";
    throw new BadRequest("message content must be a string or an array of text parts");
}

function historyOf(messages) {
    if (!Array.isArray(messages) || messages.length === 0) {
        throw new BadRequest("messages must be a non-empty array");
    }
    const history = messages.map((m, i) => {
        if (m == null || typeof m !== "object") throw new BadRequest(`messages[${i}] is not an object`);
        const text = textOf(m.content);
        switch (m.role) {
            case "system":
            case "developer":
                return { type: "system", text };
            case "user":
                return { type: "user", text };
            case "assistant":
                return { type: "model", response: [text] };
            default:
                throw new BadRequest(`messages[${i}].role ${JSON.stringify(m.role)} is not supported`);
        }
    });
    history.push({ type: "model", response: [] }); // the answer to generate
    return history;
}

let queue = Promise.resolve();
let served = 0;

// Serialized: one generation at a time on the single sequence.
function complete(body, signal) {
    const run = async () => {
        if (signal.aborted) throw new Error("client went away");
        const history = historyOf(body.messages);
        const grammar = await grammarFor(body.response_format);
        const temperature = Number(body.temperature ?? 0);
        if (!Number.isFinite(temperature) || temperature < 0) {
            throw new BadRequest("temperature must be a non-negative number");
        }
        const maxTokens = body.max_completion_tokens ?? body.max_tokens;
        if (maxTokens != null && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
            throw new BadRequest("max_tokens must be a positive integer");
        }
        const seed = Number.isInteger(body.seed) ? body.seed % 2 ** 32 : 0;
        await sequence.clearHistory(); // every request starts from an empty context
        const promptTokens = chat.chatWrapper
            .generateContextState({ chatHistory: history })
            .contextText.tokenize(model.tokenizer).length;
        const t0 = Date.now();
        const res = await chat.generateResponse(history, {
            grammar,
            temperature,
            seed,
            maxTokens: maxTokens ?? Math.max(16, context.contextSize / 2),
            signal,
            stopOnAbortSignal: false,
        });
        const completionTokens = model.tokenize(res.response).length;
        const ms = Date.now() - t0;
        served += 1;
        console.error(
            `server.mjs: #${served} ${promptTokens} in, ${completionTokens} out, ` +
            `${ms} ms, ${res.metadata.stopReason}`,
        );
        return {
            text: res.response,
            finish: res.metadata.stopReason === "maxTokens" ? "length" : "stop",
            promptTokens,
            completionTokens,
        };
    };
    const p = queue.then(run, run);
    queue = p.catch(() => {});
    return p;
}

// --- HTTP ----------------------------------------------------------------------------------

const MAX_BODY = 16 * 1024 * 1024;

function send(res, status, obj) {
    if (res.headersSent || res.destroyed) return;
    const data = JSON.stringify(obj);
    res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(data),
    });
    res.end(data);
}

function sendError(res, status, message, type = "invalid_request_error", code = null) {
    send(res, status, { error: { message, type, param: null, code } });
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on("data", (c) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(Object.assign(new Error("request body too large"), { status: 413 }));
                req.destroy();
            } else {
                chunks.push(c);
            }
        });
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

async function handleChat(req, res) {
    let body;
    try {
        body = JSON.parse(await readBody(req));
    } catch (e) {
        return sendError(res, e?.status ?? 400, e?.status ? e.message : `invalid JSON body: ${e?.message ?? e}`);
    }
    if (body == null || typeof body !== "object" || Array.isArray(body)) {
        return sendError(res, 400, "the request body must be a JSON object");
    }
    if (body.stream === true) return sendError(res, 400, "streaming is not supported");
    if (body.n != null && body.n !== 1) return sendError(res, 400, "only n = 1 is supported");
    const abort = new AbortController();
    res.on("close", () => {
        if (!res.writableFinished) abort.abort(new Error("client went away"));
    });
    try {
        const out = await complete(body, abort.signal);
        send(res, 200, {
            id: `chatcmpl-${served}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: typeof body.model === "string" ? body.model : opts.name,
            choices: [{
                index: 0,
                message: { role: "assistant", content: out.text },
                logprobs: null,
                finish_reason: out.finish,
            }],
            usage: {
                prompt_tokens: out.promptTokens,
                completion_tokens: out.completionTokens,
                total_tokens: out.promptTokens + out.completionTokens,
            },
        });
    } catch (e) {
        if (e instanceof BadRequest) return sendError(res, 400, e.message);
        if (abort.signal.aborted) return; // nobody is listening
        console.error(`server.mjs: generation failed: ${e?.stack ?? e}`);
        sendError(res, 500, `generation failed: ${e?.message ?? e}`, "server_error");
    }
}

const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0].replace(/\/+$/, "") || "/";
    const route = `${req.method} ${url}`;
    Promise.resolve()
        .then(() => {
            if (route === "GET /health") return send(res, 200, { status: "ok", model: opts.name });
            if (route === "GET /v1/models" || route === "GET /models") {
                return send(res, 200, {
                    object: "list",
                    data: [{ id: opts.name, object: "model", created: 0, owned_by: "local" }],
                });
            }
            if (route === "POST /v1/chat/completions" || route === "POST /chat/completions") {
                return handleChat(req, res);
            }
            if (["/health", "/v1/models", "/v1/chat/completions"].includes(url)) {
                return sendError(res, 405, `method ${req.method} not allowed on ${url}`);
            }
            return sendError(res, 404, `unknown path: ${req.method} ${url}`, "invalid_request_error", "not_found");
        })
        .catch((e) => {
            console.error(`server.mjs: request failed: ${e?.stack ?? e}`);
            sendError(res, 500, `internal error: ${e?.message ?? e}`, "server_error");
        });
});
server.on("clientError", (_e, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
});
process.on("uncaughtException", (e) => console.error(`server.mjs: uncaught: ${e?.stack ?? e}`));
process.on("unhandledRejection", (e) => console.error(`server.mjs: unhandled: ${e?.stack ?? e}`));

for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
        server.close();
        process.exit(0);
    });
}

server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    if (opts.portFile) {
        fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
        fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
    }
    console.error(`server.mjs: listening on http://${opts.host}:${port}/v1 (model ${opts.name})`);
});
