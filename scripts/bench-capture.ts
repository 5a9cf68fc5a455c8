/**
 * In-process micro-benchmark of screen capture and encoding at 1440x900.
 *
 *   npx tsc -p . && node dist/scripts/bench-capture.js [--display :N] [--n 40]
 *
 * Without --display it starts its own Xvfb on :64 with an xterm listing /usr/bin
 * (realistic text content) and stops it at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ScreenCapture } from "../main/desktop/capture.js";
import { encodeFrame } from "../main/desktop/encode.js";
import { XConnection } from "../main/desktop/x11/connection.js";

const { values } = parseArgs({ options: { display: { type: "string" }, n: { type: "string", default: "40" } } });
const N = Number(values.n);
const children: ChildProcess[] = [];

async function ownDisplay(): Promise<string> {
  const display = ":64";
  if (existsSync("/tmp/.X11-unix/X64")) throw new Error(`${display} is in use; pass --display`);
  children.push(spawn("Xvfb", [display, "-screen", "0", "1440x900x24", "-nolisten", "tcp"], { stdio: "ignore" }));
  const deadline = Date.now() + 10_000;
  while (!existsSync("/tmp/.X11-unix/X64")) {
    if (Date.now() > deadline) throw new Error("Xvfb did not start within 10 s");
    await sleep(50);
  }
  const env = { ...process.env, DISPLAY: display };
  const term = spawn("xterm", ["-geometry", "160x50+20+20", "-e", "sh", "-c", "ls -la /usr/bin; sleep 600"], { env, stdio: "ignore" });
  term.on("error", () => undefined); // no xterm: benchmark a plain screen
  children.push(term);
  await sleep(1500);
  return display;
}

async function median(what: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
  console.log(`${what.padEnd(44)} median ${pick(0.5).padStart(6)} ms   min ${pick(0).padStart(6)}   p95 ${pick(0.95).padStart(6)}`);
}

async function main() {
  const display = values.display ?? (await ownDisplay());
  const conn = await XConnection.open(display);
  const { width, height } = conn.screen;
  console.log(`display ${display} ${width}x${height}, n=${N}`);
  const full = { x: 0, y: 0, width, height };
  for (const opts of [{}, { native: false }, { forceCore: true }]) {
    const cap = await ScreenCapture.create(conn, opts);
    const shot = async (showCursor: boolean) => (await cap.capture(full, { showCursor })).release();
    await median(`${cap.path} capture RGB`, () => shot(false));
    await median(`${cap.path} capture RGB + cursor`, () => shot(true));
    for (const [format, quality] of [
      ["png", 85],
      ["jpeg", 85],
      ["jpeg", 70],
      ["webp", 75],
    ] as const) {
      await median(`${cap.path} capture + ${format}${format === "png" ? "" : ` q${quality}`}`, async () => {
        const frame = await cap.capture(full, { showCursor: false });
        try {
          await encodeFrame(frame, { format, quality, scale: 1 });
        } finally {
          frame.release();
        }
      });
    }
    await cap.close();
  }
  const cap = await ScreenCapture.create(conn);
  const frame = await cap.capture(full, { showCursor: false });
  await median("encode only png", () => encodeFrame(frame, { format: "png", quality: 85, scale: 1 }));
  await median("encode only jpeg q85", () => encodeFrame(frame, { format: "jpeg", quality: 85, scale: 1 }));
  await median("encode only jpeg q70", () => encodeFrame(frame, { format: "jpeg", quality: 70, scale: 1 }));
  await median("encode only webp q75", () => encodeFrame(frame, { format: "webp", quality: 75, scale: 1 }));
  await median("encode only jpeg q85 scale 0.5", () => encodeFrame(frame, { format: "jpeg", quality: 85, scale: 0.5 }));
  frame.release();
  await cap.close();
  conn.close();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children.reverse()) c.kill();
  });
