// Agent sessions as a user sees them: a real `glasspane server`, the published SDK as the
// client, the built-in mock ACP agent as a real child process; raw HTTP for the transport's
// edges (SSE replay, deletes, errors).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SessionEvent } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { alive, expectProblem } from "./support/checks.js";
import { groupAlive } from "./support/agent-story.js";

let server: TestServer;
const REQUEST_TIMEOUT_MS = 3000;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-sessions-"));

before(async () => {
  server = await startServer({ args: ["--acp-timeout-ms", String(REQUEST_TIMEOUT_MS), "--acp-heartbeat-ms", "300"] });
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

let nextId = 0;
const serverId = () => `test-${process.pid}-${++nextId}`;

function post(id: string, body: unknown, opts: { agent?: string; headers?: Record<string, string> } = {}) {
  return server.fetch(`/v1/acp/${id}${opts.agent ? `?agent=${opts.agent}` : ""}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...opts.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function rpc(id: string, rpcId: number, method: string, params: unknown, agent?: string) {
  const res = await post(id, { jsonrpc: "2.0", id: rpcId, method, params }, { agent });
  assert.equal(res.status, 200, `${method}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as { id: number; result?: any; error?: any };
}

/** A mock server with an open session; returns the agent's session id. */
async function openMock(id: string): Promise<string> {
  await rpc(id, 1, "initialize", { protocolVersion: 1, clientInfo: { name: "test", version: "1" } }, "mock");
  const created = await rpc(id, 2, "session/new", { cwd: work, mcpServers: [] });
  assert.ok(created.result.sessionId, "session/new answers a sessionId");
  return created.result.sessionId;
}

interface SseEvent {
  id: number;
  data: any;
}

/** Reads the SSE stream of `id` until `until` holds for the events so far; returns them and the comments seen. */
async function readSse(id: string, until: (events: SseEvent[], comments: string[]) => boolean, lastEventId?: number) {
  const ctrl = new AbortController();
  const res = await fetch(`${server.url}/v1/acp/${id}`, {
    headers: { accept: "text/event-stream", ...(lastEventId !== undefined ? { "last-event-id": String(lastEventId) } : {}) },
    signal: ctrl.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let ended = false;
  const deadline = setTimeout(() => ctrl.abort(), 20_000);
  try {
    while (!until(events, comments)) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      for (let i = buffer.indexOf("\n\n"); i !== -1; i = buffer.indexOf("\n\n")) {
        const chunk = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const lines = chunk.split("\n");
        const idLine = lines.find((l) => l.startsWith("id: "));
        const dataLine = lines.find((l) => l.startsWith("data: "));
        for (const l of lines) if (l.startsWith(":")) comments.push(l.slice(1).trim());
        if (idLine && dataLine) events.push({ id: Number(idLine.slice(4)), data: JSON.parse(dataLine.slice(6)) });
      }
    }
  } finally {
    clearTimeout(deadline);
    ctrl.abort();
  }
  return { events, comments, ended };
}

async function agentProcesses() {
  return (await server.sdk.listProcesses({ owner: "agent" } as any)).processes;
}

/** The agent process a new server started (the running agent that was not there before). */
async function newAgent(before: Set<string>) {
  const found = (await agentProcesses()).filter((p) => p.status === "running" && !before.has(p.id));
  assert.equal(found.length, 1, `one new agent process: ${JSON.stringify(found)}`);
  assert.equal(found[0]!.owner, "agent");
  return found[0]!;
}

const knownIds = async () => new Set((await agentProcesses()).map((p) => p.id));

describe("agents", () => {
  it("lists every agent with truthful install state, credentials and capabilities", async () => {
    const { agents } = await server.sdk.listAgents();
    assert.deepEqual(agents.map((a) => a.id).sort(), ["claude", "codex", "computer-use", "gemini", "mock", "opencode"]);
    const mock = agents.find((a) => a.id === "mock")!;
    assert.equal(mock.installed, true);
    assert.equal(mock.credentialsAvailable, true);
    assert.equal(mock.capabilities.permissions, true);
    const claude = agents.find((a) => a.id === "claude")!;
    assert.equal(claude.installed, false, "nothing is installed in a fresh state directory");
    assert.equal(claude.credentialsAvailable, !!process.env.ANTHROPIC_API_KEY);
  });

  it("reads the config options by asking the agent itself (config=true)", async () => {
    const mock = await server.sdk.getAgent("mock", { config: true });
    const model = (mock.configOptions as any[]).find((o) => o.id === "model");
    assert.equal(model.category, "model");
    assert.deepEqual(model.options.map((o: any) => o.value), ["mock-fast", "mock-thorough"]);
    const claude = await server.sdk.getAgent("claude", { config: true });
    assert.match(claude.configError ?? "", /not installed/);
  });

  it("installs the built-in mock at once and refuses unknown agents with a 400", async () => {
    const r = await server.sdk.installAgent("mock");
    assert.equal(r.already_installed, true);
    assert.equal(r.artifacts[0]!.source, "builtin");
    await expectProblem(server.sdk.installAgent("nope"), 400, "unsupported_agent");
    await expectProblem(server.sdk.getAgent("nope"), 400, "unsupported_agent");
    await expectProblem(server.sdk.installAgent("claude", { agentVersion: "../../x" }), 400, "invalid_request");
  });
});

describe("the mock agent through the SDK", () => {
  it("runs a whole session: chunks, a tool call, a permission allowed once, destroy, dispose", async () => {
    const before = await knownIds();
    const session = await server.sdk.createSession({ agent: "mock", cwd: work });
    assert.ok(session.agentSessionId.startsWith("mock-"));
    const events: SessionEvent[] = [];
    session.onEvent((e) => void events.push(e));
    const asked: string[][] = [];
    session.onPermissionRequest((req) => {
      asked.push(req.availableReplies);
      void session.respondPermission(req.id, "once");
    });
    const agent = await newAgent(before);
    const result = await session.prompt([{ type: "text", text: "hello tool permission" }]);
    assert.equal(result.stopReason, "end_turn");
    const updates = events.map((e) => (e.payload as any).params?.update).filter(Boolean);
    const text = updates.filter((u) => u.sessionUpdate === "agent_message_chunk").map((u) => u.content.text).join("");
    assert.equal(text, "mock: hello tool permission allowed");
    assert.equal(updates.filter((u) => u.sessionUpdate === "tool_call").length, 2);
    assert.equal(asked.length, 1);
    assert.deepEqual([...asked[0]!].sort(), ["always", "once", "reject"]);
    assert.ok(events.length < 100, `a bounded number of events (${events.length}): the SDK does not loop`);
    assert.equal((await server.sdk.listAcpServers()).servers.filter((s) => s.agent === "mock").length >= 1, true);
    await server.sdk.destroySession(session.id);
    await server.sdk.dispose();
    await eventually("the agent to be stopped", () => !alive(agent.pid!) && !groupAlive(agent.pid!));
    await eventually("the agent to be listed exited", async () => (await server.sdk.getProcess(agent.id)).status === "exited");
  });
});

describe("the SSE stream", () => {
  it("replays from the start, and after Last-Event-ID once a connection dropped", async () => {
    const id = serverId();
    const sessionId = await openMock(id);
    await rpc(id, 3, "session/prompt", { sessionId, prompt: [{ type: "text", text: "one" }] });
    const first = await readSse(id, (ev) => ev.some((e) => e.data.id === 3 && e.data.result));
    assert.deepEqual(first.events.map((e) => e.id), first.events.map((_, i) => i + 1), "ids count from 1");
    assert.equal(first.events[0]!.data.id, 1, "the replay starts with the copy of the initialize answer");
    const last = first.events.at(-1)!.id;
    // the connection is gone; the agent goes on
    await rpc(id, 4, "session/prompt", { sessionId, prompt: [{ type: "text", text: "two" }] });
    const resumed = await readSse(id, (ev) => ev.some((e) => e.data.id === 4 && e.data.result), last);
    assert.equal(resumed.events[0]!.id, last + 1, "resumes right after the last event seen");
    const text = resumed.events.map((e) => e.data.params?.update?.content?.text ?? "").join("");
    assert.equal(text, "mock: two");
    const beat = await readSse(id, (_ev, comments) => comments.includes("heartbeat"), 10_000);
    assert.equal(beat.events.length, 0);
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("keeps a capped log: the oldest events go, and a replay says where it starts", async () => {
    const id = serverId();
    const sessionId = await openMock(id);
    // one chunk per word: more events than a server keeps (10 000)
    const words = Array.from({ length: 10_100 }, (_, i) => `w${i}`).join(" ");
    await rpc(id, 3, "session/prompt", { sessionId, prompt: [{ type: "text", text: words }] });
    const replay = await readSse(id, (ev) => ev.some((e) => e.data.id === 3 && e.data.result));
    const first = replay.events[0]!.id;
    assert.ok(first > 1, "the first events were dropped");
    assert.ok(replay.events.length <= 10_000, `at most 10 000 kept (${replay.events.length})`);
    assert.ok(replay.comments.some((c) => c.includes(`replay starts at event ${first}`)), `the replay says it starts at ${first}: ${replay.comments}`);
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("large envelopes sent at once all reach the agent: a full pipe is waited for, not refused", async () => {
    const id = serverId();
    await openMock(id);
    const big = "x".repeat(1024 * 1024);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(id, { jsonrpc: "2.0", id: 100 + i, method: "_mock/echo", params: { big } })),
    );
    for (const [i, res] of answers.entries()) {
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { jsonrpc: "2.0", id: 100 + i, result: { ok: true, method: "_mock/echo" } });
    }
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("delivers agent requests and takes the client's response with a 202", async () => {
    const id = serverId();
    const sessionId = await openMock(id);
    const prompt = post(id, { jsonrpc: "2.0", id: 7, method: "session/prompt", params: { sessionId, prompt: [{ type: "text", text: "permission" }] } });
    const seen = await readSse(id, (ev) => ev.some((e) => e.data.method === "session/request_permission"));
    const request = seen.events.find((e) => e.data.method === "session/request_permission")!.data;
    assert.deepEqual(request.params.options.map((o: any) => o.kind), ["allow_always", "allow_once", "reject_once"]);
    const answer = await post(id, { jsonrpc: "2.0", id: request.id, result: { outcome: { outcome: "selected", optionId: "reject_once" } } });
    assert.equal(answer.status, 202);
    assert.equal(await answer.text(), "");
    const done = await prompt;
    assert.equal(done.status, 200);
    assert.deepEqual((await done.json()).result, { stopReason: "end_turn" });
    const after = await readSse(id, (ev) => ev.some((e) => e.data.id === 7 && e.data.result));
    assert.match(after.events.map((e) => e.data.params?.update?.content?.text ?? "").join(""), /rejected$/);
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });
});

describe("stopping agents", () => {
  it("DELETE answers at once, ends the stream and stops the agent with its process group", async () => {
    const id = serverId();
    const before = await knownIds();
    await openMock(id);
    const agent = await newAgent(before);
    const stream = readSse(id, () => false);
    await eventually("the stream to be open", async () => true);
    const began = Date.now();
    const res = await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
    const took = Date.now() - began;
    assert.equal(res.status, 204);
    assert.ok(took < 1000, `DELETE took ${took} ms`);
    assert.equal((await stream).ended, true, "the SSE stream ended");
    assert.equal((await server.sdk.listAcpServers()).servers.some((s) => s.serverId === id), false);
    await eventually("the agent and its group to be gone", () => !alive(agent.pid!) && !groupAlive(agent.pid!));
    assert.equal((await server.fetch(`/v1/acp/${id}`, { method: "DELETE" })).status, 204, "deleting again is fine");
  });

  it("a killed agent is reported on the stream and the next POST gets a clear problem", async () => {
    const id = serverId();
    const before = await knownIds();
    const sessionId = await openMock(id);
    const agent = await newAgent(before);
    await server.sdk.killProcess(agent.id);
    const seen = await readSse(id, (ev) => ev.some((e) => e.data.method === "_adapter/agent_exited"));
    const exited = seen.events.find((e) => e.data.method === "_adapter/agent_exited")!.data;
    assert.equal(exited.params.success, false);
    assert.equal(exited.params.signal, "SIGKILL");
    const res = await post(id, { jsonrpc: "2.0", id: 9, method: "session/prompt", params: { sessionId, prompt: [] } });
    assert.equal(res.status, 502);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const problem = await res.json();
    assert.equal(problem.type, "urn:glasspane:error:agent_process_exited");
    assert.match(problem.detail, /killed by SIGKILL/);
    await eventually("the agent to be listed exited", async () => (await server.sdk.getProcess(agent.id)).status === "exited");
    const agentInfo = await server.sdk.getAgent("mock");
    assert.ok(agentInfo.serverStatus, "the agent list reports a server status");
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("shutdown stops every agent", async () => {
    const own = await startServer();
    try {
      const id = serverId();
      const res = await fetch(`${own.url}/v1/acp/${id}?agent=mock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1 } }),
      });
      assert.equal(res.status, 200);
      const agent = (await own.sdk.listProcesses({ owner: "agent" } as any)).processes[0]!;
      assert.ok(alive(agent.pid!));
      await own.stop();
      await eventually("the agent to be gone after shutdown", () => !alive(agent.pid!) && !groupAlive(agent.pid!));
    } finally {
      await own.stop();
    }
  });
});

describe("errors, as problems", () => {
  async function problemOf(res: Response, status: number, code: string) {
    assert.equal(res.status, status, await res.clone().text());
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const p = await res.json();
    assert.equal(p.type, `urn:glasspane:error:${code}`);
    assert.ok(p.detail);
    return p;
  }
  const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1 } };

  it("POST: missing agent, unknown agent, another agent, media type, Accept", async () => {
    const id = serverId();
    assert.match((await problemOf(await post(id, init), 400, "invalid_request")).detail, /agent/);
    await problemOf(await post(id, init, { agent: "nope" }), 400, "unsupported_agent");
    await openMock(id);
    await problemOf(await post(id, init, { agent: "claude" }), 409, "conflict");
    await problemOf(await post(id, init, { headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    await problemOf(await post(id, init, { headers: { accept: "text/html" } }), 406, "not_acceptable");
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("POST: every bad envelope", async () => {
    const id = serverId();
    await openMock(id);
    for (const body of ["{not json", "[]", "[1]", '"text"', "3", "{}", '{"jsonrpc":"1.0","id":1,"method":"x"}', '{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"2.0","result":{}}', '{"jsonrpc":"2.0","id":1,"method":"x","result":{}}', '{"jsonrpc":"2.0","id":{},"method":"x"}', '{"jsonrpc":"2.0","method":""}', '{"jsonrpc":"2.0","id":1,"result":{},"error":{}}']) {
      await problemOf(await post(id, body), 400, "invalid_request");
    }
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("POST: a request the agent leaves unanswered gets a 504 at the deadline; the server goes on", async () => {
    const id = serverId();
    await openMock(id);
    const p = await problemOf(await post(id, { jsonrpc: "2.0", id: 5, method: "_mock/hang", params: {} }), 504, "timeout");
    assert.match(p.detail, new RegExp(`${REQUEST_TIMEOUT_MS} ms`));
    const again = await rpc(id, 6, "session/new", { cwd: work, mcpServers: [] });
    assert.ok(again.result.sessionId);
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });

  it("GET: unknown server 404, Accept 406, bad Last-Event-ID 400", async () => {
    await problemOf(await server.fetch(`/v1/acp/never-made`, { headers: { accept: "text/event-stream" } }), 404, "not_found");
    const id = serverId();
    await openMock(id);
    await problemOf(await server.fetch(`/v1/acp/${id}`, { headers: { accept: "application/json" } }), 406, "not_acceptable");
    await problemOf(await server.fetch(`/v1/acp/${id}`, { headers: { accept: "text/event-stream", "last-event-id": "soon" } }), 400, "invalid_request");
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });
  });
});

describe("the OpenAPI document", () => {
  it("lists the agent, ACP and config routes under the SDK's operation ids", async () => {
    const doc = (await (await server.fetch("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const ops = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    assert.deepEqual(ops.filter((id, i) => ops.indexOf(id) !== i), [], "operationIds are unique");
    for (const op of ["get_v1_agents", "get_v1_agent", "post_v1_agent_install", "get_v1_acp_servers", "get_v1_acp", "post_v1_acp", "delete_v1_acp", "get_v1_config_mcp", "put_v1_config_mcp", "delete_v1_config_mcp", "get_v1_config_skills", "put_v1_config_skills", "delete_v1_config_skills"]) {
      assert.ok(ops.includes(op), `${op} is documented`);
    }
  });
});

describe("config per directory", () => {
  it("stores, reads and deletes MCP servers and skills", async () => {
    const directory = path.join(work, "project");
    const sdk = server.sdk;
    await sdk.setMcpConfig({ directory, mcpName: "files" }, { type: "local", command: "mcp-files", args: ["--root", directory] });
    await sdk.setMcpConfig({ directory, mcpName: "web" }, { type: "remote", url: "http://127.0.0.1:1/mcp", headers: { a: "b" } });
    assert.deepEqual(await sdk.getMcpConfig({ directory, mcpName: "files" }), { type: "local", command: "mcp-files", args: ["--root", directory] });
    const stored = JSON.parse(readFileSync(path.join(directory, ".sandbox-agent", "config", "mcp.json"), "utf8"));
    assert.deepEqual(Object.keys(stored).sort(), ["files", "web"]);
    await sdk.deleteMcpConfig({ directory, mcpName: "files" });
    await expectProblem(sdk.getMcpConfig({ directory, mcpName: "files" }), 404, "not_found");
    await sdk.deleteMcpConfig({ directory, mcpName: "files" });

    await sdk.setSkillsConfig({ directory, skillName: "s" }, { sources: [{ type: "github", source: "o/r", skills: ["a"] }] });
    assert.deepEqual(await sdk.getSkillsConfig({ directory, skillName: "s" }), { sources: [{ type: "github", source: "o/r", skills: ["a"] }] });
    await sdk.deleteSkillsConfig({ directory, skillName: "s" });
    await expectProblem(sdk.getSkillsConfig({ directory, skillName: "s" }), 404, "not_found");

    // a session opened in the directory gets its enabled MCP servers beside the ones it passes
    await sdk.setMcpConfig({ directory, mcpName: "off" }, { type: "local", command: "never", enabled: false });
    const id = serverId();
    await rpc(id, 1, "initialize", { protocolVersion: 1 }, "mock");
    const opened = await rpc(id, 2, "session/new", { cwd: directory, mcpServers: [{ name: "mine", command: "x", args: [], env: [] }] });
    assert.deepEqual(opened.result._meta.mcpServers, ["mine", "web"]);
    await server.fetch(`/v1/acp/${id}`, { method: "DELETE" });

    await expectProblem(sdk.setMcpConfig({ directory: "relative/dir", mcpName: "x" }, { type: "local", command: "c" }), 400, "invalid_request");
    await expectProblem(sdk.setMcpConfig({ directory, mcpName: "x" }, { type: "carrier-pigeon" } as any), 400, "invalid_request");
  });
});
