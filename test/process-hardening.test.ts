// Single requests must not leave ghosts, leak terminals or use up the runtime's files:
// spawn input the kernel would refuse is a 400 at once; a terminal's /dev/ptmx does not
// reach later children; a server with 256 descriptors survives 1000 process creations;
// every file a process writes stays within its cap.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { alive } from "./support/checks.js";
import { eventually, startServer, type TestServer } from "./support/server.js";

async function json(res: Response): Promise<any> {
  return res.json();
}

async function userProcesses(server: TestServer): Promise<any[]> {
  return (await json(await server.fetch("/v1/processes?owner=user"))).processes;
}

function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(path.join(dir, fd))];
    } catch {
      return [];
    }
  });
}

const post = (server: TestServer, route: string, body: unknown) =>
  server.fetch(route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });

describe("spawn input the kernel refuses", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server?.stop());

  const bad: Array<[string, Record<string, unknown>]> = [
    ["a NUL in an env value", { command: "true", env: { K: "a\u0000b" } }],
    ["a NUL in an env name", { command: "true", env: { "K\u0000": "b" } }],
    ["an argument of 200 KB", { command: "true", args: ["x".repeat(200_000)] }],
    ["a NUL in an argument", { command: "true", args: ["a\u0000b"] }],
    ["a NUL in cwd", { command: "true", cwd: "/tmp\u0000x" }],
  ];
  for (const [what, body] of bad) {
    for (const route of ["/v1/processes/run", "/v1/processes"]) {
      it(`${route} with ${what} is a 400 at once and leaves nothing behind`, async () => {
        const before = (await userProcesses(server)).length;
        const res = await post(server, route, body);
        assert.equal(res.status, 400, await res.clone().text());
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const after = await userProcesses(server);
        assert.equal(after.length, before, `no record is left: ${JSON.stringify(after.slice(before))}`);
        assert.ok(after.every((p) => p.pid !== null || p.status === "exited"), "no running process without a pid");
      });
    }
  }

  it("64 refused requests do not use up maxConcurrentProcesses", async () => {
    for (let i = 0; i < 64; i++) assert.equal((await post(server, "/v1/processes/run", bad[0]![1])).status, 400);
    const res = await post(server, "/v1/processes/run", { command: "true" });
    assert.equal(res.status, 200, await res.text());
  });
});

describe("terminals stay with their process", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server?.stop());

  it("a terminal's /dev/ptmx is not among a later child's open files", async () => {
    const tty = await json(await post(server, "/v1/processes", { command: "sh", tty: true }));
    assert.ok(tty.pid, JSON.stringify(tty));
    // the server itself holds the terminal's master side
    await eventually("the server holds /dev/ptmx", () => openFiles(server.child.pid!).some((f) => f === "/dev/ptmx"));
    const later = await json(await post(server, "/v1/processes", { command: "sleep", args: ["60"] }));
    const laterTty = await json(await post(server, "/v1/processes", { command: "sleep", args: ["60"], tty: true }));
    for (const p of [later, laterTty]) {
      await eventually(`${p.id} runs sleep`, () => openFiles(p.pid).length > 0 && statSync(`/proc/${p.pid}/exe`) !== undefined);
      // wait until the wrapper has exec'd the program
      await eventually(`${p.id} is sleep itself`, () => readFileSync(`/proc/${p.pid}/comm`, "utf8").trim() === "sleep");
      const files = openFiles(p.pid);
      assert.ok(!files.includes("/dev/ptmx"), `${p.id} (tty ${p.tty}) holds ${files.join(", ")}`);
      // sleep opens its locale files for a moment at start; what stays is inherited
      await eventually(`${p.id} holds nothing but stdio (${openFiles(p.pid).join(", ")})`, () => readdirSync(`/proc/${p.pid}/fd`).every((fd) => Number(fd) <= 2), 5000);
    }
    const run = await json(await post(server, "/v1/processes/run", { command: "sh", args: ["-c", "ls -l /proc/$$/fd"] }));
    assert.ok(!run.stdout.includes("ptmx"), run.stdout);
    for (const p of [tty, later, laterTty]) await post(server, `/v1/processes/${p.id}/kill?waitMs=5000`, {});
  });
});

