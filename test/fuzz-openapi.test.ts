// Issue 13, "How it is checked": bad input generated from /v1/openapi.json over every
// operation (fast-check, fixed seed, bounded). No 5xx, no answer slower than its deadline,
// every error is problem+json, and health, open descriptors and memory are as before.
// `npm run fuzz` runs the same with many more requests (FUZZ_RUNS, FUZZ_SEED).
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { startServer, type TestServer } from "./support/server.js";
import { rawRequest } from "./support/raw-http.js";
import { operationsOf, requestFor, type FuzzRequest } from "./support/openapi-fuzz.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 1313);
const TOKEN = "tok-fuzz";
/** The longest deadline of any call these requests reach (fs metadata calls, desktop start: 30 s), with room. */
const ANSWER_DEADLINE_MS = 45_000;
const auth = { authorization: `Bearer ${TOKEN}` };

function openDescriptors(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "(gone)";
    }
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) / 1024;
}

/** Back to a known state: no desktop (nor any other), no stream or recording, no processes kept. */
async function settle(s: TestServer): Promise<void> {
  const post = (p: string) => rawRequest(s.url, p, { method: "POST", headers: auth, timeoutMs: 60_000 });
  await post("/v1/desktop/recording/stop");
  await post("/v1/desktop/stream/stop");
  await post("/v1/desktop/stop");
  // desktops a valid create may have made go again, with all they run
  for (const d of (JSON.parse((await rawRequest(s.url, "/v1/desktops", { headers: auth })).body) as { desktops: Array<{ id: string }> }).desktops) {
    if (d.id !== "default") await rawRequest(s.url, `/v1/desktops/${d.id}`, { method: "DELETE", headers: auth, timeoutMs: 60_000 });
  }
  await rawRequest(s.url, "/v1/processes/config", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(defaults) });
  const list = JSON.parse((await rawRequest(s.url, "/v1/processes", { headers: auth })).body) as { processes: Array<{ id: string; status: string; owner?: string }> };
  for (const p of list.processes) {
    if (p.status === "running" && p.owner !== "desktop") await rawRequest(s.url, `/v1/processes/${p.id}/kill?waitMs=5000`, { method: "POST", headers: auth });
    // exited records, the desktop's too (what it launched, its old ffmpeg), are forgotten
    await rawRequest(s.url, `/v1/processes/${p.id}`, { method: "DELETE", headers: auth });
  }
  for (const r of (JSON.parse((await rawRequest(s.url, "/v1/desktop/recordings", { headers: auth })).body) as { recordings: Array<{ id: string }> }).recordings) {
    await rawRequest(s.url, `/v1/desktop/recordings/${r.id}`, { method: "DELETE", headers: auth });
  }
}
let defaults: unknown;

test(`bad input from the OpenAPI document, ${RUNS} requests (seed ${SEED})`, { timeout: Math.max(900_000, RUNS * 1000) }, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "glasspane-fuzz-root-"));
  // a valid POST /v1/desktops starts a desktop: two at most keep the run light
  const s = await startServer({ token: TOKEN, desktop: true, args: ["--fs-root", root, "--max-desktops", "2"] });
  const pid = s.child.pid!;
  try {
    const doc = JSON.parse((await rawRequest(s.url, "/v1/openapi.json", { headers: auth })).body);
    // the WebSocket routes are in too: as plain GETs they must answer a problem
    const ops = operationsOf(doc);
    assert.ok(ops.length > 40, `only ${ops.length} operations in the document`);
    defaults = JSON.parse((await rawRequest(s.url, "/v1/processes/config", { headers: auth })).body);
    await settle(s);
    const fdsBefore = openDescriptors(pid);
    const rssBefore = rssMiB(pid);

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const arb = fc.constantFrom(...ops).chain((op) => requestFor(op, auth, root));
    await fc.assert(
      fc.asyncProperty(arb, async (req: FuzzRequest) => {
        const started = Date.now();
        let res;
        try {
          res = await rawRequest(s.url, req.path, { method: req.method, headers: req.headers, body: req.body, timeoutMs: ANSWER_DEADLINE_MS });
        } catch (err) {
          // the server may close a connection it refused (431, a bad request line) before we finish sending
          if ((err as NodeJS.ErrnoException).code === "ECONNRESET" || (err as NodeJS.ErrnoException).code === "EPIPE") return;
          throw new Error(`${req.method} ${req.path.slice(0, 200)}: ${(err as Error).message} after ${Date.now() - started} ms`);
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.FUZZ_DEBUG) console.log(`# ${req.method} ${req.path.slice(0, 80)} -> ${res.status} ${res.body.slice(0, 160)}`);
        const where = `${req.method} ${req.path.slice(0, 200)} [${req.headers["content-type"] ?? "no type"}; ${req.body?.length ?? 0} bytes] -> ${res.status} ${res.body.slice(0, 300)}`;
        // readiness answers 503 not_ready by design while the desktop is down (settle stops it)
        const notReady = res.status === 503 && req.path.startsWith("/v1/health/ready") && res.body.includes('"not_ready"');
        if (res.status >= 500 && !notReady) failures.push(where);
        if (res.status >= 400 && res.headers["content-type"] !== "application/problem+json") failures.push(`not problem+json: ${where}`);
        if (failures.length > 0) throw new Error(failures.join("\n"));
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    );
    console.log(`# statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}x${v}`).join(" ")}`);

    assert.equal((await rawRequest(s.url, "/v1/health", { headers: auth, timeoutMs: 5000 })).status, 200, "healthy after the run");
    await settle(s);
    const fdsAfter = openDescriptors(pid);
    const rssAfter = rssMiB(pid);
    console.log(`# descriptors ${fdsBefore.length} -> ${fdsAfter.length}, rss ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB`);
    const added = fdsAfter.filter((f) => !fdsBefore.includes(f));
    assert.ok(fdsAfter.length <= fdsBefore.length + 8, `open descriptors grew from ${fdsBefore.length} to ${fdsAfter.length}: ${added.join(" ")}`);
    assert.ok(rssAfter <= rssBefore + 256, `memory grew from ${rssBefore.toFixed(0)} to ${rssAfter.toFixed(0)} MiB`);
  } finally {
    await s.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
