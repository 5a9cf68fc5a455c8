// npm run bench:fs: the file API and the daemon over HTTP with the real SDK. Prints
// medians (and throughput for large files); asserts nothing.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { SandboxAgent } from "sandbox-agent";
import { medianMs, repoRoot, startGlasspane } from "./bench-server.js";

const bin = path.join(repoRoot, "bin", "glasspane.js");

const time = medianMs;

const ms = (v: number) => `${v.toFixed(2)} ms`;

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-fs-"));
  const { server, base: url } = await startGlasspane(path.join(work, "state"));
  const sdk = await SandboxAgent.connect({ baseUrl: url });
  try {
    const small = randomBytes(4096);
    const f = path.join(work, "small.bin");
    console.log(`write 4 KiB          ${ms(await time(100, () => sdk.writeFsFile({ path: f }, small)))}`);
    console.log(`read 4 KiB           ${ms(await time(100, () => sdk.readFsFile({ path: f })))}`);
    console.log(`stat                 ${ms(await time(100, () => sdk.statFs({ path: f })))}`);
    const dir = path.join(work, "many");
    mkdirSync(dir);
    for (let i = 0; i < 1000; i++) writeFileSync(path.join(dir, `f${i}`), "x");
    console.log(`list 1000 entries    ${ms(await time(20, () => sdk.listFsEntries({ path: dir })))}`);

    const big = randomBytes(64 * 1024 * 1024);
    const bf = path.join(work, "big.bin");
    const w = await time(5, () => sdk.writeFsFile({ path: bf }, big));
    const r = await time(5, () => sdk.readFsFile({ path: bf }));
    console.log(`write 64 MiB         ${ms(w)} (${(64 / (w / 1000)).toFixed(0)} MiB/s)`);
    console.log(`read 64 MiB          ${ms(r)} (${(64 / (r / 1000)).toFixed(0)} MiB/s)`);

    const archive = path.join(work, "many.tar");
    execFileSync("tar", ["-cf", archive, "-C", dir, "."]);
    const tarBytes = execFileSync("cat", [archive], { maxBuffer: 64 * 1024 * 1024 });
    let n = 0;
    console.log(`upload-batch 1000 files ${ms(await time(5, () => sdk.uploadFsBatch(Uint8Array.from(tarBytes), { path: path.join(work, `up${n++}`) })))}`);
  } finally {
    server.kill("SIGTERM");
  }

  // the daemon: a cold start (until /v1/health answers), a no-op start, a stop
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const env = { ...process.env, XDG_STATE_HOME: path.join(work, "xdg") };
  const cli = (...args: string[]) => execFileSync(process.execPath, [bin, "daemon", ...args, "--port", String(port)], { env });
  const t = (fn: () => unknown) => {
    const s = performance.now();
    fn();
    return performance.now() - s;
  };
  console.log(`daemon start (cold)  ${ms(t(() => cli("start", "--no-token")))}`);
  console.log(`daemon start (no-op) ${ms(t(() => cli("start", "--no-token")))}`);
  console.log(`daemon status        ${ms(t(() => cli("status")))}`);
  console.log(`daemon stop          ${ms(t(() => cli("stop")))}`);
  rmSync(work, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
