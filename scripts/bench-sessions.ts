// npm run bench:sessions: agent sessions over HTTP. For the built-in mock agent and for the
// real Claude Code ACP adapter (on a local stand-in for the Messages API):
//   - session create to the first streamed chunk, through the published SDK (a new
//     connection each time, so it includes spawning the agent);
//   - one envelope's round trip over HTTP (POST -> 200 answer, and POST -> the copy on the
//     SSE stream) against the same agent spoken to over plain stdio: the transport's overhead.
// The reference server (`sandbox-agent server` from @sandbox-agent/cli) beside it where it
// can do the same: its mock over raw POSTs (its mock cannot open a session).
// Prints medians; asserts nothing. BENCH_N (100) envelopes, BENCH_SESSIONS (8) sessions.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SandboxAgent } from "sandbox-agent";
import { freePort, referenceBinary, repoRoot, startGlasspane } from "./bench-server.js";
import { startAnthropicStub } from "../test/support/model-stubs.js";

const N = Number(process.env.BENCH_N ?? 100);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 8);

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const fmt = (ms: number) => (Number.isNaN(ms) ? "-" : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/** Session create -> first agent_message_chunk, through the SDK, a fresh connection each time. */
async function createToFirstChunk(base: string, agent: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sdk = await SandboxAgent.connect({ baseUrl: base, waitForHealth: { timeoutMs: 10_000 } } as any);
    const began = performance.now();
    const session = await sdk.createSession({ agent, cwd: os.tmpdir() });
    let first: number | undefined;
    const chunk = new Promise<void>((resolve) =>
      session.onEvent((e) => {
        if ((e.payload as any).params?.update?.sessionUpdate === "agent_message_chunk" && first === undefined) {
          first = performance.now();
          resolve();
        }
      }),
    );
    const turn = session.prompt([{ type: "text", text: "Say hello." }]);
    await withDeadline(chunk, 60_000, `${agent} first chunk`);
    times.push(first! - began);
    await withDeadline(turn, 60_000, `${agent} turn`);
    await sdk.dispose();
  }
  return times;
}

/** Reads an SSE stream and hands each envelope to `onEnvelope`. */
async function followSse(url: string, signal: AbortSignal, onEnvelope: (e: any) => void) {
  const res = await fetch(url, { headers: { accept: "text/event-stream" }, signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf("\n\n"); i !== -1; i = buffer.indexOf("\n\n")) {
          const data = buffer.slice(0, i).split("\n").find((l) => l.startsWith("data:"));
          buffer = buffer.slice(i + 2);
          if (data) onEnvelope(JSON.parse(data.slice(5)));
        }
      }
    } catch {
      // aborted
    }
  })();
}

