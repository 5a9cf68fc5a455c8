// The file additions a chat front end needs: exists, find, append, and uploads from a real
// browser form (Chromium through playwright-core), against a real `glasspane server`.
import { CHROMIUM_REQUIRED_FLAGS } from "../main/browser/flags.js";
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { startServer, type TestServer } from "./support/server.js";

let server: TestServer;
let browser: Browser | undefined;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-fsw-"));

async function getJson(route: string) {
  const res = await server.fetch(route, { signal: AbortSignal.timeout(120_000) });
  return { status: res.status, json: await res.json() };
}

before(async () => {
  // a browser form cannot send a bearer token: this server runs without one, confined to `work`
  server = await startServer({ args: ["--fs-root", work] });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

it("exists answers for files, folders and missing paths; append keeps what was there", async () => {
  writeFileSync(path.join(work, "log.txt"), "first\n");
  assert.deepEqual((await getJson("/v1/fs/exists?path=log.txt")).json, { path: path.join(work, "log.txt"), exists: true, entryType: "file" });
  assert.deepEqual((await getJson("/v1/fs/exists?path=.")).json, { path: work, exists: true, entryType: "directory" });
  assert.deepEqual((await getJson("/v1/fs/exists?path=nope")).json, { path: path.join(work, "nope"), exists: false, entryType: null });
  assert.equal((await getJson("/v1/fs/exists?path=/etc/passwd")).status, 403, "outside the root");
  assert.equal((await getJson("/v1/fs/exists?path=log.txt/inside")).json.exists, false, "below a file nothing exists");

  for (const line of ["second\n", "third ünïcode\n"]) {
    const res = await server.fetch("/v1/fs/append", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: "log.txt", content: line }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).bytesWritten, Buffer.byteLength(line));
  }
  const bin = await server.fetch("/v1/fs/append", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: "log.txt", content: Buffer.from([0, 255, 10]).toString("base64"), encoding: "base64" }) });
  assert.equal(bin.status, 200);
  assert.deepEqual(readFileSync(path.join(work, "log.txt")), Buffer.concat([Buffer.from("first\nsecond\nthird ünïcode\n"), Buffer.from([0, 255, 10])]));
  const created = await server.fetch("/v1/fs/append", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: "new/dir/notes.md", content: "hi" }) });
  assert.equal(created.status, 200);
  assert.equal(readFileSync(path.join(work, "new/dir/notes.md"), "utf8"), "hi");
});

it("find by name and by content over a tree of a few thousand files, within its deadline", async () => {
  const tree = path.join(work, "tree");
  let n = 0;
  for (let a = 0; a < 20; a++) {
    for (let b = 0; b < 10; b++) {
      const dir = path.join(tree, `pkg${a}`, `mod${b}`);
      mkdirSync(dir, { recursive: true });
      for (let c = 0; c < 15; c++) {
        const ext = c === 0 ? "md" : "ts";
        writeFileSync(path.join(dir, `file${c}.${ext}`), `// file ${n++}\nexport const x = ${c};\n`);
      }
    }
  }
  assert.equal(n, 3000);
  for (const [i, rel] of ["pkg3/mod4/file7.ts", "pkg19/mod0/file1.ts", "pkg11/mod9/file0.md"].entries()) {
    writeFileSync(path.join(tree, rel), `line one\nthe Needle-${i} is here\n`, { flag: "a" });
  }
  mkdirSync(path.join(tree, ".git"));
  writeFileSync(path.join(tree, ".git", "needle.md"), "the needle in git");

  const byName = await getJson("/v1/fs/find?path=tree&name=*.md&limit=10000&timeoutMs=60000");
  assert.equal(byName.status, 200, JSON.stringify(byName.json));
  assert.equal(byName.json.timedOut, false);
  assert.equal(byName.json.truncated, false);
  assert.equal(byName.json.matches.length, 200, "one .md per folder; .git is left out");
  assert.ok(byName.json.matches.every((m: any) => m.path === path.join(tree, m.relativePath) && m.relativePath.endsWith(".md")));

  const byContent = await getJson("/v1/fs/find?path=tree&content=needle-&timeoutMs=60000");
  assert.equal(byContent.json.timedOut, false);
  const hits = byContent.json.matches.map((m: any) => [m.relativePath, m.line.number, m.line.text]).sort();
  assert.deepEqual(hits, [
    ["pkg11/mod9/file0.md", 4, "the Needle-2 is here"],
    ["pkg19/mod0/file1.ts", 4, "the Needle-1 is here"],
    ["pkg3/mod4/file7.ts", 4, "the Needle-0 is here"],
  ]);
  const both = await getJson("/v1/fs/find?path=tree&name=*.md&content=needle&timeoutMs=60000");
  assert.deepEqual(both.json.matches.map((m: any) => m.relativePath), ["pkg11/mod9/file0.md"]);

  const limited = await getJson("/v1/fs/find?path=tree&name=*.ts&limit=10");
  assert.equal(limited.json.matches.length, 10);
  assert.equal(limited.json.truncated, true);
  assert.equal((await getJson("/v1/fs/find?path=tree")).status, 400, "a name or a content pattern is required");
  // a deadline far shorter than the walk: what was found so far, marked timedOut (never a hang or a 5xx)
  const hurried = await getJson("/v1/fs/find?path=tree&content=needle&timeoutMs=1");
  assert.equal(hurried.status, 200);
  assert.equal(hurried.json.timedOut, true);
  assert.ok(hurried.json.matches.length < 3);
});

