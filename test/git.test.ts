// The git API as a user sees it: a real `glasspane server`, Debian's git, repositories on disk.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, eventually, type TestServer } from "./support/server.js";

let server: TestServer;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-git-"));

async function post(route: string, body: unknown): Promise<{ status: number; type: string; json: any }> {
  const res = await server.fetch(route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
  return { status: res.status, type: res.headers.get("content-type") ?? "", json: await res.json() };
}
const ok = async (route: string, body: unknown) => {
  const r = await post(route, body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
};
const git = (repo: string, ...args: string[]) => ok("/v1/git/exec", { path: repo, args });

before(async () => {
  server = await startServer({ token: "git-token", args: ["--fs-root", work], env: { GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "T", GIT_COMMITTER_EMAIL: "t@example.com" } });
});
after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

it("init, commit through exec, clone from a file:// URL with depth 1, status exactly", async () => {
  const init = await ok("/v1/git/init", { path: "origin", initialBranch: "main" });
  assert.equal(init.path, path.join(work, "origin"), "a relative path resolves under --fs-root");
  assert.equal(init.branch, "main");
  const origin = path.join(work, "origin");
  writeFileSync(path.join(origin, "a.txt"), "one\n");
  writeFileSync(path.join(origin, "b.txt"), "two\n");
  await git("origin", "add", "a.txt", "b.txt");
  await git("origin", "commit", "-m", "first");
  writeFileSync(path.join(origin, "a.txt"), "one, again\n");
  await git("origin", "commit", "-am", "second");
  const log = await git("origin", "log", "--format=%s");
  assert.equal(log.stdout, "second\nfirst\n");

  const clone = await ok("/v1/git/clone", { path: "copy", url: `file://${origin}`, depth: 1, branch: "main" });
  assert.equal(clone.path, path.join(work, "copy"));
  assert.equal(clone.branch, "main");
  assert.match(clone.commit, /^[0-9a-f]{40}$/);
  const count = await git("copy", "rev-list", "--count", "HEAD");
  assert.equal(count.stdout.trim(), "1", "depth 1: only the newest commit came along");
  assert.equal(readFileSync(path.join(work, "copy", "a.txt"), "utf8"), "one, again\n");

  // one modified, one staged, one untracked (in a subfolder)
  writeFileSync(path.join(work, "copy", "a.txt"), "changed\n");
  writeFileSync(path.join(work, "copy", "c.txt"), "new\n");
  await git("copy", "add", "c.txt");
  mkdirSync(path.join(work, "copy", "sub"));
  writeFileSync(path.join(work, "copy", "sub", "new file.txt"), "x\n");
  const status = await ok("/v1/git/status", { path: "copy" });
  assert.deepEqual(
    { branch: status.branch, upstream: status.upstream, ahead: status.ahead, behind: status.behind, staged: status.staged, unstaged: status.unstaged, untracked: status.untracked, clean: status.clean },
    { branch: "main", upstream: "origin/main", ahead: 0, behind: 0, staged: [{ path: "c.txt", status: "A" }], unstaged: [{ path: "a.txt", status: "M" }], untracked: ["sub/new file.txt"], clean: false },
  );
  // a local commit is one ahead of the upstream
  await git("copy", "commit", "-qm", "local");
  const ahead = await ok("/v1/git/status", { path: "copy" });
  assert.equal(ahead.ahead, 1);
  assert.deepEqual(ahead.staged, []);
  // a rename, with a space in the new name
  await git("copy", "mv", "b.txt", "b two.txt");
  const renamed = await ok("/v1/git/status", { path: "copy" });
  assert.deepEqual(renamed.staged, [{ path: "b two.txt", from: "b.txt", status: "R" }]);
});

it("a failing git command is a 4xx problem with git's own message; credentials never appear", async () => {
  await ok("/v1/git/init", { path: "plain" });
  const bad = await post("/v1/git/exec", { path: "plain", args: ["checkout", "no-such-branch"] });
  assert.equal(bad.status, 422);
  assert.equal(bad.type, "application/problem+json");
  assert.equal(bad.json.type, "urn:glasspane:error:git_failed");
  assert.match(bad.json.detail, /pathspec 'no-such-branch' did not match/);

  const secret = "hunter2-secret-token";
  const clone = await post("/v1/git/clone", { path: "private", url: `http://user:${secret}@127.0.0.1:1/repo.git` });
  assert.equal(clone.status, 422, JSON.stringify(clone.json));
  assert.ok(!JSON.stringify(clone.json).includes(secret), `the token is redacted: ${JSON.stringify(clone.json)}`);
  assert.match(clone.json.detail, /http:\/\/\*\*\*@127\.0\.0\.1:1/);
  assert.deepEqual(readdirSync(path.join(work, "private")), [], "a failed clone leaves the folder empty");

  const outside = await post("/v1/git/status", { path: "/etc" });
  assert.equal(outside.status, 403, "the file-system root confines git too");
  const climb = await post("/v1/git/init", { path: "../escape" });
  assert.equal(climb.status, 400);
});

it("a git command past its timeout is killed with its whole process group", async () => {
  await ok("/v1/git/init", { path: "slow" });
  const marker = "31.4159";
  const res = await post("/v1/git/exec", { path: "slow", args: ["-c", `alias.nap=!sleep ${marker}`, "nap"], timeoutMs: 1000 });
  assert.equal(res.status, 504, JSON.stringify(res.json));
  assert.equal(res.json.type, "urn:glasspane:error:timeout");
  const sleepers = () => execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`sleep ${marker}`));
  await eventually("the sleeping child is gone", () => sleepers().length === 0, 10_000);
  // exec output is capped
  writeFileSync(path.join(work, "slow", "big.txt"), "y".repeat(200_000));
  await git("slow", "add", "big.txt");
  const capped = await ok("/v1/git/exec", { path: "slow", args: ["diff", "--cached"], maxOutputBytes: 1000 });
  assert.equal(capped.stdoutTruncated, true);
  assert.ok(capped.stdout.length <= 1000);
});