describe("descriptors and files are bounded", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxOpenFiles: 256 });
  });
  after(async () => server?.stop());

  it("a server limited to 256 open files survives 1000 process creations", async () => {
    const config = await json(await server.fetch("/v1/processes/config"));
    assert.equal(config.maxFinishedProcesses, 256);
    let created = 0;
    while (created < 1000) {
      const res = await post(server, "/v1/processes", { command: "true" });
      if (res.status === 409) {
        // maxConcurrentProcesses: let the earlier ones finish
        await eventually("processes finish", async () => (await userProcesses(server)).every((p) => p.status === "exited"), 30_000);
        continue;
      }
      assert.equal(res.status, 200, `creation ${created + 1}: ${await res.text()}`);
      created++;
    }
    await eventually("every process finished", async () => (await userProcesses(server)).every((p) => p.status === "exited"), 30_000);
    const kept = await userProcesses(server);
    assert.ok(kept.length <= 256, `${kept.length} finished records kept, the cap is 256`);
    // the newest are the ones kept
    const ids = kept.map((p) => Number(p.id.split("_")[1]));
    assert.ok(Math.max(...ids) >= 1000, `newest id ${Math.max(...ids)}`);
    assert.equal((await server.fetch("/v1/health")).status, 200);
    const files = openFiles(server.child.pid!);
    assert.ok(files.length < 100, `the server holds ${files.length} files after all exited: ${files.filter((f) => f.includes("processes")).slice(0, 5).join(", ")}`);
    const onDisk = readdirSync(path.join(server.stateDir, "processes")).filter((f) => f.endsWith(".json"));
    assert.ok(onDisk.length <= 256, `${onDisk.length} state files on disk`);
  });

  it("running out of descriptors is a 503 problem, and the server keeps serving", async () => {
    const config = await json(await server.fetch("/v1/processes/config"));
    await post(server, "/v1/processes/config", { ...config, maxConcurrentProcesses: 1000 });
    const started: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 300 && !refused; i++) {
      const res = await post(server, "/v1/processes", { command: "sleep", args: ["120"] });
      if (res.status === 200) started.push((await json(res)).id);
      else refused = res;
    }
    assert.ok(refused, `all ${started.length} sleeps started under a limit of 256 files`);
    assert.equal(refused.status, 503, await refused.clone().text());
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal((await json(refused)).type, "urn:glasspane:error:out_of_descriptors");
    for (const id of started) await post(server, `/v1/processes/${id}/kill?waitMs=5000`, {});
    await eventually("the server serves again", async () => (await post(server, "/v1/processes/run", { command: "true" })).status === 200, 30_000);
    await post(server, "/v1/processes/config", config);
  });

  it("a process printing 8 MB under a 1 MiB cap leaves at most 1 MiB of text log", async () => {
    const config = await json(await server.fetch("/v1/processes/config"));
    const cap = 1_048_576;
    await post(server, "/v1/processes/config", { ...config, maxLogBytesPerProcess: cap });
    const proc = await json(await post(server, "/v1/processes", { command: "sh", args: ["-c", "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 8000000"] }));
    await eventually("the printer finished", async () => (await json(await server.fetch(`/v1/processes/${proc.id}`))).status === "exited", 60_000);
    const dir = path.join(server.stateDir, "processes");
    const size = (f: string) => {
      try {
        return statSync(path.join(dir, f)).size;
      } catch {
        return 0;
      }
    };
    const text = size(`${proc.id}.log`) + size(`${proc.id}.log.1`);
    assert.ok(text > cap / 4, `the log holds the newest output (${text} bytes)`);
    assert.ok(text <= cap + 256 * 1024, `text log of ${text} bytes for a cap of ${cap}`);
    const all = readdirSync(dir).filter((f) => f.startsWith(`${proc.id}.`)).reduce((n, f) => n + size(f), 0);
    assert.ok(all <= 5 * cap, `all files of the process hold ${all} bytes`);
    await post(server, "/v1/processes/config", config);
  });
});

