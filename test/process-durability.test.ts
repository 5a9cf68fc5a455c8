// Process records and output outlive the server: a second server on the same state
// directory lists what the first one ran, with its logs, and tells the truth about what
// was running when the first one died.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ProcessInfo, ProcessLogEntry } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { alive } from "./support/checks.js";

const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-durable-"));
const servers: TestServer[] = [];
const text = (entries: ProcessLogEntry[]) => entries.map((e) => Buffer.from(e.data, "base64").toString()).join("");
const idNumber = (id: string) => Number(id.replace("proc_", ""));


async function start() {
  const server = await startServer({ stateDir });
  servers.push(server);
  return server;
}

/** Kills the server outright, as a crash or the OOM killer would. */
async function crash(server: TestServer) {
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGKILL");
  await exited;
}

after(async () => {
  for (const s of servers) await s.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("a restarted server", () => {
  let finished: ProcessInfo;
  let finishedLogs: ProcessLogEntry[];
  let sleeper: ProcessInfo;
  let stubborn: ProcessInfo;
  let deleted: ProcessInfo;

  it("first server: runs processes, then dies with some of them running", async () => {
    const first = await start();
    const { sdk } = first;
    finished = await sdk.createProcess({ command: "sh", args: ["-c", "echo to-stdout; printf 'bin\\001\\377' >&2; exit 5"] });
    await eventually("it to finish", async () => (await sdk.getProcess(finished.id)).status === "exited");
    finished = await sdk.getProcess(finished.id);
    finishedLogs = (await sdk.getProcessLogs(finished.id)).entries;
    assert.equal(finished.exitCode, 5);

    // dies with the server (parent-death signal)
    sleeper = await sdk.createProcess({ command: "sleep", args: ["300"] });
    // ignores that signal and outlives the server
    stubborn = await sdk.createProcess({ command: "sh", args: ["-c", "trap '' TERM; echo stubborn; exec sleep 300"] });
    await eventually("the trap to be set", async () => text((await sdk.getProcessLogs(stubborn.id)).entries) === "stubborn\n");
    // the newest id, deleted: it must not be handed out again
    deleted = await sdk.createProcess({ command: "true" });
    await eventually("true to finish", async () => (await sdk.getProcess(deleted.id)).status === "exited");
    await sdk.deleteProcess(deleted.id);
    await crash(first);
    await eventually("the sleeper to die with its server", () => !alive(sleeper.pid!));
    assert.ok(alive(stubborn.pid!), "the stubborn process outlived the server");
  });

  it("second server: lists finished processes with their exit codes and exact logs", async () => {
    const { sdk } = await start();
    assert.deepEqual(await sdk.getProcess(finished.id), finished);
    const logs = (await sdk.getProcessLogs(finished.id)).entries;
    assert.deepEqual(logs, finishedLogs);
    assert.deepEqual(Buffer.from(logs.find((e) => e.stream === "stderr")!.data, "base64"), Buffer.from([0x62, 0x69, 0x6e, 0x01, 0xff]));
    await assert.rejects(sdk.getProcess(deleted.id), (e: { status?: number }) => e.status === 404);
  });

  it("reports a process that died with the server as exited, exit code unknown", async () => {
    const { sdk } = servers.at(-1)!;
    const info = await sdk.getProcess(sleeper.id);
    assert.equal(info.status, "exited");
    assert.equal(info.exitCode ?? null, null);
    assert.ok(info.exitedAtMs && info.exitedAtMs >= info.createdAtMs);
    assert.equal(info.createdAtMs, sleeper.createdAtMs);
  });

  it("adopts a process that is still alive: listed as running, and it can be killed", async () => {
    const { sdk } = servers.at(-1)!;
    const info = await sdk.getProcess(stubborn.id);
    assert.equal(info.status, "running");
    assert.equal(info.pid, stubborn.pid);
    assert.equal(text((await sdk.getProcessLogs(stubborn.id)).entries), "stubborn\n");
    const killed = await sdk.killProcess(stubborn.id, { waitMs: 5000 });
    assert.equal(killed.status, "exited");
    assert.ok(!alive(stubborn.pid!));
  });

  it("gives new processes ids that collide with none of the earlier ones, deleted ones included", async () => {
    const { sdk } = servers.at(-1)!;
    const fresh = await sdk.createProcess({ command: "true" });
    const restored = [finished, sleeper, stubborn, deleted].map((p) => idNumber(p.id));
    assert.ok(idNumber(fresh.id) > Math.max(...restored), `${fresh.id} after ${restored}`);
  });

  it("a graceful restart keeps the records too", async () => {
    const second = servers.at(-1)!;
    await eventually("everything to have exited", async () => (await second.sdk.listProcesses()).processes.every((p) => p.status === "exited"));
    const before = (await second.sdk.listProcesses()).processes;
    await second.stop();
    const third = await start();
    const afterRestart = (await third.sdk.listProcesses()).processes;
    assert.deepEqual(
      afterRestart.map((p) => [p.id, p.status, p.exitCode ?? null]),
      before.map((p) => [p.id, p.status, p.exitCode ?? null]),
    );
  });
});