/** `N` requests over HTTP: POST -> 200 answer, and POST -> the answer's copy on the SSE stream. */
async function httpRoundTrips(base: string, agent: string, method: string, params: unknown) {
  const id = `bench-${agent}-${process.pid}-${Date.now()}`;
  const url = `${base}/v1/acp/${id}`;
  const postEnvelope = (envelope: unknown, query = "") =>
    fetch(url + query, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(envelope) });
  const init = await postEnvelope({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: 1, clientInfo: { name: "bench", version: "1" } } }, `?agent=${agent}`);
  if (init.status !== 200) throw new Error(`${agent} initialize: ${init.status} ${await init.text()}`);
  await init.text();
  const ctrl = new AbortController();
  const waiting = new Map<number, () => void>();
  await followSse(url, ctrl.signal, (e) => waiting.get(e.id)?.());
  const post: number[] = [];
  const sse: number[] = [];
  try {
    for (let i = 1; i <= N + 5; i++) {
      const began = performance.now();
      const onStream = new Promise<number>((r) => waiting.set(i, () => r(performance.now())));
      const res = await postEnvelope({ jsonrpc: "2.0", id: i, method, params });
      await res.text();
      const answered = performance.now();
      const streamed = await withDeadline(onStream, 10_000, "SSE copy");
      waiting.delete(i);
      if (i <= 5) continue; // warm-up
      post.push(answered - began);
      sse.push(streamed - began);
    }
  } finally {
    ctrl.abort();
    await fetch(url, { method: "DELETE", signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  }
  return { post: median(post), sse: median(sse) };
}

/** The same requests written straight to the agent's stdin, answers read from its stdout. */
async function stdioRoundTrips(command: string, args: string[], env: NodeJS.ProcessEnv, method: string, params: unknown): Promise<number> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "ignore"], env: { ...process.env, ...env }, detached: true });
  const waiting = new Map<number, () => void>();
  let buffer = "";
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      try {
        waiting.get(JSON.parse(line).id)?.();
      } catch {
        // not JSON-RPC
      }
    }
  });
  const call = (id: number, m: string, p: unknown) => {
    const answered = new Promise<void>((r) => waiting.set(id, r));
    child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id, method: m, params: p })}\n`);
    return withDeadline(answered, 30_000, `stdio ${m}`);
  };
  try {
    await call(0, "initialize", { protocolVersion: 1, clientInfo: { name: "bench", version: "1" } });
    const times: number[] = [];
    for (let i = 1; i <= N + 5; i++) {
      const began = performance.now();
      await call(i, method, params);
      if (i > 5) times.push(performance.now() - began);
    }
    return median(times);
  } finally {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
}


async function startReference(): Promise<{ base: string; proc: ChildProcess; home: string }> {
  const bin = referenceBinary();
  const home = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-ref-"));
  const port = await freePort();
  const proc = spawn(bin, ["server", "--no-token", "--no-telemetry", "--host", "127.0.0.1", "--port", String(port)], { stdio: "ignore", env: { ...process.env, HOME: home } });
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    if ((await fetch(`${base}/v1/health`).catch(() => undefined))?.ok) break;
    if (Date.now() > end) throw new Error("the reference server did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, proc, home };
}

async function main() {
  const stub = await startAnthropicStub();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-sessions-"));
  const claudeConfig = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-claude-"));
  const claudeEnv = { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: "sk-ant-local-stub", CLAUDE_CONFIG_DIR: claudeConfig };
  const { server, base } = await startGlasspane(stateDir, { ...process.env, ...claudeEnv });
  const rows: [string, string, string, string][] = [];
  try {
    const sdk = await SandboxAgent.connect({ baseUrl: base } as any);
    const installStarted = performance.now();
    const install = await sdk.installAgent("claude");
    const installMs = performance.now() - installStarted;
    console.log(`claude installed from npm in ${(installMs / 1000).toFixed(1)} s (${install.already_installed ? "already there" : "fresh"})`);
    await sdk.dispose();
    const mockScript = path.join(repoRoot, "dist", "main", "sessions", "mock-agent.js");

    const mockChunk = median(await createToFirstChunk(base, "mock", SESSIONS));
    const claudeChunk = median(await createToFirstChunk(base, "claude", Math.max(2, Math.floor(SESSIONS / 2))));
    // a request each agent answers at once by itself: initialize
    const initParams = { protocolVersion: 1, clientInfo: { name: "bench", version: "1" } };
    const mockHttp = await httpRoundTrips(base, "mock", "initialize", initParams);
    const mockStdio = await stdioRoundTrips(process.execPath, [mockScript], {}, "initialize", initParams);
    const claudeProgram = install.artifacts[0]!.path;
    const claudeHttp = await httpRoundTrips(base, "claude", "initialize", initParams);
    const claudeStdio = await stdioRoundTrips(claudeProgram, [], { ...claudeEnv, IS_SANDBOX: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }, "initialize", initParams);

    let ref: { post: number; sse: number } | undefined;
    let refNote = "";
    try {
      const reference = await startReference();
      try {
        const installed = await fetch(`${reference.base}/v1/agents/mock/install`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        if (!installed.ok) throw new Error(`mock install: ${installed.status} ${await installed.text()}`);
        ref = await httpRoundTrips(reference.base, "mock", "initialize", initParams);
      } finally {
        reference.proc.kill("SIGKILL");
        rmSync(reference.home, { recursive: true, force: true });
      }
    } catch (err) {
      refNote = (err as Error).message;
    }

    rows.push(["session create -> first chunk (SDK, spawn included)", fmt(mockChunk), fmt(claudeChunk), "- (its mock opens no session)"]);
    rows.push(["envelope over plain stdio (agent alone)", fmt(mockStdio), fmt(claudeStdio), "-"]);
    rows.push(["envelope POST -> 200 answer", fmt(mockHttp.post), fmt(claudeHttp.post), ref ? fmt(ref.post) : "-"]);
    rows.push(["envelope POST -> copy on SSE", fmt(mockHttp.sse), fmt(claudeHttp.sse), ref ? fmt(ref.sse) : "-"]);
    rows.push(["HTTP transport overhead (POST->200 minus stdio)", fmt(mockHttp.post - mockStdio), fmt(claudeHttp.post - claudeStdio), "-"]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...[["ms, medians", "Glasspane mock", "Glasspane claude (stub API)", "reference mock"], ...rows].map((r) => r[i]!.length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    console.log(line(["ms, medians", "Glasspane mock", "Glasspane claude (stub API)", "reference mock"]));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const r of rows) console.log(line(r));
    console.log(`(${N} envelopes, ${SESSIONS} mock sessions, ${Math.max(2, Math.floor(SESSIONS / 2))} claude sessions)${refNote ? `; reference: ${refNote}` : ""}`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    await stub.close();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(claudeConfig, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
