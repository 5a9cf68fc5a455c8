// npm run bench:density: how many desktops one runtime holds on this machine. For 1, 2, 4,
// 8 (and more while it holds, up to 12) desktops: idle CPU and memory per desktop, the start
// time of one more desktop (POST /v1/desktops -> 201), and screenshot and input medians with
// every desktop busy (an xterm scrolling on each). Prints a table; asserts nothing.
// Targets (DESIGN.md): >= 8 desktops, idle < 1 % of a core each, start < 500 ms.
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGlasspane } from "./bench-server.js";

const LEVELS = [1, 2, 4, 8, 10, 12];
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const BUSY_N = Number(process.env.BENCH_N ?? 30);
const TICKS = 100; // USER_HZ on Linux
const IDLE_TARGET = 1; // % of a core per desktop
const START_TARGET_MS = 500;

interface Row {
  desktops: number;
  idleCpuPerDesktop: number;
  serverCpu: number;
  rssPerDesktopMiB: number;
  serverRssMiB: number;
  startMs: number;
  shotMs: number;
  inputMs: number;
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-density-"));
  const max = LEVELS[LEVELS.length - 1]! + 1;
  const { server, base } = await startGlasspane(stateDir, process.env, ["--max-desktops", String(max)]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const { hostname, port } = new URL(base);
  const request = (method: string, p: string, body?: unknown): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({ host: hostname, port, method, path: p, agent, timeout: 60_000, headers: data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${p}: no answer within 60 s`)));
      req.on("error", reject);
      req.end(data);
    });
  const json = async (method: string, p: string, body?: unknown): Promise<any> => {
    const res = await request(method, p, body);
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${res.body.toString()}`);
    return res.body.length ? JSON.parse(res.body.toString()) : undefined;
  };
  const createMs = async (id: string) => {
    const t0 = performance.now();
    const res = await request("POST", "/v1/desktops", { id });
    const ms = performance.now() - t0;
    if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${res.body.toString()}`);
    return ms;
  };
  /** Xvfb and openbox of one desktop */
  const desktopPids = async (id: string): Promise<number[]> =>
    (await json("GET", `/v1/processes?desktopId=${id}`)).processes
      .filter((p: { command: string; status: string }) => p.status === "running" && (p.command === "Xvfb" || p.command.startsWith("openbox")))
      .map((p: { pid: number }) => p.pid);

  const rows: Row[] = [];
  const ids: string[] = [];
  let spare = 0;
  try {
    for (const n of LEVELS) {
      while (ids.length < n) {
        const id = `d${ids.length + 1}`;
        await createMs(id);
        ids.push(id);
      }
      // start time of one more desktop, with n running (then it goes again)
      const extra = `extra-${++spare}`;
      const startMs = await createMs(extra);
      await json("DELETE", `/v1/desktops/${extra}`);

      // idle: no client calls while measuring
      const pids = new Map<string, number[]>();
      for (const id of ids) pids.set(id, await desktopPids(id));
      const all = [...pids.values()].flat();
      const serverPid = server.pid!;
      const before = all.map(cpuTicks);
      const serverBefore = cpuTicks(serverPid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const seconds = (performance.now() - t0) / 1000;
      const desktopTicks = all.map(cpuTicks).reduce((sum, t, i) => sum + (t - before[i]!), 0);
      const serverTicks = cpuTicks(serverPid) - serverBefore;
      const pct = (ticks: number) => (ticks / TICKS / seconds) * 100;
      const rss = all.map(rssKiB).reduce((a, b) => a + b, 0);

      // busy: an xterm scrolling on every desktop; screenshots and mouse moves round-robin
      const busy: string[] = [];
      for (const id of ids) {
        const launched = await json("POST", `/v1/desktops/${id}/launch`, { app: "xterm", args: ["-geometry", "100x40+0+0", "-e", "sh", "-c", "while :; do ls -la /usr/bin; sleep 0.1; done"], wait: true });
        busy.push(launched.processId);
      }
      const shots: number[] = [];
      const inputs: number[] = [];
      for (let i = 0; i < BUSY_N; i++) {
        const id = ids[i % ids.length]!;
        let t = performance.now();
        const shot = await request("GET", `/v1/desktops/${id}/screenshot`);
        if (shot.status !== 200) throw new Error(`screenshot of ${id}: ${shot.status}`);
        shots.push(performance.now() - t);
        t = performance.now();
        await json("POST", `/v1/desktops/${id}/mouse/move`, { x: 100 + (i % 50), y: 100 });
        inputs.push(performance.now() - t);
      }
      for (const proc of busy) await request("POST", `/v1/processes/${proc}/kill`);

      const row: Row = {
        desktops: n,
        idleCpuPerDesktop: pct(desktopTicks + serverTicks) / n,
        serverCpu: pct(serverTicks),
        rssPerDesktopMiB: rss / 1024 / n,
        serverRssMiB: rssKiB(serverPid) / 1024,
        startMs,
        shotMs: median(shots),
        inputMs: median(inputs),
      };
      rows.push(row);
      console.error(`measured ${n} desktops`);
      if (n >= 8 && (row.idleCpuPerDesktop >= IDLE_TARGET || row.startMs >= START_TARGET_MS)) break;
    }
  } finally {
    print(rows);
    agent.destroy();
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    const killer = setTimeout(() => server.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(killer);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function print(rows: Row[]) {
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(`bench:density on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), 1440x900 desktops, idle over ${IDLE_MS / 1000} s, busy medians of ${BUSY_N}`);
  console.log("desktops | idle CPU/desktop (% core, incl. server share) | server CPU (% core) | RSS/desktop (MiB, Xvfb+openbox) | server RSS (MiB) | start one more (ms) | screenshot busy (ms) | mouse move busy (ms)");
  console.log("---|---|---|---|---|---|---|---");
  for (const r of rows) {
    console.log([r.desktops, f(r.idleCpuPerDesktop, 2), f(r.serverCpu, 2), f(r.rssPerDesktopMiB), f(r.serverRssMiB), f(r.startMs, 0), f(r.shotMs), f(r.inputMs, 2)].join(" | "));
  }
  const held = rows.filter((r) => r.idleCpuPerDesktop < IDLE_TARGET && r.startMs < START_TARGET_MS).map((r) => r.desktops);
  console.log(`targets (idle < ${IDLE_TARGET} % of a core per desktop, start < ${START_TARGET_MS} ms) held at: ${held.join(", ") || "none"} desktops`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
