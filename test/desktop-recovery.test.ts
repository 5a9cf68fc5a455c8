// The desktop tells the truth and comes back: Xvfb killed again and again is restarted
// without a growing backoff, a stopped X server is reported as not answering, a
// recording whose X server died says so, and a killed openbox leaves no helpers behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { alive } from "./support/checks.js";

let server: TestServer;
before(async () => {
  server = await startServer({ desktop: true });
});
after(async () => server?.stop());

async function json(path: string, init?: RequestInit): Promise<any> {
  const res = await server.fetch(path, init);
  return res.json();
}

const post = (path: string, body: unknown = {}) =>
  json(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function desktopProcess(name: string): Promise<{ id: string; pid: number; createdAtMs: number }> {
  const status = await json("/v1/desktop/status");
  const entry = status.processes.find((p: any) => p.name.startsWith(name) && p.running);
  assert.ok(entry, `${name} runs: ${JSON.stringify(status.processes)}`);
  const procs = (await json("/v1/processes?owner=desktop")).processes;
  const proc = procs.find((p: any) => p.pid === entry.pid);
  assert.ok(proc, `${name} (pid ${entry.pid}) is listed`);
  return { id: proc.id, pid: entry.pid, createdAtMs: proc.createdAtMs };
}

/** `name` once it runs and the desktop answers (a restart may be under way). */
async function settled(name: string): Promise<{ id: string; pid: number; createdAtMs: number }> {
  let found: { id: string; pid: number; createdAtMs: number } | undefined;
  await eventually(`${name} runs and the desktop answers`, async () => {
    found = await desktopProcess(name).catch(() => undefined);
    return !!found && (await screenshotWorks());
  }, 20_000);
  return found!;
}

/** Whether `name` runs again under a pid other than `old`. */
async function backWithNewPid(name: string, old: number): Promise<boolean> {
  const now = await desktopProcess(name).catch(() => undefined);
  return !!now && now.pid !== old;
}

async function screenshotWorks(): Promise<boolean> {
  const res = await server.fetch("/v1/desktop/screenshot");
  await res.arrayBuffer();
  return res.status === 200;
}

/** Milliseconds from each "exited" line of a process log to the "started" line after it. */
function restartGaps(logPath: string): number[] {
  const lines = readFileSync(logPath, "utf8").split("\n");
  const gaps: number[] = [];
  let exitedAt: number | undefined;
  for (const line of lines) {
    const [stamp, stream, ...rest] = line.split(" ");
    if (stream !== "glasspane") continue;
    const text = rest.join(" ");
    if (text.startsWith("exited with")) exitedAt = Date.parse(stamp!);
    else if (text.startsWith("started pid") && exitedAt !== undefined) {
      gaps.push(Date.parse(stamp!) - exitedAt);
      exitedAt = undefined;
    }
  }
  return gaps;
}

describe("desktop recovery", () => {
  it("Xvfb killed five times in a row is restarted each time at once (the backoff does not grow)", async () => {
    for (let kill = 1; kill <= 5; kill++) {
      const before = await settled("Xvfb");
      process.kill(before.pid, "SIGKILL");
      await eventually(`Xvfb is back after kill ${kill}`, () => backWithNewPid("Xvfb", before.pid), 15_000);
      await eventually(`a screenshot works after kill ${kill}`, screenshotWorks, 20_000);
    }
    const status = await json("/v1/desktop/status");
    assert.equal(status.state, "active");
    const xvfb = status.processes.find((p: any) => p.name === "Xvfb");
    const gaps = restartGaps(xvfb.logPath);
    // five kills, five restarts at least (an X server may also fail to come up on a stale socket and be restarted once more)
    assert.ok(gaps.length >= 5, `five restarts in ${xvfb.logPath}: ${gaps.join(", ")}`);
    // the supervisor's own wait between exit and restart; with the old backoff the 5th was 1.6 s
    for (const [i, gap] of gaps.entries()) assert.ok(gap < 1000, `restart ${i + 1} waited ${gap} ms (all: ${gaps.join(", ")})`);
  });

  it("a stopped X server is reported as not answering, and as answering again once continued", async () => {
    const xvfb = await settled("Xvfb");
    process.kill(xvfb.pid, "SIGSTOP");
    try {
      const status = await json("/v1/desktop/status");
      assert.equal(status.lastError?.code, "display_not_answering", JSON.stringify(status));
      assert.match(status.lastError.message, /stopped|did not answer/);
    } finally {
      process.kill(xvfb.pid, "SIGCONT");
    }
    await eventually("status is clean again", async () => (await json("/v1/desktop/status")).lastError === null, 20_000);
  });

  it("a recording whose X server dies reads failed with what happened, not completed", async () => {
    await eventually("the desktop answers", screenshotWorks, 20_000);
    const rec = await post("/v1/desktop/recording/start", {});
    assert.equal(rec.status, "recording", JSON.stringify(rec));
    await eventually("the recording has bytes", async () => (await json(`/v1/desktop/recordings/${rec.id}`)).bytes > 0, 20_000);
    const xvfb = await settled("Xvfb");
    process.kill(xvfb.pid, "SIGKILL");
    await eventually("the recording ended", async () => (await json(`/v1/desktop/recordings/${rec.id}`)).status !== "recording", 30_000);
    const ended = await json(`/v1/desktop/recordings/${rec.id}`);
    assert.equal(ended.status, "failed", JSON.stringify(ended));
    assert.notEqual(ended.endReason, "max_duration");
    assert.ok(ended.error?.message, JSON.stringify(ended));
    await eventually("the desktop is back", screenshotWorks, 20_000);
    await eventually("openbox is back with it", async () => !!(await desktopProcess("openbox").catch(() => undefined)), 10_000);
  });

  it("a killed openbox leaves none of its helpers behind", async () => {
    const openbox = await settled("openbox");
    // the marker names this runtime's process (id and creation time): other runtimes on the machine have a proc_2 too
    const marked = () =>
      readdirSync("/proc").filter((name) => {
        if (!/^\d+$/.test(name)) return false;
        try {
          return readFileSync(`/proc/${name}/environ`).includes(Buffer.from(`GLASSPANE_PROCESS=${openbox.id}:${openbox.createdAtMs}:`)) && alive(Number(name));
        } catch {
          return false;
        }
      }).map(Number);
    const helpers = marked();
    assert.ok(helpers.includes(openbox.pid) || helpers.length > 0, `openbox's processes carry its marker: ${helpers}`);
    process.kill(openbox.pid, "SIGKILL");
    await eventually("openbox is back", () => backWithNewPid("openbox", openbox.pid), 15_000);
    await eventually(`the helpers of the killed openbox are gone (${helpers.filter(alive)})`, () => helpers.every((pid) => !alive(pid)), 15_000);
    assert.equal((await json("/v1/desktop/status")).state, "active");
    // and again, three times in a row: each restart follows the kill at once
    for (let kill = 1; kill <= 3; kill++) {
      const before = await settled("openbox");
      process.kill(before.pid, "SIGKILL");
      await eventually(`openbox is back after kill ${kill}`, () => backWithNewPid("openbox", before.pid), 15_000);
    }
    const log = (await json("/v1/desktop/status")).processes.find((p: any) => p.name.startsWith("openbox")).logPath;
    const gaps = restartGaps(log).slice(-3);
    for (const [i, gap] of gaps.entries()) assert.ok(gap < 1000, `openbox restart ${i + 1} waited ${gap} ms (all: ${gaps.join(", ")})`);
  });
});
