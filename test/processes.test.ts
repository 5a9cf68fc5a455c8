// The process API as a user sees it: a real `glasspane server` and the published
// sandbox-agent SDK as the client; real children (sh, cat, python3 -m http.server).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { SandboxAgent, SandboxAgentError, type ProcessLogEntry } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { alive, expectProblem } from "./support/checks.js";

const TOKEN = "proc-token-5678";

let server: TestServer;
let sdk: SandboxAgent;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-processes-"));


const text = (entries: ProcessLogEntry[]) => entries.map((e) => Buffer.from(e.data, "base64").toString()).join("");


function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitExited(id: string) {
  await eventually(`${id} to exit`, async () => (await sdk.getProcess(id)).status === "exited");
  return sdk.getProcess(id);
}

before(async () => {
  server = await startServer({ token: TOKEN });
  sdk = server.sdk;
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("run to completion", () => {
  it("returns stdout, stderr and the exit code of sh -c", async () => {
    const r = await sdk.runProcess({ command: "sh", args: ["-c", "echo out; echo err >&2; exit 3"] });
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    assert.equal(r.exitCode, 3);
    assert.equal(r.timedOut, false);
    assert.equal(r.stdoutTruncated, false);
    assert.equal(r.stderrTruncated, false);
    assert.ok(r.durationMs >= 0);
  });

  it("passes args, cwd and env", async () => {
    writeFileSync(path.join(work, "here.txt"), "x");
    const r = await sdk.runProcess({ command: "sh", args: ["-c", 'ls; printf "%s" "$GREETING"', "ignored"], cwd: work, env: { GREETING: "hi there" } });
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /here\.txt\nhi there$/);
  });

  it("expands ~ in cwd to the server user's home", async () => {
    const r = await sdk.runProcess({ command: "pwd", cwd: "~" });
    assert.equal(r.stdout.trim(), os.homedir());
  });

  it("kills the child and its children at the timeout and says so", async () => {
    const pids = path.join(work, "pids");
    const r = await sdk.runProcess({ command: "sh", args: ["-c", `sleep 30 & echo $$ $! > ${pids}; wait; echo never`], timeoutMs: 500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode ?? null, null);
    assert.equal(r.stdout, "");
    for (const pid of readFileSync(pids, "utf8").trim().split(" ").map(Number)) {
      await eventually(`pid ${pid} to be gone`, () => !alive(pid), 5000);
    }
  });

  it("truncates each stream at maxOutputBytes and flags it", async () => {
    const r = await sdk.runProcess({ command: "sh", args: ["-c", "head -c 5000 /dev/zero | tr '\\0' a; echo small >&2"], maxOutputBytes: 100 });
    assert.equal(r.stdout, "a".repeat(100));
    assert.equal(r.stdoutTruncated, true);
    assert.equal(r.stderr, "small\n");
    assert.equal(r.stderrTruncated, false);
    assert.equal(r.exitCode, 0);
  });

  it("answers a missing command, a missing cwd and an empty command with 400", async () => {
    await expectProblem(sdk.runProcess({ command: "no-such-command-xyz" }), 400, "invalid_request");
    await expectProblem(sdk.runProcess({ command: "true", cwd: path.join(work, "missing") }), 400, "invalid_request");
    await expectProblem(sdk.runProcess({ command: "" }), 400, "invalid_request");
    await expectProblem(sdk.runProcess({ command: "true", bogus: 1 } as never), 400, "invalid_request");
    await expectProblem(sdk.runProcess({ command: "true", timeoutMs: -1 }), 400, "invalid_request");
  });
});

describe("managed processes", () => {
  it("runs python3 -m http.server: it answers, is listed, stops and is deleted", async () => {
    const site = mkdtempSync(path.join(work, "site-"));
    writeFileSync(path.join(site, "hello.txt"), "hello from python\n");
    const port = await freePort();
    const proc = await sdk.createProcess({ command: "python3", args: ["-m", "http.server", String(port), "--bind", "127.0.0.1"], cwd: site });
    assert.match(proc.id, /^proc_\d+$/);
    assert.equal(proc.status, "running");
    assert.equal(proc.owner, "user");
    assert.equal(proc.tty, false);
    assert.equal(proc.cwd, site);
    assert.ok(proc.pid && alive(proc.pid));

    let body = "";
    await eventually("the HTTP server to answer", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/hello.txt`, { signal: AbortSignal.timeout(2000) });
      body = await res.text();
      return res.ok;
    });
    assert.equal(body, "hello from python\n");

    const { processes } = await sdk.listProcesses({ owner: "user" });
    assert.ok(processes.some((p) => p.id === proc.id && p.status === "running"));
    assert.deepEqual(await sdk.getProcess(proc.id), processes.find((p) => p.id === proc.id));

    await expectProblem(sdk.deleteProcess(proc.id), 409, "conflict");
    const stopped = await sdk.stopProcess(proc.id, { waitMs: 10_000 });
    assert.equal(stopped.status, "exited");
    assert.ok(stopped.exitedAtMs && stopped.exitedAtMs >= stopped.createdAtMs);
    assert.ok(!alive(proc.pid!));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/hello.txt`, { signal: AbortSignal.timeout(2000) }));
    // python logged the request on stderr
    assert.match(text((await sdk.getProcessLogs(proc.id, { stream: "stderr" })).entries), /GET \/hello.txt/);

    await sdk.deleteProcess(proc.id);
    await expectProblem(sdk.getProcess(proc.id), 404, "not_found");
    assert.ok(!(await sdk.listProcesses()).processes.some((p) => p.id === proc.id));
  });

  it("reports the exit code, and answers stop and kill of an exited process with its final state", async () => {
    const proc = await sdk.createProcess({ command: "sh", args: ["-c", "exit 4"] });
    const done = await waitExited(proc.id);
    assert.equal(done.exitCode, 4);
    assert.deepEqual(await sdk.stopProcess(proc.id), done);
    assert.deepEqual(await sdk.killProcess(proc.id, { waitMs: 100 }), done);
  });

  it("kills with SIGKILL what ignores SIGTERM", async () => {
    const proc = await sdk.createProcess({ command: "sh", args: ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"] });
    await eventually("the trap to be set", async () => text((await sdk.getProcessLogs(proc.id)).entries).includes("ready"));
    const afterStop = await sdk.stopProcess(proc.id, { waitMs: 300 });
    assert.equal(afterStop.status, "running", "SIGTERM is ignored");
    const killed = await sdk.killProcess(proc.id, { waitMs: 5000 });
    assert.equal(killed.status, "exited");
    assert.equal(killed.exitCode ?? null, null, "a signal leaves no exit code");
    await sdk.deleteProcess(proc.id);
  });

  it("takes stdin input in utf8 and base64, refuses bad encodings and oversized input", async () => {
    const proc = await sdk.createProcess({ command: "cat", interactive: true });
    assert.equal(proc.interactive, true);
    assert.deepEqual(await sdk.sendProcessInput(proc.id, { data: "plain text\n", encoding: "utf8" }), { bytesWritten: 11 });
    assert.deepEqual(await sdk.sendProcessInput(proc.id, { data: Buffer.from("base64 text\n").toString("base64") }), { bytesWritten: 12 });
    await eventually("cat to echo both", async () => text((await sdk.getProcessLogs(proc.id)).entries) === "plain text\nbase64 text\n");

    await expectProblem(sdk.sendProcessInput(proc.id, { data: "x", encoding: "latin1" }), 400, "invalid_request");
    await expectProblem(sdk.sendProcessInput(proc.id, { data: "not base64!" }), 400, "invalid_request");
    // encodings are checked before the id
    await expectProblem(sdk.sendProcessInput("proc_999999", { data: "%%%" }), 400, "invalid_request");
    const { maxInputBytesPerRequest } = await sdk.getProcessConfig();
    await expectProblem(sdk.sendProcessInput(proc.id, { data: "y".repeat(maxInputBytesPerRequest + 1), encoding: "utf8" }), 413, "payload_too_large");

    await sdk.killProcess(proc.id, { waitMs: 5000 });
    await expectProblem(sdk.sendProcessInput(proc.id, { data: "late\n", encoding: "utf8" }), 409, "conflict");
    await sdk.deleteProcess(proc.id);
  });

  it("refuses input with a 409, never hangs, when the process does not read it", async () => {
    const proc = await sdk.createProcess({ command: "sleep", args: ["60"] });
    const chunk = Buffer.alloc(60_000, 0x61).toString("base64");
    let refused: unknown;
    for (let i = 0; i < 20 && !refused; i++) {
      await sdk.sendProcessInput(proc.id, { data: chunk }).catch((err) => (refused = err));
    }
    assert.ok(refused instanceof SandboxAgentError, "a full pipe is refused");
    assert.equal(refused.status, 409);
    assert.match(String(refused.problem?.detail), /not reading its input/);
    await sdk.killProcess(proc.id, { waitMs: 5000 });
  });

  it("selects log streams, tail and since", async () => {
    const proc = await sdk.createProcess({ command: "sh", args: ["-c", "echo o1; sleep 0.05; echo e1 >&2; sleep 0.05; echo o2"] });
    await waitExited(proc.id);
    const combined = await sdk.getProcessLogs(proc.id);
    assert.equal(combined.processId, proc.id);
    assert.equal(combined.stream, "combined");
    assert.equal(text(combined.entries), "o1\ne1\no2\n");
    assert.deepEqual(combined.entries.map((e) => e.stream), ["stdout", "stderr", "stdout"]);
    assert.deepEqual(combined.entries.map((e) => e.sequence), [1, 2, 3]);
    assert.ok(combined.entries.every((e) => e.encoding === "base64" && e.timestampMs > 0));
    assert.equal(text((await sdk.getProcessLogs(proc.id, { stream: "stdout" })).entries), "o1\no2\n");
    assert.equal(text((await sdk.getProcessLogs(proc.id, { stream: "stderr" })).entries), "e1\n");
    assert.equal(text((await sdk.getProcessLogs(proc.id, { tail: 1 })).entries), "o2\n");
    assert.equal(text((await sdk.getProcessLogs(proc.id, { since: 1 })).entries), "e1\no2\n");
    assert.deepEqual((await sdk.getProcessLogs(proc.id, { stream: "pty" })).entries, []);
    const res = await server.fetch(`/v1/processes/${proc.id}/logs?stream=bogus`);
    assert.equal(res.status, 400);
    // the human-readable log file has one timestamped line per output line
    const logFile = readFileSync(path.join(server.stateDir, "processes", `${proc.id}.log`), "utf8");
    assert.match(logFile, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stderr e1$/m);
  });

  it("follows logs over SSE: replays what was there, then streams lines that arrive after subscribing", async () => {
    const proc = await sdk.createProcess({ command: "cat" });
    await sdk.sendProcessInput(proc.id, { data: "before\n", encoding: "utf8" });
    await eventually("the first line", async () => (await sdk.getProcessLogs(proc.id)).entries.length === 1);

    const seen: ProcessLogEntry[] = [];
    const sub = await sdk.followProcessLogs(proc.id, (e) => seen.push(e));
    await eventually("the replay", () => seen.length === 1);
    assert.equal(text(seen), "before\n");

    await sdk.sendProcessInput(proc.id, { data: "after 1\n", encoding: "utf8" });
    await eventually("a live line", () => text(seen).includes("after 1\n"));
    await sdk.sendProcessInput(proc.id, { data: "after 2\n", encoding: "utf8" });
    await eventually("another live line", () => text(seen).endsWith("after 2\n"));
    assert.deepEqual(seen.map((e) => e.sequence), [1, 2, 3]);

    // the stream ends by itself once the process has exited
    await sdk.stopProcess(proc.id, { waitMs: 5000 });
    await sub.closed;
    sub.close();
  });

  it("follows only the chosen stream, from `since`, and a client can close the stream", async () => {
    const proc = await sdk.createProcess({ command: "sh", args: ["-c", "while read l; do echo out-$l; echo err-$l >&2; done"] });
    await sdk.sendProcessInput(proc.id, { data: "a\n", encoding: "utf8" });
    await eventually("both lines", async () => (await sdk.getProcessLogs(proc.id)).entries.length === 2);
    const seen: ProcessLogEntry[] = [];
    const sub = await sdk.followProcessLogs(proc.id, (e) => seen.push(e), { stream: "stderr", since: 1 });
    await sdk.sendProcessInput(proc.id, { data: "b\n", encoding: "utf8" });
    await eventually("err-b", () => text(seen) === "err-a\nerr-b\n");
    sub.close();
    await sub.closed;
    await sdk.killProcess(proc.id, { waitMs: 5000 });
  });
});

describe("runtime config and limits", () => {
  it("reports the defaults and replaces them whole", async () => {
    const defaults = await sdk.getProcessConfig();
    assert.deepEqual(defaults, {
      maxConcurrentProcesses: 64,
      defaultRunTimeoutMs: 30_000,
      maxRunTimeoutMs: 300_000,
      maxOutputBytes: 1_048_576,
      maxLogBytesPerProcess: 10_485_760,
      maxInputBytesPerRequest: 65_536,
      maxFinishedProcesses: 256,
    });
    // the default timeout is clamped to the maximum
    const set = await sdk.setProcessConfig({ ...defaults, defaultRunTimeoutMs: 900_000, maxRunTimeoutMs: 600_000 });
    assert.equal(set.defaultRunTimeoutMs, 600_000);
    assert.deepEqual(await sdk.getProcessConfig(), set);
    await expectProblem(sdk.setProcessConfig({ ...defaults, maxOutputBytes: 0 }), 400, "invalid_request");
    const { maxOutputBytes: _m, ...partial } = defaults;
    await expectProblem(sdk.setProcessConfig(partial as never), 400, "invalid_request");
    await sdk.setProcessConfig(defaults);
  });

  it("enforces maxConcurrentProcesses on create and run with a 409", async () => {
    const defaults = await sdk.getProcessConfig();
    const running = (await sdk.listProcesses({ owner: "user" })).processes.filter((p) => p.status === "running").length;
    await sdk.setProcessConfig({ ...defaults, maxConcurrentProcesses: running + 1 });
    try {
      const sleeper = await sdk.createProcess({ command: "sleep", args: ["60"] });
      await expectProblem(sdk.createProcess({ command: "sleep", args: ["60"] }), 409, "conflict");
      await expectProblem(sdk.runProcess({ command: "true" }), 409, "conflict");
      await sdk.killProcess(sleeper.id, { waitMs: 5000 });
      assert.equal((await sdk.runProcess({ command: "true" })).exitCode, 0);
    } finally {
      await sdk.setProcessConfig(defaults);
    }
  });

  it("caps run output at the configured maxOutputBytes", async () => {
    const defaults = await sdk.getProcessConfig();
    await sdk.setProcessConfig({ ...defaults, maxOutputBytes: 10 });
    try {
      const r = await sdk.runProcess({ command: "sh", args: ["-c", "echo 0123456789abcdef"], maxOutputBytes: 1000 });
      assert.equal(r.stdout, "0123456789");
      assert.equal(r.stdoutTruncated, true);
    } finally {
      await sdk.setProcessConfig(defaults);
    }
  });

  it("keeps at most maxLogBytesPerProcess of output, newest last", async () => {
    const defaults = await sdk.getProcessConfig();
    await sdk.setProcessConfig({ ...defaults, maxLogBytesPerProcess: 1000 });
    try {
      const proc = await sdk.createProcess({ command: "sh", args: ["-c", "for i in $(seq 1 400); do echo line-$i; done"] });
      await waitExited(proc.id);
      const out = text((await sdk.getProcessLogs(proc.id)).entries);
      assert.ok(out.length <= 1000, `${out.length} bytes kept`);
      assert.ok(out.endsWith("line-400\n"), JSON.stringify(out.slice(-50)));
      // the copy on disk is compacted too: 400 KB of output do not make a 500 KB file
      const big = await sdk.createProcess({ command: "sh", args: ["-c", "head -c 400000 /dev/zero | tr '\\0' x; echo; echo last"] });
      await waitExited(big.id);
      const bigOut = text((await sdk.getProcessLogs(big.id)).entries);
      assert.ok(bigOut.endsWith("xxx\nlast\n"), JSON.stringify(bigOut.slice(-50)));
      const onDisk = statSync(path.join(server.stateDir, "processes", `${big.id}.output.jsonl`)).size;
      assert.ok(onDisk < 200_000, `${onDisk} bytes on disk`);
    } finally {
      await sdk.setProcessConfig(defaults);
    }
  });
});

describe("bad input", () => {
  it("answers unknown ids with 404 problems on every route", async () => {
    const id = "proc_424242";
    await expectProblem(sdk.getProcess(id), 404, "not_found");
    await expectProblem(sdk.stopProcess(id), 404, "not_found");
    await expectProblem(sdk.killProcess(id), 404, "not_found");
    await expectProblem(sdk.deleteProcess(id), 404, "not_found");
    await expectProblem(sdk.getProcessLogs(id), 404, "not_found");
    await expectProblem(sdk.followProcessLogs(id, () => {}), 404, "not_found");
    await expectProblem(sdk.sendProcessInput(id, { data: "aGk=" }), 404, "not_found");
    await expectProblem(sdk.resizeProcessTerminal(id, { cols: 80, rows: 24 }), 404, "not_found");
  });

  it("answers malformed requests with 400 problems", async () => {
    await expectProblem(sdk.createProcess({ command: "sleep", args: ["1"], tty: "yes" } as never), 400, "invalid_request");
    await expectProblem(sdk.createProcess({} as never), 400, "invalid_request");
    await expectProblem(sdk.createProcess({ command: "no-such-command-xyz" }), 400, "invalid_request");
    await expectProblem(sdk.listProcesses({ owner: "nobody" as never }), 400, "invalid_request");
    await expectProblem(sdk.stopProcess("proc_1", { waitMs: -5 }), 400, "invalid_request");
    const res = await server.fetch("/v1/processes", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
  });

  it("refuses to resize a process that has no terminal", async () => {
    const proc = await sdk.createProcess({ command: "sleep", args: ["30"] });
    await expectProblem(sdk.resizeProcessTerminal(proc.id, { cols: 80, rows: 24 }), 409, "conflict");
    await sdk.killProcess(proc.id, { waitMs: 5000 });
  });
});

describe("shutdown", () => {
  it("closes open follow streams and terminals, and stops its children, when the server stops", async () => {
    const own = await startServer();
    const proc = await own.sdk.createProcess({ command: "sleep", args: ["300"] });
    const shell = await own.sdk.createProcess({ command: "bash", args: ["--norc", "-i"], tty: true });
    const sub = await own.sdk.followProcessLogs(proc.id, () => {});
    const exited = new Promise<[number | null, string | null]>((r) => own.child.once("exit", (code, signal) => r([code, signal])));
    own.child.kill("SIGTERM");
    // a graceful exit, not the SIGKILL that stop() falls back to after 8 s
    assert.deepEqual(await exited, [0, null]);
    await sub.closed;
    assert.ok(!alive(proc.pid!) && !alive(shell.pid!), "children are stopped with the server");
    await own.stop();
  });
});
