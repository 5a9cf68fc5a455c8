// npm run bench: Glasspane and the reference server (`sandbox-agent server` from
// @sandbox-agent/cli) side by side on this machine. Each gets its own 1440x900 desktop with
// the same windows; the same HTTP calls go to both, alternating call by call, so machine
// noise hits both alike. Prints medians, p95s, the ratio, and the CPU time each server and
// its children spent per call. Asserts nothing.
//
//   BENCH_N=60          calls per operation to Glasspane
//   BENCH_REF_N=10      calls per operation to the reference (it takes 0.3-5 s a call, or hangs)
//   BENCH_DISPLAY=99    first X display number the two desktops probe upward from
//   BENCH_ONLY=glasspane  skip the reference
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BenchHttpClient } from "./bench-http.js";
import { freePort, spawnReference } from "./bench-server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const N = Number(process.env.BENCH_N ?? 60);
const REF_N = Number(process.env.BENCH_REF_N ?? 10);
const DISPLAY = Number(process.env.BENCH_DISPLAY ?? 99);
/** Glasspane calls per operation block; the reference gets one call per block. */
const BLOCK = 5;
const WARMUP_ROUNDS = 1;
/** A call that has not answered by then is a failure (a hang), not a sample. The reference's window list takes 3-5 s. */
const CALL_DEADLINE_MS = 10_000;
/** After this many hangs and no answer at all, an operation is not called again on that server. */
const GIVE_UP_AFTER = 2;
const W = 1440;
const H = 900;
const TICK_MS = 1000 / 100; // /proc stat times are in clock ticks (USER_HZ = 100 on Linux)

interface Target {
  name: string;
  base: string;
  http: BenchHttpClient;
  proc: ChildProcess;
  stateDir: string;
  typedFile: string;
  n: number;
  /** pids outside the server's process tree that belong to it (the reference's dbus-daemon) */
  strays: number[];
}

interface Op {
  name: string;
  target?: number;
  run: (t: Target, i: number) => Promise<unknown>;
}

interface Stats {
  samples: number[];
  failures: number;
  firstError?: string;
  cpuTicks: number;
  cpuCalls: number;
}

// ---- HTTP: one keep-alive connection per server, every call with a deadline ----

async function call(t: Target, method: string, p: string, body?: unknown): Promise<Buffer> {
  const res = await t.http.request(method, p, body === undefined ? undefined : JSON.stringify(body), CALL_DEADLINE_MS);
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  return res.body;
}

const json = async (t: Target, method: string, p: string, body?: unknown) => JSON.parse((await call(t, method, p, body)).toString());

// ---- processes ----