it("a multipart upload of three files from a real browser form arrives byte for byte", async () => {
  const files = [
    { name: "photo.bin", buffer: randomBytes(300_000), mimeType: "application/octet-stream" },
    { name: "notes ü.txt", buffer: Buffer.from("hello\r\nwörld\n"), mimeType: "text/plain" },
    { name: "empty.dat", buffer: Buffer.alloc(0), mimeType: "application/octet-stream" },
  ];
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [...CHROMIUM_REQUIRED_FLAGS],
    timeout: 60_000,
  });
  const page = await browser.newPage();
  // same origin as the API, as a web app served beside it would be
  await page.goto(`${server.url}/v1/health`);
  await page.setContent(`<form method="post" enctype="multipart/form-data" action="/v1/fs/upload">
    <input name="path" value="uploads/today"><input type="file" name="file" multiple><button type="submit">Send</button></form>`);
  await page.setInputFiles("input[type=file]", files);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes("/v1/fs/upload")), page.click("button")]);
  assert.equal(response.status(), 200, await response.text());
  const body = await response.json();
  assert.deepEqual(
    body.files.map((f: any) => [f.field, f.fileName, f.path, f.size]),
    files.map((f) => ["file", f.name, path.join(work, "uploads/today", f.name), f.buffer.length]),
  );
  for (const f of files) assert.deepEqual(readFileSync(path.join(work, "uploads/today", f.name)), f.buffer, `${f.name} byte for byte`);

  // a target folder outside the root is refused, and nothing is written
  const form = new FormData();
  form.append("path", "/tmp");
  form.append("file", new Blob(["x"]), "escape.txt");
  const refused = await server.fetch("/v1/fs/upload", { method: "POST", body: form });
  assert.equal(refused.status, 403, await refused.text());
  const unknownVolume = new FormData();
  unknownVolume.append("volume", "no-such-volume");
  unknownVolume.append("file", new Blob([randomBytes(200_000)]), "big.bin");
  assert.equal((await server.fetch("/v1/fs/upload", { method: "POST", body: unknownVolume })).status, 404, "an unknown volume");
  const named = new FormData();
  named.append("file", new Blob(["x"]), "../up.txt");
  const climbing = await server.fetch("/v1/fs/upload?path=uploads", { method: "POST", body: named });
  // the browser's file name is a name, never a path
  assert.equal(climbing.status, 200);
  assert.equal((await climbing.json()).files[0].path, path.join(work, "uploads", "up.txt"));
});
