// npm run bench:stream: the live stream against a real server with a 1440x900 desktop and
// real Chromium viewers (the sandbox-agent SDK's DesktopStreamSession). Prints medians
// and p95 next to the targets in DESIGN.md; asserts nothing.
//
//   glass-to-glass   X server repaints a window -> the first presented frame showing it
//                    (both ends on this machine's clock)
//   input-to-photon  the page sends a pointer move on the data channel -> the first
//                    presented frame in which the cursor shows at the new place
//   first frame      the SDK opens the signaling socket -> first presented frame
//   encoder CPU      the ffmpeg child's CPU time / wall time, from /proc
//
// BENCH_STREAM_TRIALS (30), BENCH_STREAM_CODEC (h264), BENCH_STREAM_FPS (30),
// BENCH_STREAM_KEYFRAME_MS (the server's default).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { startServer } from "../test/support/server.js";
import { ColorPatch, launchViewerBrowser, openViewer, sdkBundle, summary, type StreamViewer } from "../test/support/stream-viewer.js";

const TRIALS = Number(process.env.BENCH_STREAM_TRIALS ?? 30);
const CODEC = process.env.BENCH_STREAM_CODEC ?? "h264";
const FPS = Number(process.env.BENCH_STREAM_FPS ?? 30);
const KEYFRAME_MS = process.env.BENCH_STREAM_KEYFRAME_MS ? Number(process.env.BENCH_STREAM_KEYFRAME_MS) : undefined;
const W = 1440;
const H = 900;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  what: string;
  unit: string;
  values: number[];
  target?: string;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

/** Share of one core `pid` uses over `ms` of wall time, sampled in slices (median of slices). */
async function cpuShare(pid: number, ms: number, slices = 5): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < slices; i++) {
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(ms / slices);
    out.push(((cpuSeconds(pid) - c0) * 1000) / (performance.now() - t0));
  }
  return out;
}

async function encoderPid(base: string): Promise<number> {
  // the encoder is the ffmpeg child of the server with our RTP output
  for (let i = 0; i < 50; i++) {
    const status = (await (await fetch(`${base}/v1/desktop/stream/status`)).json()) as { processId: string | null };
    if (status.processId) {
      const pid = findFfmpeg();
      if (pid) return pid;
    }
    await sleep(100);
  }
  throw new Error("the stream encoder did not start");
}

