// npm run bench:faults: how the desktop recovers from faults, against a real server with a
// real desktop. Kills Xvfb, openbox and ffmpeg, and stops Xvfb with SIGSTOP; prints a
// table of the times to the first good call. Asserts nothing; the numbers move with load.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGlasspane } from "./bench-server.js";

const RUNS = Number(process.env.BENCH_N ?? 5);
const CALL_DEADLINE_MS = 20_000;

type Row = { scenario: string; runs: number; median: string; max: string; note: string };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "-");
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-faults-"));
  const { server, base } = await startGlasspane(stateDir);
  const call = async (p: string, init: RequestInit = {}) => {
    const started = performance.now();
    try {
      const res = await fetch(base + p, { ...init, signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
      const body = await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started, body: Buffer.from(body) };
    } catch (err) {
      return { status: 0, ms: performance.now() - started, body: Buffer.from(String(err)) };
    }
  };
  const json = async (p: string, body?: unknown) => {
    const r = await call(p, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (r.status >= 400 || r.status === 0) throw new Error(`${p}: ${r.status} ${r.body}`);
    return JSON.parse(r.body.toString());
  };
  const pidOf = async (name: string): Promise<number | undefined> =>
    (await json("/v1/desktop/status")).processes.find((p: any) => p.name.startsWith(name) && p.running)?.pid;
  /** Polls until `ok`; the time from `since` to the first success. */
  const until = async (ok: () => Promise<boolean>, since: number, limitMs = 30_000) => {
    while (performance.now() - since < limitMs) {
      if (await ok().catch(() => false)) return performance.now() - since;
      await sleep(10);
    }
    return NaN;
  };
  const screenshotOk = async () => (await call("/v1/desktop/screenshot")).status === 200;
  const rows: Row[] = [];
  try {
    await json("/v1/desktop/start", {});

    const xvfb: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const pid = (await pidOf("Xvfb"))!;
      const t = performance.now();
      process.kill(pid, "SIGKILL");
      xvfb.push(await until(async () => (await pidOf("Xvfb")) !== pid && (await screenshotOk()), t));
    }
    rows.push({ scenario: "Xvfb SIGKILL -> first good screenshot", runs: RUNS, median: ms(median(xvfb)), max: ms(Math.max(...xvfb)), note: `each: ${xvfb.map(ms).join(", ")} ms` });

    const openbox: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const pid = (await until(async () => !!(await pidOf("openbox")), performance.now()), (await pidOf("openbox"))!);
      const t = performance.now();
      process.kill(pid, "SIGKILL");
      openbox.push(await until(async () => {
        const next = await pidOf("openbox");
        return !!next && next !== pid && (await screenshotOk());
      }, t));
    }
    rows.push({ scenario: "openbox SIGKILL -> openbox back, screenshot good", runs: RUNS, median: ms(median(openbox)), max: ms(Math.max(...openbox)), note: `each: ${openbox.map(ms).join(", ")} ms` });

    const ffmpeg: number[] = [];
    const outcomes = new Set<string>();
    for (let i = 0; i < RUNS; i++) {
      const rec = await json("/v1/desktop/recording/start", {});
      await until(async () => (await json(`/v1/desktop/recordings/${rec.id}`)).bytes > 0, performance.now());
      const proc = await json(`/v1/processes/${rec.processId}`);
      const t = performance.now();
      process.kill(proc.pid, "SIGKILL");
      ffmpeg.push(await until(async () => {
        const r = await json(`/v1/desktop/recordings/${rec.id}`);
        if (r.status === "recording") return false;
        outcomes.add(`${r.status}/${r.endReason}/${r.error?.code ?? "-"}`);
        return true;
      }, t));
    }
    rows.push({ scenario: "ffmpeg SIGKILL mid-recording -> recording reports it", runs: RUNS, median: ms(median(ffmpeg)), max: ms(Math.max(...ffmpeg)), note: [...outcomes].join(" ") });

    const stopped: number[] = [];
    let answered = 0;
    let total = 0;
    const codes = new Map<number, number>();
    let statusSaid = "";
    for (let i = 0; i < RUNS; i++) {
      await until(screenshotOk, performance.now());
      const pid = (await pidOf("Xvfb"))!;
      process.kill(pid, "SIGSTOP");
      try {
        const calls = await Promise.all([
          call("/v1/desktop/status"),
          call("/v1/desktop/screenshot"),
          call("/v1/desktop/mouse/move", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ x: 10 + i, y: 10 }) }),
          call("/v1/desktop/windows"),
          call("/v1/desktop/display/info"),
        ]);
        statusSaid = JSON.parse(calls[0]!.body.toString()).lastError?.code ?? "null";
        for (const c of calls) {
          total++;
          if (c.status !== 0) answered++;
          codes.set(c.status, (codes.get(c.status) ?? 0) + 1);
          stopped.push(c.ms);
        }
      } finally {
        process.kill(pid, "SIGCONT");
      }
    }
    rows.push({
      scenario: `Xvfb SIGSTOP: 5 calls at once (deadline ${CALL_DEADLINE_MS / 1000} s)`,
      runs: RUNS,
      median: ms(median(stopped)),
      max: ms(Math.max(...stopped)),
      note: `${answered}/${total} answered; statuses ${[...codes].map(([s, n]) => `${s}x${n}`).join(" ")}; status lastError ${statusSaid}`,
    });
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(stateDir, { recursive: true, force: true });
  }
  const widths = { scenario: 52, runs: 4, median: 9, max: 9 };
  const line = (r: { scenario: string; runs: string; median: string; max: string; note: string }) =>
    `| ${r.scenario.padEnd(widths.scenario)} | ${r.runs.padStart(widths.runs)} | ${r.median.padStart(widths.median)} | ${r.max.padStart(widths.max)} | ${r.note}`;
  console.log(line({ scenario: "fault -> recovery", runs: "runs", median: "median ms", max: "max ms", note: "notes" }));
  console.log(line({ scenario: "-".repeat(widths.scenario), runs: "-".repeat(widths.runs), median: "-".repeat(widths.median), max: "-".repeat(widths.max), note: "---" }));
  for (const r of rows) console.log(line({ ...r, runs: String(r.runs) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