/** Pids whose command line is exactly `sleep <seconds>`. */
function sleepers(seconds: number): number[] {
  return readdirSync("/proc").flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      return cmd === `sleep\0${seconds}\0` && alive(Number(name)) ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

describe("what a user process starts ends with it", () => {
  it("stop ends its group, and a helper left by a crashed server is ended at the next start", async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-test-"));
    let server = await startServer({ stateDir });
    try {
      const a = 4000 + Math.floor(Math.random() * 1000);
      const inGroup = await json(await post(server, "/v1/processes", { command: "sh", args: ["-c", `sleep ${a} & sleep ${a} & wait`] }));
      await eventually("two sleepers run", () => sleepers(a).length === 2);
      await post(server, `/v1/processes/${inGroup.id}/stop?waitMs=5000`, {});
      await eventually("the group ended with its leader", () => sleepers(a).length === 0);

      // setsid leaves the group: only the marker finds it after the crash
      const b = a + 1000;
      await post(server, "/v1/processes", { command: "sh", args: ["-c", `setsid sleep ${b} & wait`] });
      await eventually("the escaped sleeper runs", () => sleepers(b).length === 1);
      const [escaped] = sleepers(b);
      const exited = new Promise((r) => server.child.once("exit", r));
      server.child.kill("SIGKILL");
      await exited;
      assert.ok(alive(escaped!), "the helper outlived the crashed server");
      server = await startServer({ stateDir });
      await eventually("the next runtime ended the helper", () => !alive(escaped!), 15_000);
    } finally {
      await server.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("one runtime per state directory", () => {
  it("a second runtime on the same directory is refused with a clear message, the first's processes untouched", async () => {
    const first = await startServer();
    try {
      const proc = await json(await post(first, "/v1/processes", { command: "sleep", args: ["300"] }));
      await assert.rejects(startServer({ stateDir: first.stateDir }), /state directory .* is in use by another Glasspane runtime \(PID \d+/);
      const again = await json(await first.fetch(`/v1/processes/${proc.id}`));
      assert.equal(again.status, "running");
      assert.ok(alive(proc.pid), "the first runtime's process still runs");
      const next = await json(await post(first, "/v1/processes", { command: "true" }));
      assert.equal(Number(next.id.split("_")[1]), Number(proc.id.split("_")[1]) + 1, "ids go on from the first runtime's own");
      await post(first, `/v1/processes/${proc.id}/kill?waitMs=5000`, {});
    } finally {
      await first.stop();
    }
  });
});

describe("the runtime's own logs are bounded", () => {
  it("runtime.log keeps within its cap, the newest lines in it", async () => {
    const { BoundedLogFile } = await import("../main/shared/bounded-log.js");
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-log-"));
    try {
      const file = path.join(dir, "runtime.log");
      const log = new BoundedLogFile(file, () => 1_048_576);
      const line = `${"x".repeat(99)}\n`;
      for (let i = 0; i < 40_000; i++) log.write(i === 39_999 ? "the last line\n" : line);
      log.close();
      await eventually("the log is written", () => readFileSync(file, "utf8").endsWith("the last line\n"));
      const total = statSync(file).size + statSync(`${file}.1`).size;
      assert.ok(total <= 1_048_576 + 200, `runtime.log and its .1 hold ${total} bytes for a 1 MiB cap (4 MB written)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the server's output file (the daemon log) is trimmed past 5 MiB", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-out-"));
    try {
      const file = path.join(dir, "daemon.log");
      const { openSync, closeSync } = await import("node:fs");
      const { spawnSync } = await import("node:child_process");
      const fd = openSync(file, "a");
      const cap = new URL("../main/cli/output-cap.js", import.meta.url).href;
      // a process that writes 24 MB to its stdout file, 1 MB at a time, checking the cap as the server does
      const script = `import(${JSON.stringify(cap)}).then(async ({ capOutputFile }) => { capOutputFile(20); for (let i = 0; i < 24; i++) { require("fs").writeSync(1, "y".repeat(1_048_575) + "\\n"); await new Promise((r) => setTimeout(r, 60)); } process.exit(0); })`;
      const r = spawnSync(process.execPath, ["-e", script], { stdio: ["ignore", fd, "pipe"], timeout: 60_000 });
      closeSync(fd);
      assert.equal(r.status, 0, r.stderr?.toString());
      const size = statSync(file).size;
      assert.ok(size <= 6 * 1_048_576, `the output file holds ${size} bytes after 24 MB were written`);
      assert.ok(statSync(`${file}.1`).size > 0, "the older output is kept in .1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
