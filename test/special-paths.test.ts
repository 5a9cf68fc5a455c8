// Issue 13, items 1, 8 (stateDir) and 9 (special files): paths on kernel file systems and
// special files are refused at once, and the server keeps answering.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startServer, type TestServer } from "./support/server.js";
import { assertProblem, rawRequest } from "./support/raw-http.js";

/** The server answers health quickly: nothing spins on its event loop. */
async function responsive(s: TestServer): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await s.fetch("/v1/health", { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
  }
}

test("fs refuses to create anything on /proc or /sys, and never spins", { timeout: 120_000 }, async () => {
  const s = await startServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-special-"));
  try {
    writeFileSync(path.join(dir, "f"), "x");
    const q = (p: string) => encodeURIComponent(p);
    const json = { "Content-Type": "application/json" };
    for (const p of ["/proc/self/x", "/proc/self/x/y/z", "/proc/1/new", "/sys/kernel/x"]) {
      assertProblem(await rawRequest(s.url, `/v1/fs/mkdir?path=${q(p)}`, { method: "POST", timeoutMs: 10_000 }), 400, "invalid_request");
      await responsive(s);
    }
    assertProblem(await rawRequest(s.url, `/v1/fs/file?path=${q("/proc/self/x/y")}`, { method: "PUT", body: "data", headers: { "Content-Type": "application/octet-stream" }, timeoutMs: 10_000 }), 400);
    assertProblem(await rawRequest(s.url, `/v1/fs/upload-batch?path=${q("/proc/self/x")}`, { method: "POST", body: Buffer.alloc(1024), headers: { "Content-Type": "application/x-tar" }, timeoutMs: 10_000 }), 400);
    assertProblem(await rawRequest(s.url, "/v1/fs/move", { method: "POST", headers: json, body: JSON.stringify({ from: path.join(dir, "f"), to: "/proc/self/x/f" }), timeoutMs: 10_000 }), 400);
    assertProblem(await rawRequest(s.url, "/v1/fs/copy", { method: "POST", headers: json, body: JSON.stringify({ from: path.join(dir, "f"), to: "/proc/self/x/f" }), timeoutMs: 10_000 }), 400);
    assertProblem(await rawRequest(s.url, "/v1/fs/copy", { method: "POST", headers: json, body: JSON.stringify({ from: "/proc/self", to: path.join(dir, "self") }), timeoutMs: 10_000 }), 400);
    await responsive(s);
    // ordinary nested directories still work
    assert.equal((await s.fetch(`/v1/fs/mkdir?path=${q(path.join(dir, "a/b/c"))}`, { method: "POST" })).status, 200);
    assert.equal((await s.fetch(`/v1/fs/file?path=${q(path.join(dir, "d/e/f.txt"))}`, { method: "PUT", body: "hi" })).status, 200);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a bad desktop stateDir is a 400 and leaves the status as it was", { timeout: 120_000 }, async () => {
  const s = await startServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-statedir-"));
  try {
    const file = path.join(dir, "a-file");
    writeFileSync(file, "x");
    symlinkSync(path.join(dir, "loop-b"), path.join(dir, "loop-a"));
    symlinkSync(path.join(dir, "loop-a"), path.join(dir, "loop-b"));
    const before = ((await (await s.fetch("/v1/desktop/status")).json()) as { state: string }).state;
    for (const stateDir of ["/proc/self/x", "/sys/x/y", "a\u0000b", "relative/dir", file, path.join(file, "sub"), path.join(dir, "n".repeat(300)), path.join(dir, "loop-a"), path.join(dir, "loop-a", "sub")]) {
      const res = await rawRequest(s.url, "/v1/desktop/start", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ stateDir }), timeoutMs: 10_000 });
      assertProblem(res, 400, "invalid_request");
      const status = (await (await s.fetch("/v1/desktop/status")).json()) as { state: string };
      assert.equal(status.state, before, `status after stateDir ${JSON.stringify(stateDir)}`);
      await responsive(s);
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stat names FIFOs, sockets and devices; reading one is a 4xx at once", { timeout: 120_000 }, async () => {
  const s = await startServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-fifo-"));
  const sockPath = path.join(dir, "sock");
  const server = net.createServer();
  try {
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    await new Promise<void>((r) => server.listen(sockPath, r));
    const stat = async (p: string) => ((await (await s.fetch(`/v1/fs/stat?path=${encodeURIComponent(p)}`)).json()) as { entryType: string }).entryType;
    assert.equal(await stat(fifo), "fifo");
    assert.equal(await stat(sockPath), "socket");
    assert.equal(await stat("/dev/null"), "characterDevice");
    assert.equal(await stat(dir), "directory");
    const list = (await (await s.fetch(`/v1/fs/entries?path=${encodeURIComponent(dir)}`)).json()) as Array<{ name: string; entryType: string }>;
    assert.deepEqual(list.map((e) => [e.name, e.entryType]), [["fifo", "fifo"], ["sock", "socket"]]);
    for (const p of [fifo, sockPath, "/dev/null", "/dev/zero", "/dev/tty", "/dev/stdin"]) {
      const res = await rawRequest(s.url, `/v1/fs/file?path=${encodeURIComponent(p)}`, { timeoutMs: 10_000 });
      assert.ok(res.status >= 400 && res.status < 500, `reading ${p} answered ${res.status}: ${res.body}`);
      assert.equal(res.headers["content-type"], "application/problem+json");
    }
    await responsive(s);
  } finally {
    server.close();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
