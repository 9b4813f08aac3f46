/**
 * A local HTTP server speaking the subset of the Ollama API the project uses (`/api/generate`, `/api/chat`,
 * `/api/tags`, `/api/show`, `/api/create`, `/api/blobs/:digest`), recording every request. Faults are queued per
 * generation request: an HTTP status, a delay, or a dropped connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeModel {
  template?: string;
  /** Ollama's `parameters` text, e.g. `num_ctx 4096\nstop "</s>"`. */
  parameters?: string;
  contextLength?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  /** Bytes of a blob upload. */
  bytes: number;
}

export type Fault = { status: number; error?: string } | { delayMs: number } | "reset";

export interface GenerateCall {
  model: string;
  prompt: string;
  format?: unknown;
  body: Record<string, unknown>;
}

export interface FakeOllamaOptions {
  models?: Record<string, FakeModel>;
  /** The reply text of a generation; default "ok". */
  respond?: (call: GenerateCall) => string | Promise<string>;
}

export interface FakeOllama {
  url: string;
  requests: RecordedRequest[];
  /** Generation requests only, in order. */
  generations(): Record<string, unknown>[];
  faults: Fault[];
  models: Record<string, FakeModel>;
  blobs: Set<string>;
  /** Requests whose client went away before the reply (aborted calls). */
  closedEarly: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The model name with Ollama's default `:latest` tag, as the server resolves it. */
function resolveModel(models: Record<string, FakeModel>, name: string): FakeModel | undefined {
  return models[name] ?? models[name.includes(":") ? name.replace(/:latest$/, "") : `${name}:latest`];
}

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const fake: FakeOllama = {
    url: "",
    close: async () => undefined,
    requests: [],
    generations: () => fake.requests.filter((r) => r.path === "/api/generate" || r.path === "/api/chat").map((r) => r.body!),
    faults: [],
    models: opts.models ?? {},
    blobs: new Set(),
    closedEarly: 0,
  };
  const respond = opts.respond ?? (() => "ok");

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const raw = await readBody(req);
    let body: Record<string, unknown> | null = null;
    if (!path.startsWith("/api/blobs/") && raw.length > 0) body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
    fake.requests.push({ method: req.method ?? "GET", path, body, bytes: raw.length });

    if (path === "/api/generate" || path === "/api/chat") {
      const fault = fake.faults.shift();
      if (fault === "reset") return req.socket.destroy();
      if (fault && "status" in fault) return json(res, fault.status, { error: fault.error ?? `fault ${fault.status}` });
      if (fault && "delayMs" in fault) {
        const gone = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), fault.delayMs);
          res.on("close", () => (clearTimeout(timer), resolve(!res.writableEnded)));
        });
        if (gone) return void fake.closedEarly++;
      }
      const model = String(body?.model ?? "");
      if (!resolveModel(fake.models, model)) return json(res, 404, { error: `model '${model}' not found` });
      const prompt = path === "/api/chat" ? JSON.stringify(body?.messages) : String(body?.prompt ?? "");
      const text = await respond({ model, prompt, format: body?.format, body: body! });
      const done = { model, created_at: new Date().toISOString(), done: true, done_reason: "stop", prompt_eval_count: 1, eval_count: 1 };
      return json(res, 200, path === "/api/chat" ? { ...done, message: { role: "assistant", content: text } } : { ...done, response: text });
    }
    if (path === "/api/tags") {
      return json(res, 200, { models: Object.keys(fake.models).map((name) => ({ name, model: name, size: 1, digest: "0", details: {} })) });
    }
    if (path === "/api/show") {
      const m = resolveModel(fake.models, String(body?.model ?? ""));
      if (!m) return json(res, 404, { error: `model '${String(body?.model)}' not found` });
      return json(res, 200, {
        template: m.template ?? "{{ .Prompt }}",
        parameters: m.parameters ?? 'num_ctx                        4096\nstop                           "</s>"',
        modelfile: "",
        details: { family: "llama", format: "gguf" },
        model_info: { "general.architecture": "llama", "llama.context_length": m.contextLength ?? 4096 },
      });
    }
    if (path.startsWith("/api/blobs/")) {
      const digest = decodeURIComponent(path.slice("/api/blobs/".length));
      if (req.method === "HEAD") {
        res.writeHead(fake.blobs.has(digest) ? 200 : 404);
        return res.end();
      }
      fake.blobs.add(digest);
      res.writeHead(201);
      return res.end();
    }
    if (path === "/api/create") {
      const name = String(body?.model ?? "");
      const files = { ...((body?.files as Record<string, string>) ?? {}), ...((body?.adapters as Record<string, string>) ?? {}) };
      const missing = Object.values(files).find((d) => !fake.blobs.has(d));
      if (missing) return json(res, 400, { error: `blob ${missing} not found` });
      fake.models[name] = { template: body?.template as string | undefined, contextLength: 4096 };
      if (body?.stream === false) return json(res, 200, { status: "success" });
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(JSON.stringify({ status: "parsing GGUF" }) + "\n");
      return res.end(JSON.stringify({ status: "success" }) + "\n");
    }
    json(res, 404, { error: `no route ${path}` });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
