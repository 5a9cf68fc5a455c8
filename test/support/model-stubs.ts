// Local stand-ins for the model APIs the real agents call (there is no network here):
// Anthropic's streaming Messages API for Claude Code, OpenAI's Responses API for codex.
// Each answers from a script: while the conversation has no tool result yet and the
// prompt carries a `run: <command>` line, the model asks to run that command; once the
// tool result is back (or with no command) it answers with a final text.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ModelStub {
  url: string;
  /** every request body the stub received, in order */
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

export const FINAL_TEXT = "All done here.";

async function listen(handler: (path: string, body: any, res: http.ServerResponse) => void): Promise<ModelStub> {
  const requests: ModelStub["requests"] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      let body: any = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = { raw };
      }
      const path = (req.url ?? "/").split("?")[0]!;
      requests.push({ path, body });
      handler(path, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Every text of a JSON value, flattened (prompts arrive nested in content blocks). */
function texts(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(texts);
  if (value && typeof value === "object") return Object.values(value).flatMap(texts);
  return [];
}

function commandIn(value: unknown): string | undefined {
  for (const t of texts(value)) {
    const m = /run: (.+)$/m.exec(t);
    if (m) return m[1]!.trim();
  }
  return undefined;
}

function sse(res: http.ServerResponse, events: [string, object][]) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const [event, data] of events) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}

/** The streaming Messages API (`POST /v1/messages`), as Claude Code calls it. */
export function startAnthropicStub(): Promise<ModelStub> {
  let n = 0;
  return listen((path, body, res) => {
    if (!path.endsWith("/messages")) {
      if (path.endsWith("/count_tokens")) return json(res, { input_tokens: 10 });
      return json(res, { type: "error", error: { type: "not_found_error", message: `stub: no ${path}` } }, 404);
    }
    const messages: any[] = body.messages ?? [];
    const last = messages.at(-1);
    const hasToolResult = Array.isArray(last?.content) && last.content.some((b: any) => b?.type === "tool_result");
    const tools: string[] = (body.tools ?? []).map((t: any) => t.name);
    const command = commandIn(messages.filter((m) => m.role === "user").map((m) => m.content));
    const id = `msg_stub_${++n}`;
    const model = body.model ?? "claude-stub";
    const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const wantTool = !hasToolResult && command && tools.includes("Bash");
    const block = wantTool
      ? { type: "tool_use", id: `toolu_stub_${n}`, name: "Bash", input: { command, description: "Run the requested command" } }
      : { type: "text", text: FINAL_TEXT };
    const stopReason = wantTool ? "tool_use" : "end_turn";
    if (!body.stream) {
      return json(res, { id, type: "message", role: "assistant", model, content: [block], stop_reason: stopReason, stop_sequence: null, usage });
    }
    const start = wantTool ? { ...block, input: {} } : { type: "text", text: "" };
    const deltas: object[] = wantTool
      ? [{ type: "input_json_delta", partial_json: JSON.stringify(block.input) }]
      : ["All done ", "here."].map((text) => ({ type: "text_delta", text }));
    sse(res, [
      ["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: start }],
      ...deltas.map((delta) => ["content_block_delta", { type: "content_block_delta", index: 0, delta }] as [string, object]),
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } }],
      ["message_stop", { type: "message_stop" }],
    ]);
  });
}

/** The Responses API (`POST /v1/responses`, streamed), as codex calls it. */
export function startResponsesStub(): Promise<ModelStub> {
  let n = 0;
  return listen((path, body, res) => {
    if (!path.endsWith("/responses")) return json(res, { error: { message: `stub: no ${path}` } }, 404);
    const input: any[] = body.input ?? [];
    const hasToolResult = input.some((i) => i?.type === "function_call_output" || i?.type === "custom_tool_call_output");
    const tools: string[] = (body.tools ?? []).map((t: any) => t.name ?? t.type);
    const command = commandIn(input.filter((i) => i?.role === "user").map((i) => i.content));
    const id = `resp_stub_${++n}`;
    let item: object;
    if (!hasToolResult && command && (tools.includes("exec_command") || tools.includes("shell"))) {
      const args = tools.includes("exec_command") ? { cmd: command } : { command: ["bash", "-lc", command] };
      item = { type: "function_call", id: `fc_${n}`, call_id: `call_stub_${n}`, name: tools.includes("exec_command") ? "exec_command" : "shell", arguments: JSON.stringify(args) };
    } else {
      item = { type: "message", id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: FINAL_TEXT, annotations: [] }] };
    }
    const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
    const events: [string, object][] = [["response.created", { type: "response.created", response: { id, object: "response", status: "in_progress", output: [] } }]];
    events.push(["response.output_item.added", { type: "response.output_item.added", output_index: 0, item }]);
    if ((item as { type: string }).type === "message") {
      for (const delta of ["All done ", "here."]) events.push(["response.output_text.delta", { type: "response.output_text.delta", item_id: `msg_${n}`, output_index: 0, content_index: 0, delta }]);
    }
    events.push(["response.output_item.done", { type: "response.output_item.done", output_index: 0, item }]);
    events.push(["response.completed", { type: "response.completed", response: { id, object: "response", status: "completed", output: [item], usage } }]);
    sse(res, events);
  });
}

function json(res: http.ServerResponse, body: object, status = 200) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
