// One-shot agent runs read the way a `useChat` front end reads them: the `ai` package's own
// parser and readUIMessageStream over POST /v1/agents/{agent}/run, for the mock agent and
// for the real Claude Code adapter on the local Messages API stand-in.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from "ai";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { FINAL_TEXT, startAnthropicStub, type ModelStub } from "./support/model-stubs.js";

let server: TestServer;
let stub: ModelStub;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-run-"));

/** The chunks of a run's stream, validated by the `ai` package's own schema. */
function chunksOf(body: ReadableStream<Uint8Array>, seen: UIMessageChunk[] = []): ReadableStream<UIMessageChunk> {
  return parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        seen.push(result.value as UIMessageChunk);
        controller.enqueue(result.value as UIMessageChunk);
      },
    }),
  );
}

async function run(agent: string, body: object): Promise<{ message: UIMessage; chunks: UIMessageChunk[]; res: Response }> {
  const res = await server.fetch(`/v1/agents/${agent}/run`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(170_000) });
  assert.equal(res.status, 200, res.status === 200 ? "" : await res.text());
  assert.equal(res.headers.get("x-vercel-ai-ui-message-stream"), "v1");
  const chunks: UIMessageChunk[] = [];
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: chunksOf(res.body!, chunks), terminateOnError: true })) message = m;
  assert.ok(message, "the stream carried a message");
  return { message, chunks, res };
}

before(async () => {
  stub = await startAnthropicStub();
  server = await startServer({
    token: "run-token",
    args: ["--fs-root", work],
    env: { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: "sk-ant-local-stub", CLAUDE_CONFIG_DIR: mkdtempSync(path.join(os.tmpdir(), "glasspane-claude-config-")) },
  });
});
after(async () => {
  await server?.stop();
  await stub?.close();
  rmSync(work, { recursive: true, force: true });
});

it("the mock agent: text, a tool call asking permission (granted up front), its result, more text, finish; resume continues", async () => {
  const { message, chunks } = await run("mock", { prompt: "please ask permission", permissions: "allow", model: "mock-thorough" });
  assert.equal(message.role, "assistant");
  const parts = message.parts.map((p: any) => (p.type === "text" ? ["text", p.text] : p.type === "dynamic-tool" ? ["tool", p.toolName, p.state, p.input, p.output] : [p.type]));
  assert.deepEqual(parts, [
    ["step-start"],
    ["text", "mock: please ask permission"],
    ["tool", "execute", "output-available", { command: "true" }, { outcome: "allowed" }],
    ["text", " allowed"],
  ]);
  assert.deepEqual([chunks[0]!.type, chunks.at(-2)!.type, chunks.at(-1)!.type], ["start", "finish-step", "finish"]);
  assert.equal((chunks.at(-1) as any).finishReason, "stop");
  const meta = (chunks[0] as any).messageMetadata;
  assert.equal(meta.agent, "mock");
  assert.equal(meta.cwd, work, "no cwd: the file API's base (the --fs-root)");

  // declared "reject": the same request is refused
  const refused = await run("mock", { prompt: "please ask permission" });
  assert.deepEqual(refused.message.parts.filter((p: any) => p.type === "dynamic-tool").map((p: any) => p.state), ["output-error"]);

  const again = await run("mock", { prompt: "and more", resume: message.id });
  assert.equal(again.message.id, message.id);
  assert.equal((again.chunks[0] as any).messageMetadata.sessionId, meta.sessionId, "the same ACP session continued");
  assert.deepEqual(again.message.parts.filter((p: any) => p.type === "text").map((p: any) => p.text), ["mock: and more"]);
  const unknown = await server.fetch("/v1/agents/mock/run", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "x", resume: "run_nope" }) });
  assert.equal(unknown.status, 404);
  const noAgent = await server.fetch("/v1/agents/nope/run", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "x" }) });
  assert.ok(noAgent.status >= 400 && noAgent.status < 500, `unknown agent: ${noAgent.status}`);
});

it("a run in a volume works in the volume's folder", async () => {
  await server.fetch("/v1/volumes", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "chat-1" }) });
  const { chunks } = await run("mock", { prompt: "hi", volume: "chat-1" });
  assert.equal((chunks[0] as any).messageMetadata.cwd, path.join(server.stateDir, "volumes", "chat-1"));
  const escape = await server.fetch("/v1/agents/mock/run", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "x", volume: "chat-1", cwd: "../.." }) });
  assert.equal(escape.status, 400);
});

