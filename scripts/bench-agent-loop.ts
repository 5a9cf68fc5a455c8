// npm run bench:agent-loop: what Glasspane's computer-use agent adds around the model
// call, per step, over a scripted 20-step run (a local Anthropic stand-in that answers at
// once): from the model's answer leaving the stand-in to the next request arriving there
// (SDK parsing, ACP updates to the client, the action step: actions + settle + capture +
// encode + HTTP, the trace). Against the same 20 steps driven through the reference
// server's REST calls as Anthropic's reference loop does (action, 2 s sleep, screenshot)
// and without the sleep. Both desktops 1440x900 with the same xterm.
//
//   BENCH_STEPS=20   steps per run
//   BENCH_DISPLAY=120  first X display number the desktops probe upward from
//   BENCH_ONLY=glasspane  skip the reference
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ChildProcess } from "node:child_process";
import { SandboxAgent } from "sandbox-agent";
import type { BetaContentBlock } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import { freePort, spawnReference, startGlasspane } from "./bench-server.js";
import { startAnthropicScript } from "../test/support/model-stubs.js";

const STEPS = Number(process.env.BENCH_STEPS ?? 20);
const DISPLAY = Number(process.env.BENCH_DISPLAY ?? 120);
const W = 1440;
const H = 900;
const XTERM = { x: 40, y: 80 };
const IN_XTERM = { x: XTERM.x + 200, y: XTERM.y + 100 };

/** The scripted step i: click into the xterm, type, Return, look; as a tool_use input and as reference calls. */
function stepOf(i: number): { input: Record<string, unknown>; ref: Array<[string, string, unknown?]> } {
  switch (i % 4) {
    case 0:
      return { input: { action: "left_click", coordinate: [IN_XTERM.x, IN_XTERM.y] }, ref: [["POST", "/v1/desktop/mouse/click", IN_XTERM]] };
    case 1:
      return { input: { action: "type", text: `echo step-${i}` }, ref: [["POST", "/v1/desktop/keyboard/type", { text: `echo step-${i}` }]] };
    case 2:
      return { input: { action: "key", text: "Return" }, ref: [["POST", "/v1/desktop/keyboard/press", { key: "Return" }]] };
    default:
      return { input: { action: "screenshot" }, ref: [] };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const fmt = (ms: number) => (Number.isNaN(ms) ? "-" : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

async function call(base: string, method: string, p: string, body?: unknown): Promise<Buffer> {
  const res = await fetch(base + p, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const buf = Buffer.from(await res.arrayBuffer());
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${buf.toString().slice(0, 300)}`);
  return buf;
}

async function prepare(base: string, displayNum: number): Promise<void> {
  const status = JSON.parse((await call(base, "POST", "/v1/desktop/start", { width: W, height: H, displayNum })).toString());
  if (status.state !== "active") throw new Error(`${base}: desktop did not start`);
  await call(base, "POST", "/v1/desktop/launch", { app: "xterm", args: ["-title", "loop", "-geometry", `80x20+${XTERM.x}+${XTERM.y}`, "-e", "sh"], wait: true });
  await sleep(1000);
}

/** Glasspane: the computer-use agent through the SDK; per step, stand-in answer -> next request. */
async function glasspaneRun(base: string): Promise<{ stepMs: number[]; actionMs: number[] }> {
  const turns: BetaContentBlock[][] = Array.from({ length: STEPS }, (_, i) => [{ type: "tool_use", id: `toolu_${i}`, name: "computer", input: stepOf(i).input } as BetaContentBlock]);
  const model = await startAnthropicScript(turns);
  const sdk = await SandboxAgent.connect({ baseUrl: base } as never);
  try {
    const session = await sdk.createSession({ agent: "computer-use", sessionInit: { cwd: os.tmpdir(), mcpServers: [], _meta: { computerUse: { provider: "anthropic", baseUrl: model.url, permissions: [], maxSteps: STEPS + 1 } } } } as never);
    const actionMs: number[] = [];
    session.onEvent((e) => {
      const u = (e.payload as { params?: { update?: { sessionUpdate?: string; rawOutput?: { glasspane?: { timings?: { totalMs: number } } } } } }).params?.update;
      if (u?.sessionUpdate === "tool_call_update" && u.rawOutput?.glasspane?.timings) actionMs.push(u.rawOutput.glasspane.timings.totalMs);
    });
    const r = await session.prompt([{ type: "text", text: "Run the scripted steps." }]);
    if (r.stopReason !== "end_turn") throw new Error(`the run ended ${r.stopReason}`);
    if (model.problems.length) throw new Error(`the stand-in saw: ${model.problems.join("; ")}`);
    const stepMs = model.answeredAt.slice(0, STEPS).map((t, i) => model.requests[i + 1]!.at - t);
    return { stepMs, actionMs };
  } finally {
    await sdk.dispose();
    await model.close();
  }
}

/** The reference: each step's REST calls, then (a) 2 s sleep or (b) none, then a screenshot, base64 for the model. */
async function referenceRun(base: string, sleepMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    for (const [method, p, body] of stepOf(i).ref) await call(base, method, p, body);
    if (sleepMs) await sleep(sleepMs);
    (await call(base, "GET", "/v1/desktop/screenshot?format=png")).toString("base64");
    out.push(performance.now() - t0);
  }
  return out;
}

async function main() {
  const stops: Array<{ proc: ChildProcess; dir: string; base: string }> = [];
  try {
    const gpDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-loop-"));
    const gp = await startGlasspane(gpDir, { ...process.env, ANTHROPIC_API_KEY: "bench", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" });
    stops.push({ proc: gp.server, dir: gpDir, base: gp.base });
    await prepare(gp.base, DISPLAY);
    const rows: Array<[string, number[]]> = [];
    const g = await glasspaneRun(gp.base);
    rows.push(["Glasspane computer-use agent (ACP, SDK client)", g.stepMs]);
    rows.push(["  of which the action step (server timing)", g.actionMs]);
    if (process.env.BENCH_ONLY !== "glasspane") {
      const refDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-loop-ref-"));
      const port = await freePort();
      const proc = spawnReference(port, refDir);
      const base = `http://127.0.0.1:${port}`;
      stops.push({ proc, dir: refDir, base });
      const end = Date.now() + 30_000;
      while (!(await fetch(`${base}/v1/health`).then((r) => r.ok, () => false))) {
        if (Date.now() > end) throw new Error("the reference did not answer /v1/health within 30 s");
        await sleep(100);
      }
      await prepare(base, DISPLAY + 10);
      rows.push(["reference REST: action, 2 s sleep, screenshot", await referenceRun(base, 2000)]);
      rows.push(["reference REST: action, screenshot (no sleep)", await referenceRun(base, 0)]);
    }
    console.log(`agent loop, ${STEPS} scripted steps (click, type, Return, screenshot), ${W}x${H}; time added around the model call, per step`);
    console.log(["loop".padEnd(50), "median ms".padStart(10), "p95 ms".padStart(9), "total s".padStart(9)].join(""));
    for (const [name, xs] of rows) console.log([name.padEnd(50), fmt(pct(xs, 50)).padStart(10), fmt(pct(xs, 95)).padStart(9), (xs.reduce((a, b) => a + b, 0) / 1000).toFixed(1).padStart(9)].join(""));
  } finally {
    for (const s of stops) {
      await call(s.base, "POST", "/v1/desktop/stop").catch(() => undefined);
      s.proc.kill("SIGTERM");
      await new Promise((r) => (s.proc.exitCode !== null ? r(undefined) : s.proc.once("exit", r)));
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