async function waitHealthy(base: string, proc: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  proc.once("exit", () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${what} exited before it answered`);
    const ok = await fetch(`${base}/v1/health`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer /v1/health within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startGlasspane(): Promise<Target> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-"));
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(root, "bin", "glasspane.js"), "server", "--port", String(port), "--no-token", "--state-dir", stateDir], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, proc, "glasspane server");
  return target("Glasspane", base, proc, stateDir, N);
}

async function startReference(): Promise<Target> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-ref-"));
  const port = await freePort();
  // its state (desktop home, logs) goes under $HOME/.local/state/sandbox-agent
  const proc = spawnReference(port, stateDir);
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, proc, "reference server");
  return target("reference", base, proc, stateDir, REF_N);
}

function target(name: string, base: string, proc: ChildProcess, stateDir: string, n: number): Target {
  const url = new URL(base);
  return { name, base, http: new BenchHttpClient(url.hostname, Number(url.port)), proc, stateDir, typedFile: path.join(stateDir, "typed.txt"), n, strays: [] };
}

/** Starts the desktop and opens the same two xterms; focuses the one that types into a file. */
async function prepareDesktop(t: Target, displayNum: number): Promise<void> {
  const status = await json(t, "POST", "/v1/desktop/start", { width: W, height: H, displayNum });
  if (status.state !== "active") throw new Error(`${t.name}: desktop did not start: ${JSON.stringify(status)}`);
  const known = new Set(processTree(t.proc.pid!));
  t.strays = (status.processes ?? []).map((p: { pid: number }) => p.pid).filter((pid: number) => pid && !known.has(pid));
  writeFileSync(t.typedFile, "");
  await json(t, "POST", "/v1/desktop/launch", {
    app: "xterm",
    args: ["-title", "listing", "-geometry", "100x30+700+80", "-e", "sh", "-c", "ls -la /usr/bin; sleep 3600"],
    wait: true,
  });
  const typing = await json(t, "POST", "/v1/desktop/launch", {
    app: "xterm",
    args: ["-title", "bench", "-geometry", "80x20+40+80", "-e", "sh", "-c", `cat > ${t.typedFile}`],
    wait: true,
  });
  await new Promise((r) => setTimeout(r, 500)); // let openbox settle, then give the typing xterm the focus
  if (typing.windowId) await call(t, "POST", `/v1/desktop/windows/${typing.windowId}/focus`).catch(() => undefined);
  await call(t, "POST", "/v1/desktop/mouse/click", { x: 300, y: 300 }); // inside the typing xterm
}

async function stop(t: Target): Promise<void> {
  await call(t, "POST", "/v1/desktop/stop").catch(() => undefined);
  const pids = [...processTree(t.proc.pid!).filter((p) => p !== t.proc.pid), ...t.strays];
  t.proc.kill("SIGTERM");
  await new Promise((r) => (t.proc.exitCode !== null ? r(undefined) : t.proc.once("exit", r)));
  // the reference leaves Xvfb, dbus-daemon and apps behind when it exits
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  t.http.close();
  rmSync(t.stateDir, { recursive: true, force: true });
}

// ---- CPU accounting from /proc ----

function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let children = "";
    try {
      children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8");
    } catch {
      continue;
    }
    for (const c of children.split(" ")) if (c.trim()) out.push(Number(c));
  }
  return out;
}

/** utime + stime + cutime + cstime of the server, its live descendants and its strays, in ticks. */
function cpuTicks(t: Target): number {
  let total = 0;
  for (const pid of [...processTree(t.proc.pid!), ...t.strays]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields 14-17 of stat; f[0] is field 3
      total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* exited meanwhile; its time moved to the parent's cutime */
    }
  }
  return total;
}

/**
 * Waits until `file` ends with `text`: inotify says when it changes, so the client does not
 * spin on a CPU the xterm and the X server need (a busy poll slowed typing down by half).
 */
function arrived(file: string, text: string): Promise<void> {
  const has = () => readFileSync(file, "utf8").endsWith(text);
  if (has()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      watcher.close();
      clearInterval(poll);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const check = () => has() && done();
    const watcher = watch(file, check);
    const poll = setInterval(check, 20); // in case an event was missed
    const timer = setTimeout(() => done(new Error(`typed text ${JSON.stringify(text)} did not arrive within ${CALL_DEADLINE_MS} ms`)), CALL_DEADLINE_MS);
  });
}

/**
 * Waits (at most 1 s) until the server and its children stop using CPU, so work one call
 * leaves behind (an encoder finishing, the reference's helper processes exiting) is
 * charged to that call and does not slow down the next one, on either server.
 */
async function quiesce(t: Target): Promise<void> {
  const end = performance.now() + 1000;
  let last = cpuTicks(t);
  let still = 0;
  while (still < 2 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
    const now = cpuTicks(t);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/**
 * Rounds over all operations, so noise from other work on the machine spreads evenly. In
 * each round every operation runs as one block: BLOCK Glasspane calls with one reference
 * call among them (the reference is ~100x slower), its place alternating. The CPU of each
 * server's process tree is read before the block and after it, once the tree is idle
 * again. The reference leaves work behind (helper processes exit after it answers): that
 * is waited out before Glasspane's next call.
 */
async function runRounds(gp: Target, ref: Target | undefined, stats: Map<string, Stats>, key: (op: Op, t: Target) => string): Promise<void> {
  const targets = ref ? [gp, ref] : [gp];
  const rounds = Math.ceil(N / BLOCK) + WARMUP_ROUNDS;
  for (let r = 0; r < rounds; r++) {
    const record = r >= WARMUP_ROUNDS;
    const refActive = ref !== undefined && r < REF_N + WARMUP_ROUNDS;
    for (const op of ops) {
      const cpu0 = new Map(targets.map((t) => [t, cpuTicks(t)] as const));
      const calls = new Map<Target, number>(targets.map((t) => [t, 0]));
      const once = async (t: Target, i: number) => {
        const s = stats.get(key(op, t))!;
        if (s.failures >= GIVE_UP_AFTER && s.samples.length === 0) return; // it hangs: stop feeding it
        calls.set(t, calls.get(t)! + 1);
        const t0 = performance.now();
        try {
          await op.run(t, i);
          if (record) s.samples.push(performance.now() - t0);
        } catch (err) {
          s.failures++;
          s.firstError ??= (err as Error).message;
        }
      };
      for (let j = 0; j < BLOCK; j++) {
        if (refActive && j === r % 2) {
          await once(ref!, r);
          await quiesce(ref!);
        }
        await once(gp, r * BLOCK + j);
      }
      for (const t of targets) await quiesce(t);
      if (!record) continue;
      for (const t of targets) {
        const s = stats.get(key(op, t))!;
        s.cpuTicks += cpuTicks(t) - cpu0.get(t)!;
        s.cpuCalls += calls.get(t)!;
      }
    }
  }
}

// ---- the operations ----

let lineNo = 0;
const ops: Op[] = [
  { name: "screenshot PNG", target: 15, run: (t) => call(t, "GET", "/v1/desktop/screenshot") },
  { name: "screenshot JPEG q70", target: 20, run: (t) => call(t, "GET", "/v1/desktop/screenshot?format=jpeg&quality=70") },
  { name: "screenshot region 400x300", run: (t) => call(t, "GET", "/v1/desktop/screenshot/region?x=100&y=100&width=400&height=300") },
  { name: "mouse move", target: 1.5, run: (t, i) => call(t, "POST", "/v1/desktop/mouse/move", { x: 100 + (i % 50), y: 850 }) },
  { name: "mouse click", target: 2, run: (t) => call(t, "POST", "/v1/desktop/mouse/click", { x: 300, y: 300 }) },
  {
    name: "type 16 chars (arrived)",
    target: 10,
    run: async (t) => {
      // 15 characters + Enter, timed until the line is in the file: the app has it
      const text = `line${String(++lineNo).padStart(5, "0")}abcdef`.slice(0, 15);
      await call(t, "POST", "/v1/desktop/keyboard/type", { text: `${text}\n` });
      await arrived(t.typedFile, `${text}\n`);
    },
  },
  { name: "key press", run: (t) => call(t, "POST", "/v1/desktop/keyboard/press", { key: "Shift_L" }) },
  { name: "window list", target: 3, run: (t) => call(t, "GET", "/v1/desktop/windows") },
  { name: "clipboard set", target: 2, run: (t, i) => call(t, "POST", "/v1/desktop/clipboard", { text: `bench ${i} héllo` }) },
  {
    name: "clipboard get",
    target: 2,
    run: async (t, i) => {
      const got = await json(t, "GET", "/v1/desktop/clipboard");
      if (typeof got.text !== "string") throw new Error(`clipboard get answered ${JSON.stringify(got)}`);
      void i;
    },
  },
  { name: "mouse position", run: (t) => call(t, "GET", "/v1/desktop/mouse/position") },
];

async function main() {
  const targets: Target[] = [];
  const load0 = readFileSync("/proc/loadavg", "utf8").trim();
  try {
    const gp = await startGlasspane();
    targets.push(gp);
    await prepareDesktop(gp, DISPLAY);
    const ref = process.env.BENCH_ONLY === "glasspane" ? undefined : await startReference();
    if (ref) {
      targets.push(ref);
      await prepareDesktop(ref, DISPLAY + 10);
    }
    const stats = new Map<string, Stats>();
    const key = (op: Op, t: Target) => `${op.name}\u0000${t.name}`;
    for (const op of ops) for (const t of targets) stats.set(key(op, t), { samples: [], failures: 0, cpuTicks: 0, cpuCalls: 0 });

    const started = performance.now();
    await runRounds(gp, ref, stats, key);
    // then Glasspane alone, with the reference and its desktop stopped: what it does on this machine by itself
    const alone = new Map<string, Stats>();
    for (const op of ops) alone.set(key(op, gp), { samples: [], failures: 0, cpuTicks: 0, cpuCalls: 0 });
    if (ref) {
      await stop(ref);
      targets.pop();
      await runRounds(gp, undefined, alone, key);
    }
    const seconds = (performance.now() - started) / 1000;
    const load1 = readFileSync("/proc/loadavg", "utf8").trim();
    printReport(ops, [gp, ...(ref ? [ref] : [])], stats, ref ? alone : undefined, key, { seconds, load0, load1 });
  } finally {
    for (const t of targets.reverse()) await stop(t).catch((err) => console.error(`stopping ${t.name}: ${err.message}`));
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function printReport(
  opList: Op[],
  targets: Target[],
  stats: Map<string, Stats>,
  alone: Map<string, Stats> | undefined,
  key: (op: Op, t: Target) => string,
  run: { seconds: number; load0: string; load1: string },
) {
  const fmt = (n: number) => (Number.isNaN(n) ? "-" : n < 10 ? n.toFixed(2) : n < 1000 ? n.toFixed(1) : n.toFixed(0));
  const med = (s: Stats | undefined) => (s ? quantile([...s.samples].sort((a, b) => a - b), 0.5) : NaN);
  const p95 = (s: Stats | undefined) => (s ? quantile([...s.samples].sort((a, b) => a - b), 0.95) : NaN);
  const cpu = (s?: Stats) => (s && s.cpuCalls > 0 ? fmt((s.cpuTicks * TICK_MS) / s.cpuCalls) : "-");
  const [gp, ref] = targets as [Target, Target | undefined];
  console.log(`\nDesktop calls over HTTP, ${W}x${H}, ms. Glasspane n=${gp.n}${ref ? `, reference n=${ref.n} (fewer: it takes 0.3-5 s a call)` : ""}.`);
  if (ref) {
    console.log(`Side by side: rounds over all operations; per operation a block of ${BLOCK} Glasspane calls with one reference call among them.`);
    console.log(`Alone: the same rounds for Glasspane after the reference and its desktop have stopped.`);
  }
  console.log(`Deadline ${CALL_DEADLINE_MS} ms a call: a call past it is a failure, not a sample. CPU: server + children over each block until idle again, per call (/proc, 10 ms ticks).`);
  const head = ref
    ? ["operation", "GP med", "GP p95", "ref med", "ref p95", "ratio", "GP cpu", "ref cpu", "fail", "alone med", "p95", "target"]
    : ["operation", "GP med", "GP p95", "GP cpu", "fail", "target"];
  const widths = ref ? [26, 8, 8, 9, 9, 7, 8, 8, 7, 10, 8, 8] : [26, 8, 8, 8, 7, 8];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("");
  console.log(line(head));
  const ratios: { op: string; ratio: number }[] = [];
  const misses: string[] = [];
  for (const op of opList) {
    const g = stats.get(key(op, gp))!;
    const r = ref ? stats.get(key(op, ref)) : undefined;
    const a = alone?.get(key(op, gp));
    const ratio = med(r) / med(g);
    if (!Number.isNaN(ratio)) ratios.push({ op: op.name, ratio });
    const judged = a ?? g;
    if (op.target !== undefined && !(med(judged) <= op.target)) misses.push(`${op.name} ${fmt(med(judged))} > ${op.target}`);
    const target = op.target === undefined ? "" : `<=${op.target}`;
    if (ref) {
      console.log(
        line([
          op.name,
          fmt(med(g)),
          fmt(p95(g)),
          fmt(med(r)),
          fmt(p95(r)),
          Number.isNaN(ratio) ? "-" : `${ratio.toFixed(0)}x`,
          cpu(g),
          cpu(r),
          `${g.failures}/${r!.failures}`,
          fmt(med(a)),
          fmt(p95(a)),
          target,
        ]),
      );
    } else {
      console.log(line([op.name, fmt(med(g)), fmt(p95(g)), cpu(g), String(g.failures), target]));
    }
  }
  for (const [t, m] of [[gp, stats], [ref, stats], [gp, alone]] as const) {
    if (!t || !m) continue;
    for (const op of opList) {
      const s = m.get(key(op, t))!;
      if (s.firstError) console.log(`  ${t.name}${m === alone ? " alone" : ""} ${op.name}: ${s.failures} failed; first: ${s.firstError}`);
    }
  }
  const targetsLine = `targets (${alone ? "Glasspane alone" : "Glasspane"} medians): ${misses.length === 0 ? "all met" : `missed ${misses.join(", ")}`}`;
  if (ref && ratios.length > 0) {
    const min = ratios.reduce((x, y) => (y.ratio < x.ratio ? y : x));
    const hung = opList.filter((op) => stats.get(key(op, ref))!.samples.length === 0).map((op) => op.name);
    console.log(
      `Summary: Glasspane is at least ${min.ratio.toFixed(0)}x faster than the reference (smallest ratio: ${min.op})` +
        (hung.length ? `; the reference never answered ${hung.join(", ")} in time` : "") +
        `; ${targetsLine}.`,
    );
  } else {
    console.log(`Summary: ${targetsLine}.`);
  }
  console.log(`Run took ${run.seconds.toFixed(0)} s on ${os.cpus().length} CPUs; load average before ${run.load0.split(" ").slice(0, 3).join(" ")}, after ${run.load1.split(" ").slice(0, 3).join(" ")}.`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