it("an ACP session started with ?volume= works in the volume's folder", async () => {
  await server.fetch("/v1/volumes", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "acp-vol" }) });
  const folder = path.join(server.stateDir, "volumes", "acp-vol");
  // the directory's MCP config reaches the agent only when session/new names that directory as its cwd
  await server.sdk.setMcpConfig({ directory: folder, mcpName: "here" }, { type: "remote", url: "http://127.0.0.1:1/mcp" });
  const rpc = async (id: number, method: string, params: unknown, query: string) => {
    const res = await server.fetch(`/v1/acp/vol-session?${query}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id, method, params }) });
    return { status: res.status, json: await res.json() };
  };
  assert.equal((await rpc(1, "initialize", { protocolVersion: 1, clientCapabilities: {} }, "agent=mock")).status, 200);
  const opened = await rpc(2, "session/new", { cwd: ".", mcpServers: [] }, "volume=acp-vol");
  assert.equal(opened.status, 200, JSON.stringify(opened.json));
  assert.deepEqual(opened.json.result._meta.mcpServers, ["here"], "the session's cwd was the volume's folder");
  const escape = await rpc(3, "session/new", { cwd: "/etc", mcpServers: [] }, "volume=acp-vol");
  assert.equal(escape.status, 403);
  await server.fetch("/v1/acp/vol-session", { method: "DELETE" });
});

it("the client going away mid-run cancels the turn and stops the agent", async () => {
  const agentProcs = async () => ((await (await server.fetch("/v1/processes?owner=agent")).json()).processes as any[]).filter((p) => p.status === "running");
  // finished runs keep their agents for resume: the run's own agent is the one that is new
  const before = new Set((await agentProcs()).map((p) => p.id));
  const controller = new AbortController();
  const res = await server.fetch("/v1/agents/mock/run", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: `slow ${"word ".repeat(200)}` }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  const reader = chunksOf(res.body!).getReader();
  const first: UIMessageChunk[] = [];
  while (!first.some((c) => c.type === "text-delta")) first.push((await reader.read()).value!);
  const runId = (first[0] as any).messageId as string;
  const mine = (await agentProcs()).filter((p) => !before.has(p.id));
  assert.equal(mine.length, 1, "the run's agent runs while the client reads");
  controller.abort();
  await eventually("the run's agent has stopped", async () => (await (await server.fetch(`/v1/processes/${mine[0]!.id}`)).json()).status === "exited", 20_000);
  const servers = (await (await server.fetch("/v1/acp")).json()).servers as any[];
  assert.ok(!servers.some((s) => s.serverId === runId), "its ACP server is gone");
});

it("Claude Code on the local model stand-in: a Bash tool call and a final text, in order", async () => {
  const made = path.join(work, "made-by-claude.txt");
  const { message, chunks } = await run("claude", { prompt: `Create the file with the shell.\nrun: echo made > ${made}`, permissions: ["execute"], maxTurns: 5, systemPrompt: "You are terse." });
  assert.ok(stub.requests.some((r) => r.path.endsWith("/messages")), "Claude Code called the local Messages API");
  assert.ok(stub.requests.some((r) => r.path.endsWith("/messages") && JSON.stringify(r.body.system ?? "").includes("You are terse.")), "the run's system prompt reached the model");
  const significant = message.parts.filter((p: any) => p.type === "dynamic-tool" || (p.type === "text" && p.text.trim() !== ""));
  const tool = significant.find((p: any) => p.type === "dynamic-tool") as any;
  assert.ok(tool, `a tool part: ${JSON.stringify(message.parts)}`);
  assert.equal(tool.toolName, "Bash");
  assert.equal(tool.state, "output-available", JSON.stringify(tool));
  assert.equal(tool.input.command, `echo made > ${made}`);
  const last = significant.at(-1) as any;
  assert.equal(last.type, "text", "the final text comes after the tool call");
  assert.equal(last.text.trim(), FINAL_TEXT);
  assert.ok(significant.indexOf(tool) < significant.indexOf(last));
  assert.equal(readFileSync(made, "utf8"), "made\n", "the allowed command ran");
  assert.equal(chunks.at(-1)!.type, "finish");
  assert.ok(existsSync(made));
});
