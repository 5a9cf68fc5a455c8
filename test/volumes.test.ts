// Volumes keep tenants' files apart: the same path in two volumes holds two files; no path,
// symlink or name leads out of a volume; a process started in a volume works in its folder.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, type TestServer } from "./support/server.js";

let server: TestServer;
const home = mkdtempSync(path.join(os.tmpdir(), "glasspane-vol-home-"));

const json = (method: string, body?: unknown) => ({ method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
async function call(route: string, init: RequestInit = {}) {
  const res = await server.fetch(route, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text, json: /^[[{]/.test(text) ? JSON.parse(text) : undefined };
}

before(async () => {
  server = await startServer({ token: "vol-token", env: { HOME: home } });
});
after(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

it("two volumes: the same relative path holds different content; list, ensure, delete", async () => {
  const a = await call("/v1/volumes", json("POST", { name: "tenant-a" }));
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.created, true);
  assert.equal(a.json.path, path.join(server.stateDir, "volumes", "tenant-a"));
  assert.equal((await call("/v1/volumes", json("POST", { name: "tenant-a" }))).json.created, false, "ensure is idempotent");
  await call("/v1/volumes", json("POST", { name: "tenant-b" }));
  assert.deepEqual((await call("/v1/volumes")).json.volumes.map((v: any) => v.name), ["tenant-a", "tenant-b"]);

  for (const [vol, text] of [["tenant-a", "alpha"], ["tenant-b", "beta"]]) {
    const put = await call(`/v1/fs/file?volume=${vol}&path=docs/readme.txt`, { method: "PUT", body: text });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.path, path.join(server.stateDir, "volumes", vol!, "docs/readme.txt"));
  }
  assert.equal((await call("/v1/fs/file?volume=tenant-a&path=docs/readme.txt")).text, "alpha");
  assert.equal((await call("/v1/fs/file?volume=tenant-b&path=docs/readme.txt")).text, "beta");
  assert.equal((await call("/v1/fs/file?volume=tenant-b&path=~/docs/readme.txt")).text, "beta", "~ inside a volume is the volume");
  assert.deepEqual((await call("/v1/fs/entries?volume=tenant-a")).json.map((e: any) => e.name), ["docs"]);
  assert.equal((await call("/v1/fs/exists?volume=tenant-a&path=docs/readme.txt")).json.exists, true);
  assert.equal((await call("/v1/fs/append", json("POST", { volume: "tenant-a", path: "docs/readme.txt", content: "+" }))).status, 200);
  assert.equal((await call("/v1/fs/file?volume=tenant-a&path=docs/readme.txt")).text, "alpha+");
  assert.deepEqual((await call("/v1/fs/find?volume=tenant-b&name=*.txt")).json.matches.map((m: any) => m.relativePath), ["docs/readme.txt"]);
  // git inside a volume
  const init = await call("/v1/git/init", json("POST", { volume: "tenant-b", path: "repo" }));
  assert.equal(init.json.path, path.join(server.stateDir, "volumes", "tenant-b", "repo"));
  assert.equal((await call("/v1/git/status", json("POST", { volume: "tenant-a", path: "repo" }))).status, 404, "the other volume has no repo");

  const gone = await call("/v1/volumes/tenant-b", { method: "DELETE" });
  assert.equal(gone.status, 200);
  assert.equal(existsSync(path.join(server.stateDir, "volumes", "tenant-b")), false);
  assert.equal((await call("/v1/fs/file?volume=tenant-b&path=docs/readme.txt")).status, 404);
  assert.equal((await call("/v1/volumes/tenant-b", { method: "DELETE" })).status, 404);
});

it("every escape from a volume is refused", async () => {
  await call("/v1/volumes", json("POST", { name: "jail" }));
  const folder = path.join(server.stateDir, "volumes", "jail");
  writeFileSync(path.join(home, "secret.txt"), "secret");
  symlinkSync(home, path.join(folder, "out"));
  symlinkSync(path.join(home, "secret.txt"), path.join(folder, "secret-link"));
  const refused: Array<[string, RequestInit | undefined]> = [
    ["/v1/fs/file?volume=jail&path=../../../../etc/passwd", undefined],
    ["/v1/fs/file?volume=jail&path=/etc/passwd", undefined],
    [`/v1/fs/file?volume=jail&path=${encodeURIComponent(path.join(home, "secret.txt"))}`, undefined],
    ["/v1/fs/file?volume=jail&path=out/secret.txt", undefined],
    ["/v1/fs/file?volume=jail&path=secret-link", undefined],
    ["/v1/fs/entries?volume=jail&path=out", undefined],
    ["/v1/fs/file?volume=jail&path=out/new.txt", { method: "PUT", body: "x" }],
    ["/v1/fs/mkdir?volume=jail&path=../sibling", { method: "POST" }],
    ["/v1/fs/move", json("POST", { volume: "jail", from: "secret-link", to: "mine.txt" })],
    ["/v1/fs/append", json("POST", { volume: "jail", path: "out/secret.txt", content: "x" })],
    ["/v1/fs/find?volume=jail&path=out&name=*", undefined],
    ["/v1/git/init", json("POST", { volume: "jail", path: "out/repo" })],
    ["/v1/processes/run", json("POST", { volume: "jail", command: "pwd", cwd: "out" })],
    ["/v1/fs/file?volume=..&path=x", undefined],
    ["/v1/fs/file?volume=jail%2F..&path=x", undefined],
    ["/v1/volumes", json("POST", { name: "../evil" })],
  ];
  for (const [route, init] of refused) {
    const r = await call(route, init);
    assert.ok(r.status === 400 || r.status === 403, `${route} ${init?.body ?? ""} -> ${r.status} ${r.text}`);
    assert.equal(r.type, "application/problem+json");
    assert.ok(!r.text.includes("secret\""), "no secret content leaks");
  }
  const found = await call("/v1/fs/find?volume=jail&content=secret");
  assert.equal(found.status, 200);
  assert.deepEqual(found.json.matches, [], "find never follows a link out of the volume");
  assert.equal(existsSync(path.join(home, "new.txt")), false);
  assert.equal(existsSync(path.join(home, "repo")), false);
  assert.equal((await call("/v1/fs/file?volume=no-such&path=x")).status, 404, "an unknown volume is 404");
});

it("a process started in a volume sees that volume's files at its cwd", async () => {
  await call("/v1/volumes", json("POST", { name: "work-1" }));
  await call("/v1/volumes", json("POST", { name: "work-2" }));
  await call("/v1/fs/file?volume=work-1&path=mine.txt", { method: "PUT", body: "one" });
  await call("/v1/fs/file?volume=work-2&path=theirs.txt", { method: "PUT", body: "two" });
  const run = await call("/v1/processes/run", json("POST", { volume: "work-1", command: "sh", args: ["-c", "pwd; ls -A; cat mine.txt"] }));
  assert.equal(run.status, 200, run.text);
  assert.equal(run.json.stdout, `${path.join(server.stateDir, "volumes", "work-1")}\nmine.txt\none`);
  await call("/v1/fs/mkdir?volume=work-2&path=sub", { method: "POST" });
  const sub = await call("/v1/processes/run", json("POST", { volume: "work-2", cwd: "sub", command: "pwd" }));
  assert.equal(sub.json.stdout.trim(), path.join(server.stateDir, "volumes", "work-2", "sub"));
  const created = await call("/v1/processes", json("POST", { volume: "work-2", command: "sh", args: ["-c", "ls > listing.txt"] }));
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.cwd, path.join(server.stateDir, "volumes", "work-2"));
  for (let i = 0; i < 100 && (await call("/v1/fs/exists?volume=work-2&path=listing.txt")).json.exists === false; i++) await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 50 && (await call("/v1/fs/file?volume=work-2&path=listing.txt")).text === ""; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await call("/v1/fs/file?volume=work-2&path=listing.txt")).text.split("\n").filter(Boolean).sort().join(","), "listing.txt,sub,theirs.txt");
});
