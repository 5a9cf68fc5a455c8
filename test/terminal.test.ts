// Terminals: bash under node-pty, driven through the SDK's own terminal client
// (connectProcessTerminal) with `ws` as its WebSocket, against a real server with a token.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import WebSocket from "ws";
import { SandboxAgent, SandboxAgentError } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";

const TOKEN = "term-token-9012";

let server: TestServer;
let sdk: SandboxAgent;

/** A terminal session that collects everything the server sends. */
function connect(id: string) {
  const session = sdk.connectProcessTerminal(id, { WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
  const seen = { ready: [] as string[], output: "", exits: [] as Array<number | null | undefined>, errors: [] as string[], closed: false };
  session.onReady((f) => seen.ready.push(f.processId));
  session.onData((bytes) => (seen.output += Buffer.from(bytes).toString("utf8")));
  session.onExit((f) => seen.exits.push(f.exitCode));
  session.onError((e) => seen.errors.push(e.message));
  session.onClose(() => (seen.closed = true));
  return { session, seen };
}

async function bash(): Promise<string> {
  const proc = await sdk.createProcess({ command: "bash", args: ["--norc", "--noprofile", "-i"], tty: true, env: { PS1: "$ " } });
  assert.equal(proc.tty, true);
  return proc.id;
}

/** Opens a raw socket and reports how the upgrade went: "open" or the HTTP status. */
function upgrade(url: string): Promise<{ status: number | "open"; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.close();
      resolve({ status: "open", body: "" });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", (err) => reject(err));
  });
}

before(async () => {
  server = await startServer({ token: TOKEN });
  sdk = server.sdk;
});

after(async () => {
  await server?.stop();
});

describe("a bash terminal over the SDK's terminal client", () => {
  let id: string;
  let term: ReturnType<typeof connect>;

  before(async () => {
    id = await bash();
    term = connect(id);
    await eventually("the ready frame", () => term.seen.ready.length === 1);
    assert.deepEqual(term.seen.ready, [id]);
  });

  it("echoes typed input and runs it", async () => {
    term.session.sendInput("echo hel''lo-from-pty\n");
    // the typed line comes back as typed, the command's output without the quotes
    await eventually("the echo and its output", () => term.seen.output.includes("echo hel''lo-from-pty") && /\rhello-from-pty\r\n/.test(term.seen.output));
  });

  it("takes binary input frames (base64) too", async () => {
    term.session.sendInput(new TextEncoder().encode("echo bin$((40+2))ary\n"));
    await eventually("binary input to run", () => term.seen.output.includes("bin42ary"));
  });

  it("resizes: stty size follows the resize frame and the REST resize", async () => {
    term.session.resize({ cols: 123, rows: 45 });
    term.session.sendInput("stty size\n");
    await eventually("stty to print 45 123", () => term.seen.output.includes("45 123"));
    assert.deepEqual(await sdk.resizeProcessTerminal(id, { cols: 100, rows: 30 }), { cols: 100, rows: 30 });
    term.session.sendInput("stty size\n");
    await eventually("stty to print 30 100", () => term.seen.output.includes("30 100"));
  });

  it("takes REST input into the terminal and keeps its output in the pty log stream", async () => {
    await sdk.sendProcessInput(id, { data: "echo via-rest-$((6*7))\n", encoding: "utf8" });
    await eventually("REST input to run", () => term.seen.output.includes("via-rest-42"));
    const pty = await sdk.getProcessLogs(id, { stream: "pty" });
    assert.ok(pty.entries.every((e) => e.stream === "pty"));
    assert.match(pty.entries.map((e) => Buffer.from(e.data, "base64").toString()).join(""), /via-rest-42/);
    assert.deepEqual((await sdk.getProcessLogs(id, { stream: "stdout" })).entries, []);
  });

  it("answers bad frames with an error frame and stays open", async () => {
    const ws = term.session.socket as unknown as WebSocket;
    ws.send(JSON.stringify({ type: "bogus" }));
    ws.send("not json");
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await eventually("three error frames", () => term.seen.errors.length === 3);
    assert.match(term.seen.errors.join("\n"), /binary input is not supported/);
    term.session.sendInput("echo still-open\n");
    await eventually("the session to work on", () => term.seen.output.includes("still-open\r\n"));
  });

  it("reports the exit code, then closes", async () => {
    term.session.sendInput("exit 7\n");
    await eventually("the exit frame", () => term.seen.exits.length === 1);
    assert.deepEqual(term.seen.exits, [7]);
    await term.session.closed;
    const info = await sdk.getProcess(id);
    assert.equal(info.status, "exited");
    assert.equal(info.exitCode, 7);
  });

  it("answers a connection to an exited terminal with ready and exit at once", async () => {
    const late = connect(id);
    await late.session.closed;
    assert.deepEqual(late.seen.ready, [id]);
    assert.deepEqual(late.seen.exits, [7]);
  });
});

