// Local stand-ins for the model APIs the real agents call (there is no network here):
// Anthropic's streaming Messages API for Claude Code, OpenAI's Responses API for codex;
// and scripted ones (below) for the built-in computer-use agent.
// Each answers from a script: while the conversation has no tool result yet and the
// prompt carries a `run: <command>` line, the model asks to run that command; once the
// tool result is back (or with no command) it answers with a final text.
import http from "node:http";
import { performance } from "node:perf_hooks";
import type { AddressInfo } from "node:net";
import type { BetaContentBlock, BetaMessage } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import type { Response as OpenAIResponse, ResponseOutputItem } from "openai/resources/responses/responses";
import type { ChatCompletion, ChatCompletionMessageToolCall } from "openai/resources/chat/completions/completions";

export interface ModelStub {
  url: string;
  /** every request body the stub received, in order (`at`: performance.now() when it was complete) */
  requests: { path: string; body: any; at: number }[];
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
      requests.push({ path, body, at: performance.now() });
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

// ---------------------------------------------------------------------------------------
// Scripted stand-ins for the computer-use agent: each replays model turns typed against
// the official SDKs' response types, and checks what the agent sent back (collected in
// `problems`, so the test can assert none). A turn's index is how far the conversation is.


export interface ScriptedStub extends ModelStub {
  /** what the agent sent that does not match the protocol (empty when all was right) */
  problems: string[];
  /** width x height of every screenshot the agent returned, in order */
  screenshots: { width: number; height: number }[];
  /** performance.now() when each answer was written, in order */
  answeredAt: number[];
}

export interface ScriptOptions {
  /** answer the first `count` requests with `status` (count Infinity: always) */
  fail?: { status: number; count: number };
  /** pause before each answer (so a cancel can land mid-run) */
  delayMs?: number;
  /** the most screenshots a request may carry */
  maxImages?: number;
}

/** The width and height of a base64 PNG, or a problem. */
export function pngSize(base64: string): { width: number; height: number } | string {
  const b = Buffer.from(base64, "base64");
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47) return "not a PNG";
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function scripted(
  handle: (path: string, body: any, stub: ScriptedStub) => object,
  opts: ScriptOptions,
): Promise<ScriptedStub> {
  let seen = 0;
  const extra = { problems: [] as string[], screenshots: [] as { width: number; height: number }[], answeredAt: [] as number[] };
  let stub: ScriptedStub;
  return listen((path, body, res) => {
    const n = seen++;
    const answer = () => {
      if (opts.fail && n < opts.fail.count) {
        const status = opts.fail.status;
        return json(res, status === 429 ? { type: "error", error: { type: "rate_limit_error", message: "stub: slow down" } } : { type: "error", error: { type: "api_error", message: "stub: overloaded" } }, status);
      }
      try {
        json(res, handle(path, body, stub));
        extra.answeredAt.push(performance.now());
      } catch (err) {
        extra.problems.push(`handler: ${(err as Error).message}`);
        json(res, { type: "error", error: { type: "invalid_request_error", message: (err as Error).message } }, 400);
      }
    };
    if (opts.delayMs) setTimeout(answer, opts.delayMs);
    else answer();
  }).then((s) => (stub = Object.assign(s, extra)));
}

function checkImage(stub: ScriptedStub, where: string, base64: string, size: { width: number; height: number } | undefined) {
  const got = pngSize(base64);
  if (typeof got === "string") return stub.problems.push(`${where}: ${got}`);
  stub.screenshots.push(got);
  if (size && (got.width !== size.width || got.height !== size.height)) stub.problems.push(`${where}: a ${got.width}x${got.height} PNG, declared ${size.width}x${size.height}`);
}

/** A scripted Anthropic turn: its content blocks, or content with a stop reason of its own (e.g. refusal). */
export type AnthropicTurn = BetaContentBlock[] | Pick<BetaMessage, "content" | "stop_reason">;

const anthropicMessage = (n: number, model: string, turn: AnthropicTurn): BetaMessage => {
  const content = Array.isArray(turn) ? turn : turn.content;
  const stop = Array.isArray(turn) ? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn") : turn.stop_reason;
  return {
  id: `msg_cu_${n}`,
  type: "message",
  role: "assistant",
  model,
  content,
  container: null,
  context_management: null,
  diagnostics: null,
  stop_details: null,
  stop_reason: stop,
  stop_sequence: null,
  usage: {
    cache_creation: null,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    fallback_credit: null,
    inference_geo: null,
    input_tokens: 100,
    iterations: null,
    output_tokens: 20,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: "standard",
    speed: null,
  } as BetaMessage["usage"],
  };
};

/**
 * Anthropic Messages (`POST /v1/messages`) replaying `turns` (the assistant content of
 * each turn; past the end, a final text). Checks: a tool_result per tool_use of the
 * previous turn, in order, with toolset_name echoed; every image a PNG of the declared
 * size; at most maxImages images, the older ones replaced by a note; a cache mark.
 */
export function startAnthropicScript(turns: AnthropicTurn[], opts: ScriptOptions = {}): Promise<ScriptedStub> {
  return scripted((path, body, stub) => {
    if (!path.endsWith("/messages")) throw new Error(`no ${path}`);
    const messages: any[] = body.messages ?? [];
    const turn = messages.filter((m) => m.role === "assistant").length;
    const tool = (body.tools ?? []).find((t: any) => String(t.type).startsWith("computer_"));
    if (!tool) stub.problems.push(`turn ${turn}: no computer tool declared`);
    const size = tool?.display_width_px ? { width: tool.display_width_px, height: tool.display_height_px } : undefined;
    const last = messages.at(-1);
    const prev = messages.at(-2);
    if (turn > 0 && prev?.role === "assistant") {
      const uses = (prev.content as any[]).filter((b) => b.type === "tool_use");
      const results = (last.content as any[]).filter((b) => b.type === "tool_result");
      if (uses.length !== results.length) stub.problems.push(`turn ${turn}: ${uses.length} tool_use blocks, ${results.length} tool_result blocks`);
      uses.forEach((u, i) => {
        const r = results[i];
        if (r?.tool_use_id !== u.id) stub.problems.push(`turn ${turn}: tool_result ${i} answers ${r?.tool_use_id}, expected ${u.id}`);
        if (u.toolset_name && r?.toolset_name !== u.toolset_name) stub.problems.push(`turn ${turn}: tool_result ${i} lacks toolset_name ${u.toolset_name}`);
        for (const c of r?.content ?? []) if (c.type === "image") checkImage(stub, `turn ${turn} result ${i}`, c.source.data, size);
      });
    }
    let images = 0;
    for (const m of messages) for (const b of Array.isArray(m.content) ? m.content : []) for (const c of b.type === "tool_result" ? (b.content ?? []) : []) if (c.type === "image") images++;
    if (opts.maxImages !== undefined && images > opts.maxImages) stub.problems.push(`turn ${turn}: ${images} screenshots sent, at most ${opts.maxImages} expected`);
    const marked = (last?.content ?? []).some((b: any) => b.cache_control?.type === "ephemeral");
    if (!marked) stub.problems.push(`turn ${turn}: no cache_control mark on the newest user turn`);
    return anthropicMessage(turn, body.model, turns[turn] ?? [{ type: "text", text: FINAL_TEXT, citations: null }]);
  }, opts);
}

const responseOf = (id: string, model: string, output: ResponseOutputItem[], previous: string | null): OpenAIResponse => ({
  id,
  object: "response",
  created_at: Math.floor(Date.now() / 1000),
  model,
  output,
  output_text: output.flatMap((o) => (o.type === "message" ? o.content.map((c) => (c.type === "output_text" ? c.text : "")) : [])).join(""),
  access_programs: null,
  error: null,
  incomplete_details: null,
  instructions: null,
  metadata: null,
  parallel_tool_calls: false,
  temperature: null,
  tool_choice: "auto",
  tools: [],
  top_p: null,
  previous_response_id: previous,
  status: "completed",
  truncation: "auto",
});

/**
 * OpenAI Responses (`POST /v1/responses`) replaying `turns` (the output items of each
 * turn). The conversation is chained by previous_response_id. Checks: a
 * computer_call_output (with a PNG of `size`) for the previous computer_call's call_id,
 * a function_call_output for a function_call, acknowledged safety checks echoed.
 */
export function startResponsesScript(turns: ResponseOutputItem[][], size: { width: number; height: number } | undefined, opts: ScriptOptions = {}): Promise<ScriptedStub> {
  const answered = new Map<string, { turn: number; output: ResponseOutputItem[] }>();
  let conv = 0;
  return scripted((path, body, stub) => {
    if (!path.endsWith("/responses")) throw new Error(`no ${path}`);
    const previous: string | undefined = body.previous_response_id;
    const before = previous ? answered.get(previous) : undefined;
    if (previous && !before) stub.problems.push(`unknown previous_response_id ${previous}`);
    const turn = before ? before.turn + 1 : 0;
    const input: any[] = body.input ?? [];
    for (const item of before?.output ?? []) {
      if (item.type === "computer_call") {
        const out = input.find((i) => i.type === "computer_call_output" && i.call_id === item.call_id);
        if (!out) {
          stub.problems.push(`turn ${turn}: no computer_call_output for ${item.call_id}`);
          continue;
        }
        const m = /^data:image\/png;base64,(.*)$/.exec(out.output?.image_url ?? "");
        if (!m) stub.problems.push(`turn ${turn}: computer_call_output ${item.call_id} has no PNG`);
        else checkImage(stub, `turn ${turn} ${item.call_id}`, m[1]!, size);
        // a refused call is answered with a screenshot and a note, without acknowledging
        const refused = input.some((i) => i.role === "user" && JSON.stringify(i.content).includes("was not run"));
        if (item.pending_safety_checks.length && !refused && JSON.stringify(out.acknowledged_safety_checks?.map((c: any) => c.id)) !== JSON.stringify(item.pending_safety_checks.map((c) => c.id))) {
          stub.problems.push(`turn ${turn}: safety checks of ${item.call_id} not acknowledged`);
        }
      }
      if (item.type === "function_call" && !input.some((i) => i.type === "function_call_output" && i.call_id === item.call_id)) stub.problems.push(`turn ${turn}: no function_call_output for ${item.call_id}`);
    }
    const tool = (body.tools ?? []).find((t: any) => t.type === "computer_use_preview" || t.type === "computer");
    if (!tool) stub.problems.push(`turn ${turn}: no computer tool declared`);
    if (turn === 0) conv++;
    const output: ResponseOutputItem[] = turns[turn] ?? [
      { type: "message", id: `msg_${conv}_${turn}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: FINAL_TEXT, annotations: [] }] },
    ];
    const id = `resp_${conv}_${turn}`;
    answered.set(id, { turn, output });
    return responseOf(id, body.model, output, previous ?? null);
  }, opts);
}

/**
 * An OpenAI-compatible chat-completions endpoint (`POST /v1/chat/completions`) replaying
 * `turns` (the tool calls of each turn; past the end, a final text). Checks: a tool
 * message per tool call in order; screenshots as PNG user images of `size`, at most maxImages.
 */
export function startChatScript(turns: ChatCompletionMessageToolCall[][], size: { width: number; height: number } | undefined, opts: ScriptOptions = {}): Promise<ScriptedStub> {
  return scripted((path, body, stub) => {
    if (!path.endsWith("/chat/completions")) throw new Error(`no ${path}`);
    const messages: any[] = body.messages ?? [];
    const turn = messages.filter((m) => m.role === "assistant").length;
    const lastAssistant = messages.map((m) => m.role).lastIndexOf("assistant");
    if (lastAssistant >= 0) {
      const calls: any[] = messages[lastAssistant].tool_calls ?? [];
      const tools = messages.slice(lastAssistant + 1).filter((m) => m.role === "tool");
      calls.forEach((c, i) => {
        if (tools[i]?.tool_call_id !== c.id) stub.problems.push(`turn ${turn}: tool message ${i} answers ${tools[i]?.tool_call_id}, expected ${c.id}`);
      });
      const after = messages.slice(lastAssistant + 1).filter((m) => m.role === "user");
      for (const m of after) for (const p of m.content ?? []) if (p.type === "image_url") checkImage(stub, `turn ${turn}`, p.image_url.url.replace(/^data:image\/png;base64,/, ""), size);
    }
    let images = 0;
    for (const m of messages) for (const p of Array.isArray(m.content) ? m.content : []) if (p.type === "image_url") images++;
    if (opts.maxImages !== undefined && images > opts.maxImages) stub.problems.push(`turn ${turn}: ${images} screenshots sent, at most ${opts.maxImages} expected`);
    const calls = turns[turn];
    const completion: ChatCompletion = {
      id: `chatcmpl_${turn}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          finish_reason: calls ? "tool_calls" : "stop",
          logprobs: null,
          message: calls ? { role: "assistant", content: null, refusal: null, tool_calls: calls } : { role: "assistant", content: FINAL_TEXT, refusal: null },
        },
      ],
    };
    return completion;
  }, opts);
}
