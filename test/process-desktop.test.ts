// The desktop's own processes (Xvfb, openbox, launched apps) are processes like any
// other: listed with owner "desktop", with logs. Those the desktop supervises cannot be
// stopped, killed or deleted through the process API while the desktop runs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SandboxAgent, SandboxAgentError } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";

let server: TestServer;
let sdk: SandboxAgent;

async function expectConflict(promise: Promise<unknown>) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SandboxAgentError);
    assert.equal(err.status, 409);
    assert.equal(err.problem?.type, "urn:glasspane:error:conflict");
    assert.match(String(err.problem?.detail), /supervised by the desktop/);
    return true;
  });
}

before(async () => {
  server = await startServer({ token: "desk-proc-token" });
  sdk = server.sdk;
  const status = await sdk.startDesktop({ width: 800, height: 600, displayNum: 300 });
  assert.equal(status.state, "active");
});

after(async () => {
  await server?.stop();
});

describe("desktop processes in /v1/processes", () => {
  it("lists Xvfb and openbox with owner desktop, and filters by owner", async () => {
    const user = await sdk.createProcess({ command: "sleep", args: ["60"] });
    const desktop = (await sdk.listProcesses({ owner: "desktop" })).processes;
    const xvfb = desktop.find((p) => p.command === "Xvfb");
    const openbox = desktop.find((p) => p.command.startsWith("openbox"));
    assert.ok(xvfb && openbox, `desktop processes: ${desktop.map((p) => p.command)}`);
    for (const p of [xvfb, openbox]) {
      assert.equal(p.owner, "desktop");
      assert.equal(p.status, "running");
      assert.ok(p.pid);
    }
    assert.ok(desktop.every((p) => p.owner === "desktop"));
    const users = (await sdk.listProcesses({ owner: "user" })).processes;
    assert.deepEqual(users.map((p) => p.id), [user.id]);
    const all = (await sdk.listProcesses()).processes;
    assert.equal(all.length, desktop.length + users.length);
    // in id order
    const ids = all.map((p) => Number(p.id.replace("proc_", "")));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    await sdk.killProcess(user.id, { waitMs: 5000 });
  });

  it("refuses to stop, kill or delete what the desktop supervises; the desktop stays up", async () => {
    const xvfb = (await sdk.listProcesses({ owner: "desktop" })).processes.find((p) => p.command === "Xvfb")!;
    await expectConflict(sdk.stopProcess(xvfb.id));
    await expectConflict(sdk.killProcess(xvfb.id));
    await expectConflict(sdk.deleteProcess(xvfb.id));
    assert.equal((await sdk.getProcess(xvfb.id)).status, "running");
    assert.equal((await sdk.getDesktopStatus()).state, "active");
    assert.ok((await sdk.takeDesktopScreenshot()).length > 0);
  });

  it("lists a launched app with owner desktop; it can be killed and then deleted", async () => {
    const launched = await sdk.launchDesktopApp({ app: "xterm", args: ["-T", "proc-owner-test"] });
    const info = await sdk.getProcess(launched.processId);
    assert.equal(info.owner, "desktop");
    assert.equal(info.status, "running");
    assert.equal(info.pid, launched.pid);
    assert.ok((await sdk.listProcesses({ owner: "desktop" })).processes.some((p) => p.id === launched.processId));
    const killed = await sdk.killProcess(launched.processId, { waitMs: 5000 });
    assert.equal(killed.status, "exited");
    await sdk.deleteProcess(launched.processId);
    assert.ok(!(await sdk.listProcesses()).processes.some((p) => p.id === launched.processId));
  });

  it("lets the records of a stopped desktop be deleted", async () => {
    const desktop = (await sdk.listProcesses({ owner: "desktop" })).processes.filter((p) => p.status === "running");
    await sdk.stopDesktop();
    await eventually("the desktop processes to exit", async () => {
      const now = await Promise.all(desktop.map((p) => sdk.getProcess(p.id)));
      return now.every((p) => p.status === "exited");
    });
    for (const p of desktop) await sdk.deleteProcess(p.id);
    assert.deepEqual((await sdk.listProcesses({ owner: "desktop" })).processes, []);
  });
});
