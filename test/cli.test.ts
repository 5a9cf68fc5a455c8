// The CLI as a newcomer uses it: npx from the repo root, --version, install desktop.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./support/server.js";

const run = promisify(execFile);
const bin = path.join(repoRoot, "bin", "glasspane.js");
const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;

function cli(args: string[]) {
  return run(process.execPath, [bin, ...args], { timeout: 20_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts a server command and resolves with its first output line that says it listens. */
function startAndWait(command: string, args: string[], cwd = repoRoot) {
  // its own process group, so stopping it also stops what npx started underneath
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      if (/listening on/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
    // npm exec does not wait for its child: give the server a moment, then make sure
    await new Promise((r) => setTimeout(r, 500));
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* the group is gone */
    }
  };
  return { child, listening, stop };
}

test("--version prints the package version", async () => {
  const r = await cli(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), version);
});

test("npx glasspane server --port P --no-token starts from the repo root and serves health", async () => {
  const port = await freePort();
  const s = startAndWait("npx", ["glasspane", "server", "--port", String(port), "--no-token"]);
  try {
    await s.listening;
    const res = await fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(5000) });
    assert.deepEqual(await res.json(), { status: "ok" });
  } finally {
    await s.stop();
  }
});

test("without --token or --no-token the server makes up a token, prints it and requires it", async () => {
  const port = await freePort();
  const s = startAndWait(process.execPath, [bin, "server", "--port", String(port)]);
  try {
    const out = await s.listening;
    const token = /token is (\S+)/.exec(out)?.[1];
    assert.ok(token, `printed a token: ${out}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/v1/health`)).status, 401);
    const ok = await fetch(`http://127.0.0.1:${port}/v1/health`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
  } finally {
    await s.stop();
  }
});

test("install desktop --print-only prints the install command for each package manager", async () => {
  const apt = await cli(["install", "desktop", "--print-only", "--package-manager", "apt"]);
  assert.equal(apt.code, 0);
  assert.match(apt.stdout, /apt-get install -y .*xvfb.*openbox/);
  const dnf = await cli(["install", "desktop", "--print-only", "--package-manager", "dnf"]);
  assert.match(dnf.stdout, /dnf install -y .*xorg-x11-server-Xvfb/);
  const apk = await cli(["install", "desktop", "--print-only", "--package-manager", "apk"]);
  assert.match(apk.stdout, /apk add .*xvfb/);
  // without --yes it explains and installs nothing
  const dry = await cli(["install", "desktop", "--package-manager", "apt"]);
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /--yes/);
});

test("bad arguments exit with status 2 and say what is wrong", async () => {
  for (const [args, message] of [
    [["server", "--bogus"], /bogus/],
    [["server", "--port", "99999"], /--port/],
    [["server", "--token", "a", "--no-token"], /exclude/],
    [["install", "desktop", "--package-manager", "zypper"], /apt, dnf or apk/],
    [["install", "everything"], /unknown install target/],
    [["frobnicate"], /unknown command/],
  ] as Array<[string[], RegExp]>) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test("CORS headers are sent only for the origins given with --cors-allow-origin", async () => {
  const port = await freePort();
  const s = startAndWait(process.execPath, [bin, "server", "--port", String(port), "--token", "t", "--cors-allow-origin", "http://app.example"]);
  try {
    await s.listening;
    const url = `http://127.0.0.1:${port}/v1/desktop/status`;
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: { Origin: "http://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    assert.ok(preflight.status < 300, `preflight answered ${preflight.status} without a token`);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://app.example");
    const allowed = await fetch(url, { headers: { Origin: "http://app.example", Authorization: "Bearer t" } });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "http://app.example");
    const other = await fetch(url, { headers: { Origin: "http://evil.example", Authorization: "Bearer t" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  } finally {
    await s.stop();
  }
  const plain = startAndWait(process.execPath, [bin, "server", "--port", String(port), "--no-token"]);
  try {
    await plain.listening;
    const res = await fetch(`http://127.0.0.1:${port}/v1/health`, { headers: { Origin: "http://app.example" } });
    assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS unless asked");
  } finally {
    await plain.stop();
  }
});

test("a server killed outright takes its Xvfb and openbox with it", async () => {
  const port = await freePort();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-kill-"));
  const s = startAndWait(process.execPath, [bin, "server", "--port", String(port), "--no-token", "--desktop", "--state-dir", stateDir]);
  try {
    await s.listening;
    const status = await (await fetch(`http://127.0.0.1:${port}/v1/desktop/status`)).json();
    const pids: number[] = status.processes.map((p: { pid: number }) => p.pid);
    assert.equal(pids.length, 2);
    process.kill(s.child.pid!, "SIGKILL");
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const end = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter(alive), [], "no desktop process outlives the server");
  } finally {
    await s.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
