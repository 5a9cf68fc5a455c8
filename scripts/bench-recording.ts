// npm run bench:recording: what a screen recording costs on a 1440x900 desktop, idle and
// busy (an xterm printing constantly), at 15 and 30 fps: ffmpeg's CPU, bytes per minute,
// start and stop latency, and the frames ffprobe finds. Prints numbers; asserts nothing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGlasspane } from "./bench-server.js";

const SECONDS = Number(process.env.BENCH_RECORD_SECONDS ?? 10);
const CLOCK_TICKS = 100;

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-rec-"));
  const { server, base } = await startGlasspane(stateDir, { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" });
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(base + p, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };

  try {
    await call("POST", "/v1/desktop/start", { width: 1440, height: 900, displayNum: 430 });
    await call("POST", "/v1/desktop/launch", { app: "xterm", args: ["-geometry", "80x24+700+400"], wait: true });
    console.log(`recording benchmark: 1440x900, ${SECONDS} s per run, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    for (const scene of ["idle", "busy"] as const) {
      if (scene === "busy") {
        await call("POST", "/v1/desktop/launch", { app: "xterm", args: ["-geometry", "120x50+0+0", "-e", "sh", "-c", "while :; do date +%s.%N; sleep 0.01; done"], wait: true });
      }
      for (const fps of [15, 30]) {
        const t0 = performance.now();
        const started = (await call("POST", "/v1/desktop/recording/start", { fps })) as { id: string; fileName: string };
        const startMs = performance.now() - t0;
        const pid = recorderPid(stateDir, started.fileName);
        const cpu0 = pid ? cpuTicks(pid) : 0;
        const w0 = performance.now();
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        const cpu1 = pid ? cpuTicks(pid) : 0;
        const wall = (performance.now() - w0) / 1000;
        const t1 = performance.now();
        const done = (await call("POST", "/v1/desktop/recording/stop")) as { bytes: number };
        const stopMs = performance.now() - t1;
        const file = path.join(stateDir, "desktop", "recordings", started.fileName);
        const probe = JSON.parse(
          execFileSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "format=duration:stream=nb_read_frames", "-of", "json", file], { encoding: "utf8" }),
        ) as { format: { duration: string }; streams: Array<{ nb_read_frames: string }> };
        const duration = Number(probe.format.duration);
        const frames = Number(probe.streams[0]!.nb_read_frames);
        const cores = (cpu1 - cpu0) / CLOCK_TICKS / wall;
        console.log(
          `${scene.padEnd(4)} ${String(fps).padStart(2)} fps: encoder ${cores.toFixed(2)} cores, ${((done.bytes / duration) * 60 / 1024 ** 2).toFixed(1)} MiB/min, ` +
            `start ${startMs.toFixed(0)} ms, stop+faststart ${stopMs.toFixed(0)} ms, video ${duration.toFixed(2)} s / ${frames} frames (${(frames / duration).toFixed(1)} fps)`,
        );
        await call("DELETE", `/v1/desktop/recordings/${started.id}`).catch(() => undefined);
      }
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The ffmpeg writing `fileName` under `stateDir`. */
function recorderPid(stateDir: string, fileName: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (path.basename(argv[0] ?? "") === "ffmpeg" && argv.some((a) => a.startsWith(stateDir) && a.endsWith(fileName))) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