let serverPid = 0;
function findFfmpeg(): number | undefined {
  const children = readFileSync(`/proc/${serverPid}/task/${serverPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  for (const pid of children) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes("ffmpeg") && cmd.includes("-f\0rtp")) return pid;
    } catch {
      /* exited */
    }
  }
  return undefined;
}

async function main() {
  const server = await startServer({});
  serverPid = server.child.pid!;
  const rows: Row[] = [];
  const extra: string[] = [];
  const children: ChildProcess[] = [];
  const browser = await launchViewerBrowser();
  try {
    const desktop = await server.sdk.startDesktop({ width: W, height: H, displayNum: 460 });
    const display = desktop.display!;
    await sdkBundle(); // built before the stream starts, so the first viewer comes at once
    await server.fetch("/v1/desktop/stream/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ videoCodec: CODEC, frameRate: FPS, keyframeIntervalMs: KEYFRAME_MS }) });
    const patch = await ColorPatch.open(display, { x: 200, y: 150, width: 400, height: 300 }, [200, 40, 40]);

    // time to first frame: the first viewer right after the start, then joins to a running stream
    const cold: number[] = [];
    const warm: number[] = [];
    const ice: number[] = [];
    let main: StreamViewer | undefined;
    for (let i = 0; i < 6; i++) {
      const v = await openViewer(browser, server.url);
      const t = await v.waitForPicture();
      (i === 0 ? cold : warm).push(t.firstFrameAt - t.t0);
      ice.push(t.connectedAt - t.t0);
      if (i === 0) main = v;
      else await v.close();
    }
    rows.push({ what: "first frame, first viewer after start", unit: "ms", values: cold });
    rows.push({ what: "first frame, encoder running", unit: "ms", values: warm, target: "< 1000" });
    rows.push({ what: "signaling + ICE + DTLS", unit: "ms", values: ice });
    const v = main!;

    // glass-to-glass
    const colours: Array<[number, number, number]> = [[30, 60, 230], [200, 40, 40]];
    const g2g: number[] = [];
    const g2gBrowser: number[] = [];
    await v.waitPixel(400, 300, colours[1]!);
    for (let i = 0; i < TRIALS; i++) {
      const rgb = colours[i % 2]!;
      await sleep(80 + Math.random() * 120);
      const seen = await v.arm(400, 300, rgb, { tolerance: 40 });
      const changed = await patch.set(rgb);
      const { at, received } = await seen();
      g2g.push(at - changed);
      if (received !== null) g2gBrowser.push(at - received);
    }
    rows.push({ what: "glass-to-glass", unit: "ms", values: g2g, target: "< 45" });
    rows.push({ what: "  of which last packet -> presented", unit: "ms", values: g2gBrowser });

    // input-to-photon: the cursor moves onto the solid patch
    const i2p: number[] = [];
    const i2pBrowser: number[] = [];
    const rgb = colours[(TRIALS - 1) % 2]!;
    for (let i = 0; i < TRIALS; i++) {
      await v.page.evaluate(() => (window as any).session.moveMouse(1000, 700));
      await v.waitPixel(390, 290, rgb, { tolerance: 40, size: [24, 24] });
      await sleep(80 + Math.random() * 120);
      const r = await v.page.evaluate(([box, rgb]) => (window as any).moveAndWatch(400, 300, box, rgb, 40), [{ x: 390, y: 290, w: 24, h: 24 }, rgb] as const);
      i2p.push(r.ms);
      if (r.inBrowser !== null) i2pBrowser.push(r.inBrowser);
    }
    rows.push({ what: "input-to-photon", unit: "ms", values: i2p, target: "< 45" });
    rows.push({ what: "  of which last packet -> presented", unit: "ms", values: i2pBrowser });
    patch.close();

    // a mostly still desktop: decoded fps and encoder CPU
    await v.page.evaluate(() => (window as any).session.moveMouse(1000, 700));
    await sleep(1000);
    const pid = await encoderPid(server.url);
    const a = await v.inbound();
    const [stillCpu, serverStill] = await Promise.all([cpuShare(pid, 10_000), cpuShare(serverPid, 10_000)]);
    const b = await v.inbound();
    rows.push({ what: "decoded fps, still desktop", unit: "fps", values: [((b!.framesDecoded - a!.framesDecoded) * 1000) / 10_000], target: `${FPS}` });
    rows.push({ what: "encoder CPU, still desktop", unit: "% core", values: stillCpu.map((c) => c * 100), target: "< 25" });
    rows.push({ what: "server (node) CPU, still desktop", unit: "% core", values: serverStill.map((c) => c * 100) });

    // a busy desktop: a terminal scrolling as fast as it can
    const term = spawn("xterm", ["-geometry", "180x50+0+0", "-e", "sh", "-c", "while :; do ls -la /usr/bin /usr/lib; done"], { env: { ...process.env, DISPLAY: display }, stdio: "ignore" });
    term.on("error", () => undefined);
    children.push(term);
    await sleep(1500);
    const c = await v.inbound();
    const [busyCpu, serverBusy] = await Promise.all([cpuShare(pid, 10_000), cpuShare(serverPid, 10_000)]);
    const d = await v.inbound();
    rows.push({ what: "decoded fps, busy desktop", unit: "fps", values: [((d!.framesDecoded - c!.framesDecoded) * 1000) / 10_000], target: `${FPS}` });
    rows.push({ what: "encoder CPU, busy desktop", unit: "% core", values: busyCpu.map((x) => x * 100) });
    rows.push({ what: "server (node) CPU, busy desktop", unit: "% core", values: serverBusy.map((x) => x * 100) });
    extra.push(`busy desktop: freezes ${d!.freezeCount - c!.freezeCount}, frames dropped ${d!.framesDropped - c!.framesDropped}, packets lost ${d!.packetsLost - c!.packetsLost}`);
    const jb = d!.jitterBufferEmittedCount ? ((d!.jitterBufferDelay ?? 0) / d!.jitterBufferEmittedCount) * 1000 : NaN;
    extra.push(`average jitter-buffer delay ${jb.toFixed(1)} ms`);
    await v.close();
  } finally {
    for (const c of children) c.kill();
    await browser.close();
    await server.stop();
  }

  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`\nlive stream, ${W}x${H}, ${CODEC} at ${FPS} fps, loopback, ${TRIALS} trials (load average ${load}, ${os.cpus().length} cores)\n`);
  const header = ["measure", "median", "p95", "n", "target"];
  const table = rows.map((r) => {
    const s = summary(r.values);
    const fmt = (n: number) => `${n.toFixed(r.unit === "ms" ? 0 : 1)} ${r.unit}`;
    return [r.what, fmt(s.median), fmt(s.p95), String(s.n), r.target ? `${r.target} ${r.unit}` : ""];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const row of table) console.log(line(row));
  for (const e of extra) console.log(e);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
