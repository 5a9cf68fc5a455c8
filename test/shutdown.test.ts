// Issue 13, item 7: SIGTERM ends the server (and its Xvfb and openbox) within its deadline,
// whatever clients do; item 9: a launched app reports the command it was given.
import test from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer } from "./support/server.js";
import { alive } from "./support/checks.js";

const TOKEN = "tok-shutdown";
/** The CLI's shutdown deadline (15 s) plus room for a loaded machine. */
const EXIT_WITHIN_MS = 30_000;

test("SIGTERM after refused upgrades, with the desktop and stream started, finishes within its deadline", { timeout: 150_000 }, async () => {
  const s = await startServer({ token: TOKEN, desktop: true });
  const held: net.Socket[] = [];
  try {
    const json = { "Content-Type": "application/json" };
    assert.equal((await s.fetch("/v1/desktop/stream/start", { method: "POST", headers: json, body: "{}" })).status, 200);
    const launched = await s.fetch("/v1/desktop/launch", { method: "POST", headers: json, body: JSON.stringify({ app: "xterm" }) });
    assert.equal(launched.status, 200);
    const { processId } = (await launched.json()) as { processId: string };
    const proc = (await (await s.fetch(`/v1/processes/${processId}`)).json()) as { command: string };
    assert.equal(proc.command, "xterm", "a launched app reports the command given, not its resolved path");

    const status = (await (await s.fetch("/v1/desktop/status")).json()) as { processes: Array<{ name: string; pid: number }> };
    const pids = status.processes.map((p) => p.pid);
    assert.ok(pids.length >= 2, "Xvfb and openbox run");

    // two upgrades refused with 401, whose clients then just keep their sockets open
    const { port } = new URL(s.url);
    for (let i = 0; i < 2; i++) {
      const socket = net.connect(Number(port), "127.0.0.1");
      held.push(socket);
      const answered = new Promise<string>((resolve) => socket.once("data", (d) => resolve(d.toString())));
      socket.on("error", () => undefined);
      socket.write(
        "GET /v1/desktop/stream/signaling?access_token=wrong HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      assert.match(await answered, /^HTTP\/1.1 401/);
    }

    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => s.child.once("exit", (code) => resolve(code)));
    s.child.kill("SIGTERM");
    const outcome = await Promise.race([exited.then(() => "exited"), new Promise((r) => setTimeout(() => r("still running"), EXIT_WITHIN_MS))]);
    assert.equal(outcome, "exited", `the server was still running ${EXIT_WITHIN_MS} ms after SIGTERM`);
    for (const pid of pids) assert.equal(alive(pid), false, `desktop process ${pid} ended with the server`);
    console.log(`# SIGTERM to exit: ${Date.now() - started} ms`);
  } finally {
    for (const socket of held) socket.destroy();
    await s.stop();
  }
});
