// npm run bench:agent-step: one model step as each computer-use loop style takes it, side by
// side in one run on one machine (Glasspane and the reference server, each with its own
// 1440x900 desktop and the same xterm), for three cases:
//   xterm command      Return on a typed `clear; echo step-N` in an xterm
//   click opens window right-click on the empty desktop: openbox opens its root menu
//   click on nothing   left-click on the empty desktop: nothing changes
// Loop styles:
//   (a) reference, Anthropic's reference loop: action call, 2 s sleep, screenshot call
//   (b) reference, no sleep: action call, screenshot call
//   (c) Glasspane: one POST /v1/desktop/actions (Anthropic computer_20250124 tool_use)
// A step's screenshot is stale when it differs from a screenshot taken 1 s later (the
// effect was not yet on it). Prints median and p95 step time, stale %, and for Glasspane
// the app's reaction (last change after the action), quietMs and what remains.
//
//   BENCH_N=10            steps per case and loop style
//   BENCH_DISPLAY=99      first X display number the two desktops probe upward from
//   BENCH_ONLY=glasspane  skip the reference
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ChildProcess } from "node:child_process";
import sharp from "sharp";
import { BenchHttpClient } from "./bench-http.js";
import { freePort, spawnReference, startGlasspane } from "./bench-server.js";
import { SETTLE_DEFAULTS } from "../main/desktop/settle.js";

const N = Number(process.env.BENCH_N ?? 10);
const DISPLAY = Number(process.env.BENCH_DISPLAY ?? 99);
const W = 1440;
const H = 900;
const DEADLINE_MS = 15_000;
const XTERM = { x: 40, y: 80 };

interface Server {
  name: string;
  http: BenchHttpClient;
  proc: ChildProcess;
  stateDir: string;
}