describe("terminal sessions and their errors", () => {
  it("ends the process's terminal session when the client closes, and the shell keeps running", async () => {
    const id = await bash();
    const first = connect(id);
    await eventually("ready", () => first.seen.ready.length === 1);
    first.session.close();
    await first.session.closed;
    assert.equal((await sdk.getProcess(id)).status, "running");
    const second = connect(id);
    await eventually("ready again", () => second.seen.ready.length === 1);
    second.session.sendInput("echo second-session\n");
    await eventually("output in the new session", () => second.seen.output.includes("second-session\r\n"));
    await sdk.killProcess(id, { waitMs: 5000 });
    await eventually("the exit frame", () => second.seen.exits.length === 1);
    assert.deepEqual(second.seen.exits, [null], "killed by a signal: no exit code");
  });

  it("needs the access token on the upgrade", async () => {
    const id = await bash();
    const url = sdk.buildProcessTerminalWebSocketUrl(id);
    assert.match(url, /access_token=/);
    assert.equal((await upgrade(url)).status, "open");
    const without = await upgrade(url.replace(/access_token=[^&]+/, "access_token=wrong"));
    assert.equal(without.status, 401);
    assert.equal(JSON.parse(without.body).type, "urn:glasspane:error:token_invalid");
    await sdk.killProcess(id, { waitMs: 5000 });
  });

  it("refuses unknown ids with 404 and processes without a terminal with 409, before the upgrade", async () => {
    const missing = await upgrade(sdk.buildProcessTerminalWebSocketUrl("proc_777777"));
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).type, "urn:glasspane:error:not_found");
    const plain = await sdk.createProcess({ command: "sleep", args: ["30"] });
    const notTty = await upgrade(sdk.buildProcessTerminalWebSocketUrl(plain.id));
    assert.equal(notTty.status, 409);
    assert.equal(JSON.parse(notTty.body).type, "urn:glasspane:error:conflict");
    await sdk.killProcess(plain.id, { waitMs: 5000 });
    // a plain GET (no upgrade) is a caller mistake too
    const res = await server.fetch(`/v1/processes/${plain.id}/terminal/ws`);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
  });

  it("pauses a terminal whose client stops reading, and resumes it when the client reads again", async () => {
    const proc = await sdk.createProcess({ command: "yes", args: ["flow-control"], tty: true });
    const ws = new WebSocket(sdk.buildProcessTerminalWebSocketUrl(proc.id));
    await once(ws, "open");
    const tcp = (ws as unknown as { _socket: import("node:net").Socket })._socket;
    tcp.pause(); // the kernel's buffers fill, then the server's send queue
    const newest = async () => (await sdk.getProcessLogs(proc.id, { tail: 1 })).entries.at(-1)?.sequence ?? 0;
    await eventually(
      "the terminal's output to stop",
      async () => {
        const before = await newest();
        await new Promise((r) => setTimeout(r, 500));
        return (await newest()) === before;
      },
      60_000,
    );
    const stalled = await newest();
    assert.equal((await sdk.getProcess(proc.id)).status, "running");
    tcp.resume();
    await eventually("the output to flow again", async () => (await newest()) > stalled, 30_000);
    ws.terminate();
    await sdk.killProcess(proc.id, { waitMs: 5000 });
  });

  it("refuses a resize of an exited terminal and sizes out of range", async () => {
    const proc = await sdk.createProcess({ command: "sh", args: ["-c", "exit 0"], tty: true });
    await eventually("exit", async () => (await sdk.getProcess(proc.id)).status === "exited");
    await assert.rejects(sdk.resizeProcessTerminal(proc.id, { cols: 80, rows: 24 }), (e: unknown) => e instanceof SandboxAgentError && e.status === 409);
    await assert.rejects(sdk.resizeProcessTerminal(proc.id, { cols: 0, rows: 24 }), (e: unknown) => e instanceof SandboxAgentError && e.status === 400);
  });
});
