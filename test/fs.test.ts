// The file API as a user sees it: a real `glasspane server` with its own HOME, the
// published sandbox-agent SDK as the client, and the disk checked directly.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tar from "tar";
import { SandboxAgent, SandboxAgentError } from "sandbox-agent";
import { Readable } from "node:stream";
import { FsService } from "../main/fs/service.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { startServer, type TestServer } from "./support/server.js";
import { expectProblem } from "./support/checks.js";

let server: TestServer;
let sdk: SandboxAgent;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-fs-"));
const home = path.join(work, "home");


/** A raw request's problem, for what the SDK cannot send (other content types, bad queries). */
async function rawProblem(res: Response, status: number, code: string) {
  const body = await res.text();
  assert.equal(res.status, status, body);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(JSON.parse(body).type, `urn:glasspane:error:${code}`);
}

before(async () => {
  mkdirSync(home);
  server = await startServer({ token: "fs-token", env: { HOME: home } });
  sdk = server.sdk;
});
after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("reading and writing files", () => {
  it("round-trips every byte value and a few MB of random bytes, byte for byte", async () => {
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const target = path.join(work, "bytes", "all.bin");
    const written = await sdk.writeFsFile({ path: target }, allBytes);
    assert.deepEqual(written, { path: target, bytesWritten: 256 });
    assert.deepEqual(readFileSync(target), Buffer.from(allBytes), "the bytes on disk");
    assert.deepEqual(Buffer.from(await sdk.readFsFile({ path: target })), Buffer.from(allBytes));

    const random = randomBytes(5 * 1024 * 1024 + 17);
    const big = path.join(work, "bytes", "random.bin");
    assert.equal((await sdk.writeFsFile({ path: big }, random)).bytesWritten, random.length);
    assert.ok(readFileSync(big).equals(random), "the random bytes on disk");
    assert.ok(Buffer.from(await sdk.readFsFile({ path: big })).equals(random), "the random bytes read back");
  });

  it("answers a read with application/octet-stream and the file's length", async () => {
    const target = path.join(work, "plain.txt");
    writeFileSync(target, "hello, file");
    const res = await server.fetch(`/v1/fs/file?path=${encodeURIComponent(target)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal(res.headers.get("content-length"), "11");
    assert.equal(await res.text(), "hello, file");
  });

  it("reads files that report size 0 but have content, as /proc's do", async () => {
    assert.equal((await sdk.statFs({ path: "/proc/self/status" })).size, 0);
    const text = new TextDecoder().decode(await sdk.readFsFile({ path: "/proc/self/status" }));
    assert.match(text, /^Name:\s+node/m);
  });

  it("takes a raw body of any content type, replaces a file and keeps its mode", async () => {
    const target = path.join(work, "script.sh");
    writeFileSync(target, "old", { mode: 0o755 });
    const res = await server.fetch(`/v1/fs/file?path=${encodeURIComponent(target)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "not { json",
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(readFileSync(target, "utf8"), "not { json");
    assert.equal(execFileSync("stat", ["-c", "%a", target], { encoding: "utf8" }).trim(), "755");
    // a file of another user stays theirs (the test runs as root, like a container's server)
    if (process.getuid?.() === 0) {
      execFileSync("chown", ["1234:2345", target]);
      await sdk.writeFsFile({ path: target }, "newer");
      assert.equal(execFileSync("stat", ["-c", "%u:%g", target], { encoding: "utf8" }).trim(), "1234:2345");
    }
    // no half-written temporary files are left beside it
    assert.deepEqual(readdirSync(work).filter((n) => n.includes("glasspane-part")), []);
  });

  it("expands ~ to the server user's HOME and resolves relative paths there", async () => {
    const res = await sdk.writeFsFile({ path: "~/notes/today.txt" }, "from tilde");
    assert.equal(res.path, path.join(home, "notes", "today.txt"));
    assert.equal(readFileSync(path.join(home, "notes", "today.txt"), "utf8"), "from tilde");
    await sdk.writeFsFile({ path: "./relative.txt" }, "from relative");
    assert.equal(readFileSync(path.join(home, "relative.txt"), "utf8"), "from relative");
    const names = (await sdk.listFsEntries()).map((e) => e.name);
    assert.ok(names.includes("notes") && names.includes("relative.txt"), `home listing: ${names}`);
  });
});

describe("directories and entries", () => {
  it("mkdir, list and stat describe what is on disk", async () => {
    const dir = path.join(work, "tree", "a", "b");
    assert.deepEqual(await sdk.mkdirFs({ path: dir }), { path: dir });
    assert.deepEqual(await sdk.mkdirFs({ path: dir }), { path: dir }, "mkdir is idempotent");
    writeFileSync(path.join(dir, "f.txt"), "12345");
    mkdirSync(path.join(dir, "sub"));

    const entries = await sdk.listFsEntries({ path: dir });
    assert.deepEqual(
      entries.map(({ name, path: p, entryType, size }) => ({ name, path: p, entryType, size: entryType === "file" ? size : undefined })),
      [
        { name: "f.txt", path: path.join(dir, "f.txt"), entryType: "file", size: 5 },
        { name: "sub", path: path.join(dir, "sub"), entryType: "directory", size: undefined },
      ],
    );
    const stat = await sdk.statFs({ path: path.join(dir, "f.txt") });
    assert.equal(stat.entryType, "file");
    assert.equal(stat.size, 5);
    assert.ok(Math.abs(Date.parse(stat.modified!) - Date.now()) < 60_000, `modified is RFC 3339: ${stat.modified}`);
    assert.equal((await sdk.statFs({ path: dir })).entryType, "directory");
  });

  it("moves and copies files and trees, and refuses to overwrite unless asked", async () => {
    const base = path.join(work, "moves");
    mkdirSync(path.join(base, "src", "inner"), { recursive: true });
    writeFileSync(path.join(base, "src", "inner", "x.txt"), "x");
    writeFileSync(path.join(base, "one.txt"), "one");
    writeFileSync(path.join(base, "two.txt"), "two");

    await sdk.moveFs({ from: path.join(base, "one.txt"), to: path.join(base, "deep", "moved.txt") });
    assert.ok(!existsSync(path.join(base, "one.txt")));
    assert.equal(readFileSync(path.join(base, "deep", "moved.txt"), "utf8"), "one");

    await expectProblem(sdk.moveFs({ from: path.join(base, "two.txt"), to: path.join(base, "deep", "moved.txt") }), 409, "conflict");
    assert.equal(readFileSync(path.join(base, "deep", "moved.txt"), "utf8"), "one", "the destination is untouched");
    await sdk.moveFs({ from: path.join(base, "two.txt"), to: path.join(base, "deep", "moved.txt"), overwrite: true });
    assert.equal(readFileSync(path.join(base, "deep", "moved.txt"), "utf8"), "two");

    // copy is a Glasspane addition: the SDK has no method for it
    const copy = await server.fetch("/v1/fs/copy", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: path.join(base, "src"), to: path.join(base, "copy") }),
    });
    assert.equal(copy.status, 200, await copy.clone().text());
    assert.equal(readFileSync(path.join(base, "copy", "inner", "x.txt"), "utf8"), "x");
    assert.equal(readFileSync(path.join(base, "src", "inner", "x.txt"), "utf8"), "x", "the source stays");

    await expectProblem(sdk.moveFs({ from: path.join(base, "src"), to: path.join(base, "src", "inner", "loop") }), 400, "invalid_request");
    await expectProblem(sdk.moveFs({ from: path.join(base, "absent"), to: path.join(base, "elsewhere") }), 404, "not_found");
  });

  it("deletes a directory with contents only when asked to recurse", async () => {
    const dir = path.join(work, "doomed");
    mkdirSync(path.join(dir, "nested"), { recursive: true });
    writeFileSync(path.join(dir, "nested", "f"), "f");

    const detail = await expectProblem(sdk.deleteFsEntry({ path: dir }), 409, "conflict");
    assert.match(detail, /recursive/);
    assert.ok(existsSync(path.join(dir, "nested", "f")), "nothing was deleted");

    assert.deepEqual(await sdk.deleteFsEntry({ path: dir, recursive: true }), { path: dir });
    assert.ok(!existsSync(dir));

    const empty = path.join(work, "empty-dir");
    mkdirSync(empty);
    await sdk.deleteFsEntry({ path: empty });
    assert.ok(!existsSync(empty), "an empty directory needs no recursive");

    const file = path.join(work, "lone.txt");
    writeFileSync(file, "x");
    await sdk.deleteFsEntry({ path: file });
    assert.ok(!existsSync(file));
  });

  it("deletes a symlink, not what it points to", async () => {
    const target = path.join(work, "keep-me");
    mkdirSync(path.join(target, "inside"), { recursive: true });
    symlinkSync(target, path.join(work, "link-to-keep"));
    await sdk.deleteFsEntry({ path: path.join(work, "link-to-keep"), recursive: true });
    assert.ok(!existsSync(path.join(work, "link-to-keep")));
    assert.ok(existsSync(path.join(target, "inside")));
  });
});

