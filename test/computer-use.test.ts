// The built-in computer-use agent as a user meets it: a real `glasspane server` with a
// desktop, the published sandbox-agent SDK as the client, and local stand-ins for the
// three model APIs replaying scripted turns (typed against the official SDKs). The turns
// open an xterm, type a command and read the screen; the test checks the file the
// command wrote, what the stand-in received, and the trace the session left.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import sharp from "sharp";
import { SandboxAgent, type SessionEvent, type SessionPermissionRequest } from "sandbox-agent";
import type { BetaContentBlock } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import type { ResponseOutputItem } from "openai/resources/responses/responses";
import type { ChatCompletionMessageToolCall } from "openai/resources/chat/completions/completions";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { startAnthropicScript, startChatScript, startResponsesScript, pngSize, type ScriptedStub } from "./support/model-stubs.js";
import { sizeForBudget } from "../main/actions/scale.js";

let server: TestServer;
let display: { width: number; height: number };
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-cu-"));
const stubs: ScriptedStub[] = [];

before(async () => {
  server = await startServer({ desktop: true, env: { ANTHROPIC_API_KEY: "test-key", OPENAI_API_KEY: "test-key" } });
  const status = (await (await server.fetch("/v1/desktop/status")).json()) as { resolution: { width: number; height: number } };
  display = status.resolution;
});

