// npm run bench:workspace: the workspace routes over HTTP: find over 3000 files (by name and
// by content), git status and exec, a volume's file write, and a one-shot mock agent run
// (to its first text chunk and to its end). Prints medians; asserts nothing.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { medianMs, startGlasspane } from "./bench-server.js";

const time = medianMs;
const ms = (v: number) => `${v.toFixed(2)} ms`;

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-workspace-"));
  const tree = path.join(work, "tree");
  for (let a = 0; a < 200; a++) {
    mkdirSync(path.join(tree, `d${a}`), { recursive: true });
    for (let c = 0; c < 15; c++) writeFileSync(path.join(tree, `d${a}`, `f${c}.${c === 0 ? "md" : "ts"}`), `export const v = ${a * 15 + c};\n`);
  }
  const repo = path.join(work, "repo");
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@x", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@x" } });
  git("init", "-q");
  for (let i = 0; i < 200; i++) writeFileSync(path.join(repo, `f${i}.txt`), `${i}\n`);
  git("add", ".");
  git("commit", "-qm", "x");
  writeFileSync(path.join(repo, "f1.txt"), "changed\n");
  const { server, base } = await startGlasspane(path.join(work, "state"));
  const post = (route: string, body: unknown) => fetch(base + route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  try {
    const q = (s: string) => encodeURIComponent(s);
    console.log(`find by name, 3000 files      ${ms(await time(10, async () => (await fetch(`${base}/v1/fs/find?path=${q(tree)}&name=*.md`)).json()))}`);
    console.log(`find by content, 3000 files   ${ms(await time(10, async () => (await fetch(`${base}/v1/fs/find?path=${q(tree)}&content=2999`)).json()))}`);
    console.log(`git status, 200 files         ${ms(await time(20, async () => (await post("/v1/git/status", { path: repo })).json()))}`);
    console.log(`git exec rev-parse HEAD       ${ms(await time(20, async () => (await post("/v1/git/exec", { path: repo, args: ["rev-parse", "HEAD"] })).json()))}`);
    await post("/v1/volumes", { name: "bench" });
    console.log(`PUT 4 KiB into a volume       ${ms(await time(50, async () => (await fetch(`${base}/v1/fs/file?volume=bench&path=a.bin`, { method: "PUT", body: Buffer.alloc(4096) })).json()))}`);
    let first = 0;
    const whole = await time(5, async () => {
      const t = performance.now();
      const res = await post("/v1/agents/mock/run", { prompt: "hello there" });
      const reader = res.body!.getReader();
      let text = "";
      let seen = false;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
        if (!seen && text.includes('"text-delta"')) (seen = true), (first += performance.now() - t);
      }
    });
    console.log(`mock run, first text chunk    ${ms(first / 5)} (mean)`);
    console.log(`mock run, whole stream        ${ms(whole)}`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
