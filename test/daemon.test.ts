// `glasspane daemon` as a user runs it: the real CLI, a real background server, its own
// state directory (XDG_STATE_HOME) and a free port.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./support/server.js";
import { alive } from "./support/checks.js";

const bin = path.join(repoRoot, "bin", "glasspane.js");
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-daemon-"));
const stateHome = path.join(work, "state");
const TOKEN = "daemon-token";
let port: number;
const started = new Set<number>();

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, XDG_STATE_HOME: stateHome, ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      const pid = /PID (\d+)/.exec(stdout)?.[1];
      if (pid) started.add(Number(pid));
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on("error", reject);
  });
}

const files = () => {
  const base = path.join(stateHome, "glasspane", "daemon", `daemon-127-0-0-1-${port}`);
  return { pid: `${base}.pid`, version: `${base}.version`, log: `${base}.log` };
};
const pidOf = (r: Result) => Number(/PID (\d+)/.exec(r.stdout)?.[1]);


async function health(token?: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/health`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(5000),
  });
  await res.body?.cancel();
  return res.status;
}

before(async () => {
  port = await freePort();
});
after(async () => {
  await cli(["daemon", "stop", "--port", String(port)]);
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

describe("glasspane daemon", () => {
  let firstPid: number;

  it("start runs a background server that answers /v1/health, with pid, version and log files", async () => {
    const serverState = path.join(work, "server-state");
    const r = await cli(["daemon", "start", "--port", String(port), "--token", TOKEN, "--state-dir", serverState]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Daemon running \(PID \d+, build \S+, logs: /);
    firstPid = pidOf(r);
    assert.ok(alive(firstPid));
    assert.equal(Number(readFileSync(files().pid, "utf8")), firstPid);
    assert.ok(readFileSync(files().version, "utf8").trim().length > 0);
    assert.match(readFileSync(files().log, "utf8"), /listening on http:\/\/127\.0\.0\.1:\d+/);
    // the server flags went through: the token guards it and the state directory is used
    assert.equal(await health(TOKEN), 200);
    assert.equal(await health(), 401);
    assert.ok(existsSync(serverState));
    assert.ok(!readFileSync(`/proc/${firstPid}/cmdline`, "utf8").includes(TOKEN), "the token is not on the command line");
  });

  it("status prints the pid, build id and log path", async () => {
    const r = await cli(["daemon", "status", "--port", String(port)]);
    assert.equal(r.code, 0);
    const build = readFileSync(files().version, "utf8").trim();
    assert.equal(r.stdout.trim(), `Daemon running (PID ${firstPid}, build ${build}, logs: ${files().log})`);
  });

  it("a second start is a no-op while the same build runs", async () => {
    const r = await cli(["daemon", "start", "--port", String(port), "--token", TOKEN]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already running/);
    assert.equal(pidOf(r), firstPid);
    assert.ok(alive(firstPid));
  });

  it("status marks a daemon of another build as outdated, and start replaces it", async () => {
    const status = await cli(["daemon", "status", "-p", String(port)], { GLASSPANE_BUILD_ID: "newer-build" });
    assert.match(status.stdout, /outdated, restart recommended/);

    const r = await cli(["daemon", "start", "-p", String(port), "-t", TOKEN], { GLASSPANE_BUILD_ID: "newer-build" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /daemon outdated \(build \S+ -> newer-build\), restarting/);
    const newPid = pidOf(r);
    assert.notEqual(newPid, firstPid);
    assert.ok(!alive(firstPid), "the outdated daemon is gone");
    assert.ok(alive(newPid));
    assert.equal(readFileSync(files().version, "utf8").trim(), "newer-build");
    assert.equal(await health(TOKEN), 200);
    firstPid = newPid;
  });

  it("stop ends it with SIGTERM and removes its files; status then says not running", async () => {
    const r = await cli(["daemon", "stop", "--port", String(port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stopped/);
    assert.ok(!alive(firstPid));
    assert.ok(!existsSync(files().pid) && !existsSync(files().version));
    assert.ok(existsSync(files().log), "the log stays for reading");
    const status = await cli(["daemon", "status", "--port", String(port)]);
    assert.equal(status.code, 3);
    assert.match(status.stdout, /not running/);
    assert.equal((await cli(["daemon", "stop", "--port", String(port)])).code, 0, "stopping a stopped daemon is fine");
  });

  it("stop kills a daemon that ignores SIGTERM", async () => {
    // make the server ignore SIGTERM: a preload swallows the signal and the server's handler
    const preload = path.join(work, "ignore-sigterm.mjs");
    writeFileSync(
      preload,
      `process.on("SIGTERM", () => {});
       for (const method of ["on", "once", "addListener"]) {
         const original = process[method];
         process[method] = function (event, fn) { return event === "SIGTERM" ? this : original.call(this, event, fn); };
       }`,
    );
    const r = await cli(["daemon", "start", "--port", String(port), "--no-token"], { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` });
    assert.equal(r.code, 0, r.stderr);
    const pid = pidOf(r);
    assert.equal(await health(), 200);
    const stop = await cli(["daemon", "stop", "--port", String(port)]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /ignored SIGTERM .* was killed/);
    assert.ok(!alive(pid));
  });

  it("a server that cannot start is reported with its log, and leaves no pid file", async () => {
    const r = await cli(["daemon", "start", "--port", String(port), "--no-token", "--fs-root", path.join(work, "missing-root")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exited during start-up/);
    assert.match(r.stderr, /missing-root/);
    assert.ok(!existsSync(files().pid));
  });

  it("with --desktop, start returns once the desktop is active", async () => {
    const r = await cli(["daemon", "start", "--port", String(port), "--token", TOKEN, "--desktop", "--width", "800", "--height", "600"]);
    assert.equal(r.code, 0, r.stderr);
    const res = await fetch(`http://127.0.0.1:${port}/v1/desktop/status`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    const status = (await res.json()) as { state: string; resolution: { width: number } };
    assert.equal(status.state, "active");
    assert.equal(status.resolution.width, 800);
    assert.equal((await cli(["daemon", "stop", "--port", String(port)])).code, 0);
  });

  it("two starts at once spawn one daemon", async () => {
    const [a, b] = await Promise.all([
      cli(["daemon", "start", "--port", String(port), "--no-token"]),
      cli(["daemon", "start", "--port", String(port), "--no-token"]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(pidOf(a), pidOf(b));
    assert.match(a.stdout + b.stdout, /already running/);
    assert.equal((await cli(["daemon", "stop", "--port", String(port)])).code, 0);
    assert.ok(!alive(pidOf(a)));
  });

  it("bad arguments are usage errors", async () => {
    for (const args of [["daemon"], ["daemon", "restart"], ["daemon", "start", "--port", "0"], ["daemon", "status", "--bogus"]]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    }
  });
});