async function call(s: Server, method: string, p: string, body?: unknown): Promise<Buffer> {
  const res = await s.http.request(method, p, body === undefined ? undefined : JSON.stringify(body), DEADLINE_MS);
  if (res.status >= 400) throw new Error(`${s.name} ${method} ${p}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  return res.body;
}
const json = async (s: Server, method: string, p: string, body?: unknown) => JSON.parse((await call(s, method, p, body)).toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const screenshot = (s: Server) => call(s, "GET", "/v1/desktop/screenshot?format=png&showCursor=false");


async function healthy(base: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await fetch(`${base}/v1/health`).then((r) => r.ok, () => false))) {
    if (Date.now() > end) throw new Error(`${base} did not answer /v1/health within 30 s`);
    await sleep(100);
  }
}

function client(name: string, base: string, proc: ChildProcess, stateDir: string): Server {
  const u = new URL(base);
  return { name, http: new BenchHttpClient(u.hostname, Number(u.port)), proc, stateDir };
}

async function prepare(s: Server, displayNum: number): Promise<void> {
  const status = await json(s, "POST", "/v1/desktop/start", { width: W, height: H, displayNum });
  if (status.state !== "active") throw new Error(`${s.name}: desktop did not start`);
  await json(s, "POST", "/v1/desktop/launch", { app: "xterm", args: ["-title", "step", "-geometry", `80x20+${XTERM.x}+${XTERM.y}`, "-e", "sh"], wait: true });
  await sleep(1000);
}

/** Pixels equal? (decoded, so two encoders of the same pixels compare equal) */
async function samePixels(a: Buffer, b: Buffer): Promise<boolean> {
  const [x, y] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
  return x.equals(y);
}

interface Case {
  name: string;
  /** untimed: bring the desktop into the state before the step */
  before: (s: Server, i: number) => Promise<void>;
  /** the action as a reference call */
  refAction: (s: Server) => Promise<unknown>;
  /** the same action as a tool_use input */
  anthropic: Record<string, unknown>;
  /** untimed: undo the effect */
  after: (s: Server) => Promise<void>;
}

const inXterm = { x: XTERM.x + 200, y: XTERM.y + 100 };
const emptyDesktop = { x: 1200, y: 800 };

const cases: Case[] = [
  {
    name: "xterm command",
    before: async (s, i) => {
      await call(s, "POST", "/v1/desktop/mouse/click", inXterm);
      await call(s, "POST", "/v1/desktop/keyboard/type", { text: `clear; echo step-${i}` });
    },
    refAction: (s) => call(s, "POST", "/v1/desktop/keyboard/press", { key: "Return" }),
    anthropic: { action: "key", text: "Return" },
    after: async () => undefined,
  },
  {
    name: "click opens window",
    before: async () => undefined,
    refAction: (s) => call(s, "POST", "/v1/desktop/mouse/click", { ...emptyDesktop, button: "right" }),
    anthropic: { action: "right_click", coordinate: [emptyDesktop.x, emptyDesktop.y] },
    after: async (s) => {
      await call(s, "POST", "/v1/desktop/keyboard/press", { key: "Escape" });
    },
  },
  {
    name: "click on nothing",
    // a first click takes the focus from the xterm (its cursor redraws); the timed one changes nothing
    before: async (s) => {
      await call(s, "POST", "/v1/desktop/mouse/click", emptyDesktop);
    },
    refAction: (s) => call(s, "POST", "/v1/desktop/mouse/click", emptyDesktop),
    anthropic: { action: "left_click", coordinate: [emptyDesktop.x, emptyDesktop.y] },
    after: async () => undefined,
  },
];

interface Sample {
  ms: number;
  stale: boolean;
  reactionMs?: number;
}

type Style = "a" | "b" | "c";
const STYLES: Record<Style, string> = {
  a: "(a) reference: action, 2 s sleep, screenshot",
  b: "(b) reference: action, screenshot",
  c: "(c) Glasspane: one POST /v1/desktop/actions",
};

/** One step; returns its time and the screenshot it ended with. */
async function runStep(style: Style, s: Server, c: Case): Promise<{ ms: number; image: Buffer; reactionMs?: number }> {
  const t0 = performance.now();
  if (style === "c") {
    const body = {
      dialect: "anthropic",
      tool: { type: "computer_20250124", name: "computer", display_width_px: W, display_height_px: H },
      content: { type: "tool_use", id: "toolu_bench", name: "computer", input: c.anthropic },
    };
    const res = JSON.parse((await call(s, "POST", "/v1/desktop/actions", body)).toString());
    const ms = performance.now() - t0;
    const img = res.result[0].content.find((x: { type: string }) => x.type === "image");
    const g = res.glasspane;
    const actionsMs = g.timings.actionsMs.reduce((a: number, b: number) => a + b, 0);
    // the last change after the action started: the app's own reaction time
    if (process.env.BENCH_VERBOSE) console.log(c.name, Math.round(ms), JSON.stringify(g.timings), JSON.stringify(g.settle));
    const reactionMs = g.settle?.changed ? actionsMs + g.timings.settleMs - g.settle.sinceLastChangeMs : undefined;
    return { ms, image: Buffer.from(img.source.data, "base64"), reactionMs };
  }
  await c.refAction(s);
  if (style === "a") await sleep(2000);
  const image = await screenshot(s);
  return { ms: performance.now() - t0, image };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const fmt = (ms: number) => (Number.isNaN(ms) ? "-" : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

async function main() {
  const servers: Partial<Record<"gp" | "ref", Server>> = {};
  try {
    const gpDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-step-"));
    const gp = await startGlasspane(gpDir, { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" });
    servers.gp = client("Glasspane", gp.base, gp.server, gpDir);
    await prepare(servers.gp, DISPLAY);
    if (process.env.BENCH_ONLY !== "glasspane") {
      const refDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-step-ref-"));
      const port = await freePort();
      const proc = spawnReference(port, refDir);
      await healthy(`http://127.0.0.1:${port}`);
      servers.ref = client("reference", `http://127.0.0.1:${port}`, proc, refDir);
      await prepare(servers.ref, DISPLAY + 10);
    }
    const results = new Map<string, Sample[]>();
    const styles: Style[] = servers.ref ? ["a", "b", "c"] : ["c"];
    // interleaved: every round runs each case in each style once
    for (let i = 0; i < N + 1; i++) {
      for (const c of cases) {
        for (const style of styles) {
          const s = style === "c" ? servers.gp! : servers.ref!;
          await c.before(s, i);
          await sleep(style === "c" ? 0 : 400);
          if (style === "c") await json(s, "POST", "/v1/desktop/wait", { until: "still", quietMs: 300, timeoutMs: 5000 });
          const step = await runStep(style, s, c);
          await sleep(1000);
          const stale = !(await samePixels(step.image, await screenshot(s)));
          await c.after(s);
          await sleep(200);
          if (i === 0) continue; // warm-up
          const key = `${c.name}|${style}`;
          if (!results.has(key)) results.set(key, []);
          results.get(key)!.push({ ms: step.ms, stale, reactionMs: step.reactionMs });
        }
      }
    }
    console.log(`agent step, ${N} steps per row, ${W}x${H}, Glasspane settle defaults quietMs=${SETTLE_DEFAULTS.quietMs} firstChangeMs=${SETTLE_DEFAULTS.firstChangeMs}`);
    console.log(["case".padEnd(20), "loop".padEnd(46), "median ms".padStart(10), "p95 ms".padStart(8), "stale".padStart(7), "  reaction+quiet+overhead (median)"].join(""));
    for (const c of cases) {
      for (const style of styles) {
        const xs = results.get(`${c.name}|${style}`) ?? [];
        const ms = xs.map((x) => x.ms);
        const stale = xs.length ? (100 * xs.filter((x) => x.stale).length) / xs.length : NaN;
        let breakdown = "";
        if (style === "c") {
          const reacted = xs.filter((x) => x.reactionMs !== undefined);
          if (reacted.length) {
            const r = pct(reacted.map((x) => x.reactionMs!), 50);
            const over = pct(reacted.map((x) => x.ms - x.reactionMs! - SETTLE_DEFAULTS.quietMs), 50);
            breakdown = `  ${fmt(r)} + ${SETTLE_DEFAULTS.quietMs} + ${fmt(over)}`;
          } else breakdown = `  no change: first-change window ${SETTLE_DEFAULTS.firstChangeMs} + ${fmt(pct(ms, 50) - SETTLE_DEFAULTS.firstChangeMs)}`;
        }
        console.log([c.name.padEnd(20), STYLES[style].padEnd(46), fmt(pct(ms, 50)).padStart(10), fmt(pct(ms, 95)).padStart(8), `${stale.toFixed(0)} %`.padStart(7), breakdown].join(""));
      }
      if (servers.ref) {
        const a = pct((results.get(`${c.name}|a`) ?? []).map((x) => x.ms), 50);
        const g = pct((results.get(`${c.name}|c`) ?? []).map((x) => x.ms), 50);
        console.log(`${"".padEnd(20)}Glasspane is ${(a / g).toFixed(1)}x faster than (a)`);
      }
    }
  } finally {
    for (const s of Object.values(servers)) {
      if (!s) continue;
      await call(s, "POST", "/v1/desktop/stop").catch(() => undefined);
      s.proc.kill("SIGTERM");
      await new Promise((r) => (s.proc.exitCode !== null ? r(undefined) : s.proc.once("exit", r)));
      s.http.close();
      rmSync(s.stateDir, { recursive: true, force: true });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