describe("batch upload", () => {
  it("extracts a tar archive into the destination and lists what landed", async () => {
    const src = path.join(work, "to-upload");
    mkdirSync(path.join(src, "skills", "deep"), { recursive: true });
    writeFileSync(path.join(src, "skills", "a.md"), "# a");
    writeFileSync(path.join(src, "skills", "deep", "b.bin"), randomBytes(70_000));
    const archive = await tarBuffer({ cwd: src }, ["."]);

    const dest = path.join(work, "uploaded");
    const result = await sdk.uploadFsBatch(archive, { path: dest });
    assert.equal(result.truncated, false);
    assert.deepEqual([...result.paths].sort(), [
      path.join(dest, "skills"),
      path.join(dest, "skills", "a.md"),
      path.join(dest, "skills", "deep"),
      path.join(dest, "skills", "deep", "b.bin"),
    ]);
    assert.equal(readFileSync(path.join(dest, "skills", "a.md"), "utf8"), "# a");
    assert.ok(readFileSync(path.join(dest, "skills", "deep", "b.bin")).equals(readFileSync(path.join(src, "skills", "deep", "b.bin"))));
  });

  it("accepts a gzipped tar, into ~ by default", async () => {
    const src = path.join(work, "gz-src");
    mkdirSync(src);
    writeFileSync(path.join(src, "gz.txt"), "zipped");
    const result = await sdk.uploadFsBatch(await tarBuffer({ cwd: src, gzip: true }, ["gz.txt"]));
    assert.deepEqual(result.paths, [path.join(home, "gz.txt")]);
    assert.equal(readFileSync(path.join(home, "gz.txt"), "utf8"), "zipped");
  });

  it("refuses an archive whose entries escape the destination, writing nothing", async () => {
    const src = path.join(work, "evil", "inner");
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, "ok.txt"), "ok");
    writeFileSync(path.join(work, "evil", "escape.txt"), "escape");
    const archive = await tarBuffer({ cwd: src, preservePaths: true }, ["ok.txt", "../escape.txt"]);
    const dest = path.join(work, "evil-dest", "here");
    const detail = await expectProblem(sdk.uploadFsBatch(archive, { path: dest }), 400, "invalid_request");
    assert.match(detail, /escapes/);
    assert.ok(!existsSync(path.join(dest, "ok.txt")), "nothing was extracted");
    assert.ok(!existsSync(path.join(work, "evil-dest", "escape.txt")));
  });

  it("never extracts through a symlink that is already in the destination", async () => {
    const dest = path.join(work, "linked-dest");
    const outside = path.join(work, "outside-dir");
    mkdirSync(dest);
    mkdirSync(outside);
    symlinkSync(outside, path.join(dest, "dirlink"));
    const src = path.join(work, "linked-src");
    mkdirSync(path.join(src, "dirlink"), { recursive: true });
    writeFileSync(path.join(src, "dirlink", "planted.txt"), "planted");
    await expectProblem(sdk.uploadFsBatch(await tarBuffer({ cwd: src }, ["dirlink/planted.txt"]), { path: dest }), 409, "conflict");
    assert.ok(!existsSync(path.join(outside, "planted.txt")));
  });

  it("refuses a corrupt archive and a body that is not a tar", async () => {
    await expectProblem(sdk.uploadFsBatch(Uint8Array.from(randomBytes(4096)), { path: path.join(work, "corrupt") }), 400, "invalid_request");
    const res = await server.fetch(`/v1/fs/upload-batch?path=${encodeURIComponent(path.join(work, "x"))}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await rawProblem(res, 415, "unsupported_media_type");
  });
});

describe("bad input gets a 4xx problem", () => {
  it("missing paths are 404", async () => {
    const missing = path.join(work, "does", "not", "exist");
    await expectProblem(sdk.readFsFile({ path: missing }), 404, "not_found");
    await expectProblem(sdk.statFs({ path: missing }), 404, "not_found");
    await expectProblem(sdk.listFsEntries({ path: missing }), 404, "not_found");
    await expectProblem(sdk.deleteFsEntry({ path: missing }), 404, "not_found");
  });

  it("the wrong kind of entry is 409", async () => {
    const dir = path.join(work, "kind");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "file"), "f");
    await expectProblem(sdk.readFsFile({ path: dir }), 409, "conflict");
    await expectProblem(sdk.writeFsFile({ path: dir }, "x"), 409, "conflict");
    await expectProblem(sdk.listFsEntries({ path: path.join(dir, "file") }), 409, "conflict");
    await expectProblem(sdk.mkdirFs({ path: path.join(dir, "file") }), 409, "conflict");
    await expectProblem(sdk.writeFsFile({ path: path.join(dir, "file", "below") }, "x"), 409, "conflict");
    // a FIFO is not a file: the read answers at once instead of waiting for a writer
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    await expectProblem(sdk.readFsFile({ path: path.join(dir, "fifo") }), 409, "conflict");
    await expectProblem(sdk.readFsFile({ path: "/dev/zero" }), 409, "conflict");
    // the kernel refuses to read this one from offset 0: a problem, not a cut-off response
    await expectProblem(sdk.readFsFile({ path: "/proc/self/mem" }), 409, "conflict");
  });

  it("malformed paths, relative traversal and bad parameters are 400", async () => {
    await expectProblem(sdk.readFsFile({ path: "../../etc/passwd" }), 400, "invalid_request");
    await expectProblem(sdk.writeFsFile({ path: "a/../../outside.txt" }, "x"), 400, "invalid_request");
    assert.ok(!existsSync(path.join(work, "outside.txt")));
    await expectProblem(sdk.statFs({ path: "~root/.bashrc" }), 400, "invalid_request");
    await expectProblem(sdk.statFs({ path: "" }), 400, "invalid_request");
    await expectProblem(sdk.statFs({ path: "/tmp/a\0b" }), 400, "invalid_request");
    await expectProblem(sdk.deleteFsEntry({ path: "/", recursive: true }), 400, "invalid_request");
    await rawProblem(await server.fetch("/v1/fs/file"), 400, "invalid_request");
    await rawProblem(await server.fetch("/v1/fs/stat?path=/tmp&bogus=1"), 400, "invalid_request");
    await rawProblem(await server.fetch("/v1/fs/entry?path=/tmp/x&recursive=maybe", { method: "DELETE" }), 400, "invalid_request");
    await expectProblem(sdk.moveFs({ from: "/tmp/a", to: "/tmp/b", extra: 1 } as never), 400, "invalid_request");
    await expectProblem(sdk.moveFs({ from: "/tmp/a" } as never), 400, "invalid_request");
  });

  it("a file larger than the announced limit is 413, not a 5xx", async () => {
    // the service's limit is 1 GiB: announce more than that and send nothing
    const { request } = await import("node:http");
    const url = new URL(`${server.url}/v1/fs/file?path=${encodeURIComponent(path.join(work, "huge.bin"))}`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "PUT", headers: { "content-length": String(2 * 1024 ** 3), authorization: "Bearer fs-token" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
      req.write("a few bytes");
    });
    assert.equal(status, 413);
    assert.ok(!existsSync(path.join(work, "huge.bin")));
  });
});

describe("the size limits, with the service's limits set small", () => {
  const small = new FsService({ home, maxWriteBytes: 1000, maxUploadBytes: 1000 });
  const tooLarge = (err: unknown) => err instanceof GlasspaneError && err.status === 413;

  it("a body that grows past the limit while streaming is 413 and leaves nothing behind", async () => {
    const dir = path.join(work, "limits");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "kept.txt"), "old content");
    const body = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await assert.rejects(small.writeFile(path.join(dir, "kept.txt"), body), tooLarge);
    assert.equal(readFileSync(path.join(dir, "kept.txt"), "utf8"), "old content", "the old file stays");
    assert.deepEqual(readdirSync(dir), ["kept.txt"], "no temporary file is left");
    assert.equal((await small.writeFile(path.join(dir, "ok.bin"), Readable.from([Buffer.alloc(1000)]))).bytesWritten, 1000);
  });

  it("an archive past the limit is 413 before anything is extracted", async () => {
    const src = path.join(work, "limit-src");
    mkdirSync(src);
    writeFileSync(path.join(src, "big.bin"), randomBytes(4000));
    const dest = path.join(work, "limit-dest");
    await assert.rejects(small.uploadBatch(dest, Readable.from([Buffer.from(await tarBuffer({ cwd: src }, ["big.bin"]))])), tooLarge);
    assert.ok(!existsSync(path.join(dest, "big.bin")));
  });
});

describe("a server confined with --fs-root", () => {
  let confined: TestServer;
  const root = path.join(work, "root");
  before(async () => {
    mkdirSync(path.join(root, "inside"), { recursive: true });
    writeFileSync(path.join(work, "secret.txt"), "secret");
    symlinkSync(work, path.join(root, "inside", "way-out"));
    confined = await startServer({ args: ["--fs-root", root], env: { HOME: home } });
  });
  after(() => confined?.stop());

  it("resolves relative paths in the root and refuses paths that leave it", async () => {
    const res = await confined.sdk.writeFsFile({ path: "inside/ok.txt" }, "ok");
    assert.equal(res.path, path.join(root, "inside", "ok.txt"));
    assert.deepEqual((await confined.sdk.listFsEntries()).map((e) => e.name), ["inside"]);
    await expectProblem(confined.sdk.readFsFile({ path: path.join(work, "secret.txt") }), 403, "permission_denied");
    await expectProblem(confined.sdk.readFsFile({ path: `${root}/../secret.txt` }), 403, "permission_denied");
    await expectProblem(confined.sdk.readFsFile({ path: "~/relative.txt" }), 403, "permission_denied");
    // through a symlink that points out of the root
    await expectProblem(confined.sdk.readFsFile({ path: path.join(root, "inside", "way-out", "secret.txt") }), 403, "permission_denied");
    await expectProblem(confined.sdk.writeFsFile({ path: path.join(root, "inside", "way-out", "new.txt") }, "x"), 403, "permission_denied");
    assert.ok(!existsSync(path.join(work, "new.txt")));
  });
});

async function tarBuffer(options: { cwd: string; gzip?: boolean; preservePaths?: boolean }, files: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  const stream = tar.c({ ...options, portable: true } as tar.TarOptionsWithAliasesAsyncNoFile, files);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Uint8Array.from(Buffer.concat(chunks));
}