after(async () => {
  for (const s of stubs) await s.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function stub<T extends ScriptedStub>(p: Promise<T>): Promise<T> {
  const s = await p;
  stubs.push(s);
  return s;
}

const updates = (events: SessionEvent[], kind: string) =>
  events.filter((e) => e.sender === "agent" && (e.payload as any).method === "session/update" && (e.payload as any).params?.update?.sessionUpdate === kind).map((e) => (e.payload as any).params.update);

const anthropicUse = (id: string, input: Record<string, unknown>, name = "computer", toolset?: string): BetaContentBlock =>
  ({ type: "tool_use", id, name, input, ...(toolset ? { toolset_name: toolset } : {}) }) as BetaContentBlock;
/** xterm with a plain shell (this machine's ~/.bashrc can stall on pyenv for a long time) */
const XTERM = { app: "xterm", args: ["-e", "bash", "--norc", "--noprofile"] };
const launchUse = (id: string): BetaContentBlock => ({ type: "tool_use", id, name: "launch_program", input: XTERM });

/** A fresh SDK client and a computer-use session with `settings`; answers permissions with `reply`. */
async function openSession(settings: Record<string, unknown>, reply: (r: SessionPermissionRequest) => "once" | "reject" = () => "once") {
  const sdk = await SandboxAgent.connect({ baseUrl: server.url, waitForHealth: { timeoutMs: 10_000 } } as any);
  const session = await sdk.createSession({ agent: "computer-use", sessionInit: { cwd: work, mcpServers: [], _meta: { computerUse: { retryBaseMs: 20, ...settings } } } } as any);
  const events: SessionEvent[] = [];
  session.onEvent((e) => void events.push(e));
  const asked: SessionPermissionRequest[] = [];
  session.onPermissionRequest((r) => {
    asked.push(r);
    void session.respondPermission(r.id, reply(r));
  });
  return { sdk, session, events, asked };
}

interface TraceLine {
  t: number;
  kind: string;
  [k: string]: any;
}

/** Downloads the trace bundle through /v1/traces and unpacks it; every image it names must decode. */
async function readTrace(id: string): Promise<{ lines: TraceLine[]; dir: string }> {
  const res = await server.fetch(`/v1/traces/${id}/download`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("content-type"), "application/x-tar");
  const dest = mkdtempSync(path.join(work, "trace-"));
  await pipeline(Readable.fromWeb(res.body as any), tar.x({ cwd: dest }));
  const dir = path.join(dest, id);
  const lines = readFileSync(path.join(dir, "trace.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as TraceLine);
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i]!.t >= lines[i - 1]!.t, "trace lines are in time order");
  for (const l of lines.filter((l) => l.image)) {
    const meta = await sharp(path.join(dir, l.image)).metadata();
    assert.ok(meta.width && meta.height, `${l.image} decodes`);
  }
  return { lines, dir };
}

const fileSays = (file: string, text: string) => eventually(`${file} to say ${text}`, () => existsSync(file) && readFileSync(file, "utf8").trim() === text, 20_000);

describe("computer-use agent", () => {
  it("is listed in /v1/agents, built in (no install)", async () => {
    const { agents } = await server.sdk.listAgents();
    const cu = agents.find((a) => a.id === "computer-use");
    assert.ok(cu, "computer-use is listed");
    assert.equal(cu.installed, true);
    assert.equal(cu.capabilities.permissions, true);
    assert.equal(cu.capabilities.images, true);
    const install = await server.sdk.installAgent("computer-use");
    assert.equal(install.already_installed, true);
    const withConfig = await server.sdk.getAgent("computer-use", { config: true });
    const ids = (withConfig.configOptions as Array<{ id: string }>).map((o) => o.id);
    for (const id of ["provider", "model", "maxSteps", "maxImages", "permissions"]) assert.ok(ids.includes(id), `config option ${id}`);
    const { traces } = (await (await server.fetch("/v1/traces")).json()) as { traces: unknown[] };
    assert.deepEqual(traces, [], "a session that never prompted (the config probe) leaves no trace");
  });

  it("stops with max_turn_requests after maxSteps model turns", async () => {
    const model = await stub(startAnthropicScript(Array.from({ length: 5 }, (_, i) => [anthropicUse(`toolu_m${i}`, { action: "screenshot" })])));
    const { sdk, session } = await openSession({ provider: "anthropic", baseUrl: model.url, maxSteps: 2 });
    assert.equal((await session.prompt([{ type: "text", text: "Look." }])).stopReason, "max_turn_requests");
    assert.equal(model.requests.length, 2);
    assert.deepEqual(model.problems, []);
    await sdk.dispose();
  });

  it("Anthropic computer_20250124: opens an xterm, types a command, reads the screen; asks before launching and typing into the terminal", async () => {
    const file = path.join(work, "anthropic.txt");
    const size = sizeForBudget(display, "anthropic");
    const model = await stub(
      startAnthropicScript(
        [
          [{ type: "text", text: "Opening a terminal.", citations: null }, launchUse("toolu_1")],
          [anthropicUse("toolu_2", { action: "screenshot" })],
          [anthropicUse("toolu_3", { action: "type", text: `echo cu-anthropic > ${file}` })],
          [anthropicUse("toolu_4", { action: "key", text: "Return" })],
          [anthropicUse("toolu_5", { action: "screenshot" })],
        ],
        { maxImages: 2 },
      ),
    );
    const { sdk, session, events, asked } = await openSession({ provider: "anthropic", model: "claude-sonnet-4-5", baseUrl: model.url, maxImages: 2, record: true });
    const result = await session.prompt([{ type: "text", text: "Open a terminal and write the file." }]);
    assert.equal(result.stopReason, "end_turn");
    await fileSays(file, "cu-anthropic");
    assert.deepEqual(model.problems, []);
    assert.equal(model.requests.length, 6, "six model turns");
    assert.ok(model.screenshots.length >= 4 && model.screenshots.every((s) => s.width === size.width && s.height === size.height), `screenshots at the declared ${size.width}x${size.height}`);
    const last = model.requests.at(-1)!.body;
    assert.ok(JSON.stringify(last).includes("older screenshot was removed"), "older screenshots were replaced by a note");
    assert.equal(last.tools[0].type, "computer_20250124");
    assert.deepEqual(asked.map((a) => (a.toolCall as any).title), ["Launch xterm", "type", "key"], "asked before the launch and each input into the terminal");

    assert.ok(updates(events, "agent_message_chunk").some((u) => u.content.text === "Opening a terminal."), "the model's text streamed");
    const calls = updates(events, "tool_call");
    assert.equal(calls.length, 5, "a tool_call per action");
    const done = updates(events, "tool_call_update").filter((u) => u.status === "completed");
    const shots = done.flatMap((u) => (u.content ?? []).filter((c: any) => c.content?.type === "image"));
    assert.ok(shots.length >= 4, "completed actions carry their screenshot");
    assert.equal(typeof pngSize(shots[0].content.data), "object");

    const { lines } = await readTrace(session.agentSessionId);
    assert.equal(lines.filter((l) => l.kind === "model_request").length, 6);
    assert.equal(lines.filter((l) => l.kind === "model_response").length, 6);
    const actions = lines.filter((l) => l.kind === "action");
    assert.equal(actions.length, 5, "every action is traced");
    assert.ok(actions.filter((a) => a.dialect === "anthropic").every((a) => a.image && a.glasspane?.timings && a.payload?.[0]?.type === "tool_use"), "with its payload, timings and screenshot");
    assert.equal(lines.filter((l) => l.kind === "permission").length, 3);
    assert.equal(lines.at(-1)!.kind, "end");
    assert.ok(lines.some((l) => l.kind === "recording" && l.event === "started"), "the recording started with the session");
    assert.ok(actions.every((a) => typeof a.recordingOffsetMs === "number"), "actions carry their offset into the recording");
    const info = (await (await server.fetch(`/v1/traces/${session.agentSessionId}`)).json()) as { steps: number; actions: number; lastStopReason: string };
    assert.deepEqual([info.steps, info.actions, info.lastStopReason], [6, 5, "end_turn"]);

    await sdk.dispose();
    await eventually("the session's recording to be finished", async () => {
      const { recordings } = (await (await server.fetch("/v1/desktop/recordings")).json()) as { recordings: { status: string }[] };
      return recordings.length > 0 && recordings.every((r) => r.status !== "recording");
    }, 20_000);
    const del = await server.fetch(`/v1/traces/${session.agentSessionId}`, { method: "DELETE" });
    assert.equal(del.status, 204);
    assert.equal((await server.fetch(`/v1/traces/${session.agentSessionId}`)).status, 404);
  });

  it("Anthropic computer_toolset_20260801: a batch of members answered in order with toolset_name; permissions off", async () => {
    const file = path.join(work, "toolset.txt");
    const model = await stub(
      startAnthropicScript([
        [launchUse("toolu_a")],
        [
          anthropicUse("toolu_b", { text: `echo cu-toolset > ${file}` }, "type", "computer"),
          anthropicUse("toolu_c", { text: "Return" }, "key", "computer"),
          anthropicUse("toolu_d", {}, "screenshot", "computer"),
        ],
      ]),
    );
    const { sdk, session, asked } = await openSession({ provider: "anthropic", model: "claude-sonnet-5-5", baseUrl: model.url, permissions: [], imageBudget: "anthropic-2576" });
    const sketch = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#3366cc" } }).png().toBuffer();
    const result = await session.prompt([
      { type: "text", text: "Write the file." },
      { type: "image", data: sketch.toString("base64"), mimeType: "image/png" },
    ] as any);
    assert.equal(result.stopReason, "end_turn");
    await fileSays(file, "cu-toolset");
    const firstUser = model.requests[0]!.body.messages[0].content;
    assert.deepEqual(firstUser.map((b: any) => b.type), ["text", "image"], "the prompt's image reached the model");
    assert.deepEqual(pngSize(firstUser[1].source.data), { width: 8, height: 6 });
    assert.deepEqual(model.problems, []);
    assert.equal(model.requests[0]!.body.tools[0].type, "computer_toolset_20260801");
    const budgeted = sizeForBudget(display, "anthropic-2576");
    assert.deepEqual(model.screenshots, [budgeted], "the toolset's screenshot is sized by the session's image budget");
    const results = model.requests[2]!.body.messages.at(-1).content;
    assert.deepEqual(results.map((r: any) => [r.tool_use_id, r.toolset_name]), [["toolu_b", "computer"], ["toolu_c", "computer"], ["toolu_d", "computer"]]);
    assert.equal(asked.length, 0, "no permission asked with permissions []");
    await sdk.dispose();
  });

  it("OpenAI computer_use_preview: computer_call_output per call_id; a pending safety check becomes a permission request", async () => {
    const file = path.join(work, "openai.txt");
    const turns: ResponseOutputItem[][] = [
      [{ type: "function_call", id: "fc_1", call_id: "call_launch", name: "launch_program", arguments: JSON.stringify(XTERM), status: "completed" }],
      [
        {
          type: "computer_call",
          id: "cu_1",
          call_id: "call_type",
          status: "completed",
          action: { type: "type", text: `echo cu-openai > ${file}` },
          pending_safety_checks: [{ id: "sc_1", code: "sensitive_domain", message: "Typing into a shell" }],
        },
      ],
      [{ type: "computer_call", id: "cu_2", call_id: "call_enter", status: "completed", action: { type: "keypress", keys: ["ENTER"] }, pending_safety_checks: [] }],
      [{ type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "The file is written." }] }, { type: "message", id: "msg_x", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Done.", annotations: [] }] }],
    ];
    const model = await stub(startResponsesScript(turns, display));
    const { sdk, session, events, asked } = await openSession({ provider: "openai", model: "computer-use-preview", baseUrl: `${model.url}/v1` });
    const result = await session.prompt([{ type: "text", text: "Write the file." }]);
    assert.equal(result.stopReason, "end_turn");
    await fileSays(file, "cu-openai");
    assert.deepEqual(model.problems, []);
    assert.equal(model.requests.length, 4);
    assert.ok(asked.some((a) => JSON.stringify(a.toolCall).includes("Typing into a shell")), "the safety check was put to the user");
    assert.equal(asked.length, 3, "launch, the safety check, the Enter into the terminal");
    assert.ok(updates(events, "agent_message_chunk").some((u) => u.content.text === "The file is written."), "reasoning summaries stream as message chunks");
    const { lines } = await readTrace(session.agentSessionId);
    assert.ok(lines.some((l) => l.kind === "permission" && l.safetyChecks?.[0]?.id === "sc_1"));
    await sdk.dispose();
  });

  it("OpenAI GA computer tool: one computer_call with an actions batch", async () => {
    const file = path.join(work, "ga.txt");
    const turns: ResponseOutputItem[][] = [
      [{ type: "function_call", id: "fc_1", call_id: "call_l", name: "launch_program", arguments: JSON.stringify(XTERM), status: "completed" }],
      [
        {
          type: "computer_call",
          id: "cu_1",
          call_id: "call_batch",
          status: "completed",
          actions: [
            { type: "type", text: `echo cu-ga > ${file}` },
            { type: "keypress", keys: ["ENTER"] },
          ],
          pending_safety_checks: [],
        } as ResponseOutputItem,
      ],
    ];
    const model = await stub(startResponsesScript(turns, display));
    const { sdk, session } = await openSession({ provider: "openai", model: "gpt-5.5", baseUrl: `${model.url}/v1`, permissions: "none" });
    assert.equal((await session.prompt([{ type: "text", text: "Write the file." }])).stopReason, "end_turn");
    await fileSays(file, "cu-ga");
    assert.deepEqual(model.problems, []);
    assert.deepEqual(model.requests[0]!.body.tools[0], { type: "computer" });
    await sdk.dispose();
  });

  it("OpenAI-compatible chat completions: native actions through a function tool", async () => {
    const file = path.join(work, "chat.txt");
    const size = sizeForBudget(display, "anthropic");
    const fn = (id: string, name: string, args: unknown): ChatCompletionMessageToolCall => ({ id, type: "function", function: { name, arguments: JSON.stringify(args) } });
    const model = await stub(
      startChatScript(
        [
          [fn("c1", "launch_program", XTERM)],
          [fn("c2", "computer", { actions: [{ type: "type", text: `echo cu-chat > ${file}` }, { type: "key", keys: "Return" }] })],
          [fn("c3", "computer", { actions: [{ type: "screenshot" }] })],
          [fn("c4", "computer", { actions: [{ type: "screenshot" }] })],
        ],
        size,
        { maxImages: 2 },
      ),
    );
    const { sdk, session } = await openSession({ provider: "openai-compatible", model: "qwen2.5-vl", baseUrl: `${model.url}/v1`, permissions: "none", maxImages: 2 });
    assert.equal((await session.prompt([{ type: "text", text: "Write the file." }])).stopReason, "end_turn");
    await fileSays(file, "cu-chat");
    assert.deepEqual(model.problems, []);
    assert.equal(model.screenshots.length, 3);
    await sdk.dispose();
  });

  it("a rejected permission: the program is not launched", async () => {
    const processes = async () => (await server.sdk.listProcesses()).processes.filter((p) => p.command === "xterm" && p.status === "running").length;
    const before = await processes();
    const model = await stub(startAnthropicScript([[launchUse("toolu_r")]]));
    const { sdk, session, events, asked } = await openSession({ provider: "anthropic", baseUrl: model.url }, () => "reject");
    const result = await session.prompt([{ type: "text", text: "Open a terminal." }]);
    assert.equal(result.stopReason, "end_turn");
    assert.equal(asked.length, 1);
    assert.equal(await processes(), before, "no xterm was launched");
    const answer = model.requests[1]!.body.messages.at(-1).content[0];
    assert.equal(answer.is_error, true);
    assert.match(JSON.stringify(answer.content), /rejected/);
    assert.ok(updates(events, "tool_call_update").some((u) => u.status === "failed"), "the tool call ended failed");
    await sdk.dispose();
  });

  it("a rejected safety check: the computer_call is answered with a screenshot, its action does not run", async () => {
    const file = path.join(work, "refused.txt");
    const turns: ResponseOutputItem[][] = [
      [
        {
          type: "computer_call",
          id: "cu_r",
          call_id: "call_refused",
          status: "completed",
          action: { type: "type", text: `echo no > ${file}` },
          pending_safety_checks: [{ id: "sc_r", code: "malicious_instructions", message: "Looks risky" }],
        },
      ],
    ];
    const model = await stub(startResponsesScript(turns, display));
    const { sdk, session, asked } = await openSession({ provider: "openai", model: "computer-use-preview", baseUrl: `${model.url}/v1`, permissions: "none" }, () => "reject");
    assert.equal((await session.prompt([{ type: "text", text: "Type it." }])).stopReason, "end_turn");
    assert.equal(asked.length, 1);
    assert.deepEqual(model.problems, [], "the call still got its computer_call_output with a PNG");
    const input = model.requests[1]!.body.input;
    assert.ok(input.some((i: any) => i.type === "computer_call_output" && i.call_id === "call_refused" && !i.acknowledged_safety_checks), "not acknowledged");
    assert.equal(existsSync(file), false);
    const { lines } = await readTrace(session.agentSessionId);
    const action = lines.find((l) => l.kind === "action" && l.toolCallId === "call_refused")!;
    assert.equal(action.outcome, "rejected");
    assert.match(action.message, /rejected/);
    await sdk.dispose();
  });

  it("a model refusal ends the prompt with stopReason refusal", async () => {
    const model = await stub(startAnthropicScript([{ content: [{ type: "text", text: "I can't help with that.", citations: null }], stop_reason: "refusal" }]));
    const { sdk, session, events } = await openSession({ provider: "anthropic", baseUrl: model.url });
    assert.equal((await session.prompt([{ type: "text", text: "Do something bad." }])).stopReason, "refusal");
    assert.ok(updates(events, "agent_message_chunk").some((u) => u.content.text === "I can't help with that."));
    await sdk.dispose();
  });

  it("cancel in the middle of a run stops the loop within one step", async () => {
    const turns = Array.from({ length: 30 }, (_, i) => [anthropicUse(`toolu_s${i}`, { action: "screenshot" })]);
    const model = await stub(startAnthropicScript(turns, { delayMs: 150 }));
    const { sdk, session, events } = await openSession({ provider: "anthropic", baseUrl: model.url, maxSteps: 30 });
    const running = session.prompt([{ type: "text", text: "Keep looking." }]);
    await eventually("three actions done", () => updates(events, "tool_call_update").filter((u) => u.status === "completed").length >= 3, 30_000);
    const requestsAtCancel = model.requests.length;
    await sdk.destroySession(session.id);
    const result = await running;
    assert.equal(result.stopReason, "cancelled");
    const after = model.requests.length;
    assert.ok(after - requestsAtCancel <= 1, `at most one more model request after the cancel (${after - requestsAtCancel})`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(model.requests.length, after, "nothing more happens after the stop");
    await sdk.dispose();
  });

  it("a model that answers 429 twice, then succeeds", async () => {
    const model = await stub(startAnthropicScript([[anthropicUse("toolu_1", { action: "screenshot" })]], { fail: { status: 429, count: 2 } }));
    const { sdk, session } = await openSession({ provider: "anthropic", baseUrl: model.url });
    const result = await session.prompt([{ type: "text", text: "Look." }]);
    assert.equal(result.stopReason, "end_turn");
    assert.equal(model.requests.length, 4, "two refused, then two turns");
    assert.deepEqual(model.problems, []);
    const { lines } = await readTrace(session.agentSessionId);
    assert.equal(lines.filter((l) => l.kind === "model_error").length, 2, "both retries are traced");
    await sdk.dispose();
  });

  it("a model that keeps failing: a clear error, nothing left running", async () => {
    const model = await stub(startAnthropicScript([], { fail: { status: 500, count: Infinity } }));
    const running = async () => (await server.sdk.listProcesses({ owner: "agent" } as any)).processes.filter((p) => p.status === "running").map((p) => p.id);
    const earlier = new Set(await running());
    const { sdk, session } = await openSession({ provider: "anthropic", baseUrl: model.url, maxRetries: 2 });
    await assert.rejects(session.prompt([{ type: "text", text: "Look." }]), (err: Error) => /500/.test(err.message) && /anthropic/.test(err.message));
    assert.equal(model.requests.length, 3, "one try and two retries");
    const mine = (await running()).filter((id) => !earlier.has(id));
    assert.equal(mine.length, 1, "the session's agent process is listed");
    await sdk.dispose();
    await eventually(`agent ${mine[0]} to exit`, async () => (await server.sdk.getProcess(mine[0]!)).status === "exited", 15_000);
    const { lines } = await readTrace(session.agentSessionId);
    assert.equal(lines.at(-1)!.stopReason, "error");
    const settled = model.requests.length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(model.requests.length, settled, "no request after the end");
  });
});
