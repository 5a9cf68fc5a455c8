import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import sharp from "sharp";
import which from "which";
import { SandboxAgent } from "sandbox-agent";
import { eventually, repoRoot } from "./support/server.js";

/**
 * The container image as a user builds and runs it: the debootstrap base, the Dockerfile, podman
 * with the flags these VMs need (README, "Container image"), the runtime inside driven from
 * outside with the published SDK, then a stop that leaves nothing behind.
 */

const IMAGE = "localhost/glasspane:test";
// crun and podman's default ulimits fail here: root lacks CAP_SYS_RESOURCE, cgroups are hybrid
const PODMAN_GLOBAL = ["--cgroup-manager=cgroupfs", "--runtime", "runc"];
const RUN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
const UID = 10001;
const W = 1440;
const H = 900;

interface Ran {
  stdout: string;
  stderr: string;
}

/** Runs a program with a deadline; fails with its output when it fails or overruns. */
function run(file: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repoRoot, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(" ")} failed (${err.killed ? `killed after ${timeoutMs} ms` : `exit ${err.code}`}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

const podman = (args: string[], timeoutMs = 60_000) => run("podman", [...PODMAN_GLOBAL, ...args], timeoutMs);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Host pids whose pid namespace is `nsLink` (readlink of /proc/PID/ns/pid). */
function pidsInNamespace(nsLink: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === nsLink) found.push(Number(entry));
    } catch {
      /* gone meanwhile, or a kernel thread */
    }
  }
  return found;
}

/** Host pids running as the image's user (no other program on the host uses uid 10001). */
function pidsOfImageUser(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (Number(uid) === UID) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

const describePid = (pid: number) => {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")}`;
  } catch {
    return `${pid} (gone)`;
  }
};

interface Running {
  name: string;
  url: string;
  /** the ops listener: metrics and health without a token */
  opsUrl: string;
  sdk: SandboxAgent;
  /** the container's pid namespace, as the host names it */
  pidNamespace: string;
  /** resolves to the container's exit code (podman wait) */
  exited: Promise<number>;
  /** what the container printed so far (podman logs --follow) */
  output(): string;
}

const token = randomBytes(18).toString("base64url");
const volume = `glasspane-test-${randomBytes(4).toString("hex")}`;
const started: string[] = [];
const timings: string[] = [];

async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    const line = `container test: ${step}: ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    timings.push(line);
    console.log(line);
  }
}

/** `podman run`s the image as the README says, waits for /v1/health and connects the SDK. */
async function runImage(extra: string[] = []): Promise<Running> {
  const name = `glasspane-test-${randomBytes(4).toString("hex")}`;
  const port = await freePort();
  const opsPort = await freePort();
  await podman([
    "run", "--detach", "--rm", "--name", name, ...RUN_LIMITS, ...extra,
    "--publish", `127.0.0.1:${port}:2468`,
    "--publish", `127.0.0.1:${opsPort}:9464`,
    "--env", `GLASSPANE_TOKEN=${token}`,
    "--volume", `${volume}:/var/lib/glasspane`,
    IMAGE,
  ]);
  started.push(name);
  const exited = podman(["wait", name], 600_000).then(
    (r) => Number(r.stdout.trim()),
    () => -1,
  );
  // followed from the start: with --rm the logs go with the container
  let output = "";
  const follower = spawn("podman", [...PODMAN_GLOBAL, "logs", "--follow", name], { stdio: ["ignore", "pipe", "pipe"] });
  follower.stdout.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  follower.stderr.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  void exited.finally(() => setTimeout(() => follower.kill(), 2000).unref());
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  await eventually(`${name} to answer /v1/health`, async () => {
    if (gone) throw new Error(`the container exited before it was healthy`);
    const res = await fetch(`${url}/v1/health`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    return res.status === 200 && (await res.json()).status === "ok";
  }, 120_000, 250).catch(async (err) => {
    throw new Error(`${(err as Error).message}\ncontainer output:\n${output}`);
  });
  const pid = (await podman(["inspect", "--format", "{{.State.Pid}}", name])).stdout.trim();
  const pidNamespace = readlinkSync(`/proc/${pid}/ns/pid`);
  const sdk = await SandboxAgent.connect({ baseUrl: url, token, waitForHealth: { timeoutMs: 10_000 } } as any);
  return { name, url, opsUrl: `http://127.0.0.1:${opsPort}`, sdk, pidNamespace, exited, output: () => output };
}

/** Stops the container with a deadline and checks that nothing of it is left on the host. */
async function stopAndCheckGone(c: Running): Promise<void> {
  const before = pidsInNamespace(c.pidNamespace);
  assert.ok(before.length >= 3, `the container's processes are visible from the host: ${before.map(describePid).join("; ")}`);
  await podman(["stop", "--time", "20", c.name], 60_000);
  assert.equal(await c.exited, 0, "the runtime exits 0 on SIGTERM (through tini)");
  await eventually(`${c.name} to be removed (--rm)`, async () => !(await podman(["ps", "--all", "--format", "{{.Names}}"])).stdout.split("\n").includes(c.name), 30_000, 250);
  await eventually("no process left in the container's pid namespace", () => pidsInNamespace(c.pidNamespace).length === 0, 10_000, 100)
    .catch((err) => assert.fail(`${(err as Error).message}: ${pidsInNamespace(c.pidNamespace).map(describePid).join("; ")}`));
  await eventually(`no process of uid ${UID} left`, () => pidsOfImageUser().length === 0, 10_000, 100)
    .catch((err) => assert.fail(`${(err as Error).message}: ${pidsOfImageUser().map(describePid).join("; ")}`));
  for (const pid of before) assert.ok(!existsSync(`/proc/${pid}`) || readlinkSafe(`/proc/${pid}/ns/pid`) !== c.pidNamespace, `pid ${pid} is gone`);
  // conmon, the container's monitor, exits with it
  await eventually("conmon to exit", async () => !(await run("ps", ["-eo", "args"], 10_000)).stdout.includes(c.name), 10_000, 250);
}

function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

describe("the container image", { timeout: 15 * 60_000 }, () => {
  let first: Running;

  before(() => {
    // a missing tool fails the test loudly: the CI installs these (scripts/setup.sh --test)
    const missing = ["podman", "buildah", "debootstrap", "runc"].filter((p) => !which.sync(p, { nothrow: true }));
    if (missing.length > 0) {
      throw new Error(`the container test needs ${missing.join(", ")}: apt-get install -y podman buildah debootstrap runc uidmap slirp4netns fuse-overlayfs (scripts/setup.sh --test installs them)`);
    }
    if (process.getuid?.() !== 0) throw new Error("the container test builds with debootstrap and runs podman as root; run it as root");
  });

  after(async () => {
    for (const name of started) await podman(["rm", "--force", "--time", "5", name]).catch(() => undefined);
    await podman(["volume", "rm", "--force", volume]).catch(() => undefined);
    await podman(["rmi", "--force", IMAGE], 120_000).catch(() => undefined);
    console.log(timings.join("\n"));
  });

  it("builds the debootstrap base (when absent) and the image", { timeout: 12 * 60_000 }, async () => {
    await timed("base image (debootstrap, skipped when present)", () => run(path.join(repoRoot, "scripts/container/build-base.sh"), [], 8 * 60_000));
    await timed("app image (podman build)", () => run(path.join(repoRoot, "scripts/container/build-image.sh"), [], 10 * 60_000, { GLASSPANE_IMAGE: IMAGE }));
    const inspect = JSON.parse((await podman(["image", "inspect", IMAGE])).stdout)[0];
    assert.equal(inspect.Config.User, "glasspane");
    assert.deepEqual(inspect.Config.Cmd.slice(0, 2), ["glasspane", "server"]);
    assert.ok(Object.keys(inspect.Config.Volumes ?? {}).includes("/var/lib/glasspane"));
    assert.ok((inspect.Healthcheck ?? inspect.Config.Healthcheck)?.Test?.length > 0, "the image keeps its HEALTHCHECK (docker format)");
    await podman(["volume", "create", volume]);
  });

  it("runs as a non-root user and answers health, also through the image's HEALTHCHECK", { timeout: 5 * 60_000 }, async () => {
    first = await timed("run until /v1/health answers", runImage);
    await timed("podman healthcheck run", async () => {
      // exits 0 when healthy (podman runs it itself here: without systemd it has no timer)
      await podman(["healthcheck", "run", first.name]);
      assert.equal((await podman(["inspect", "--format", "{{.State.Health.Status}}", first.name])).stdout.trim(), "healthy");
    });
    // the ops port answers without a token; the main port does not
    assert.equal((await fetch(`${first.url}/v1/health`, { signal: AbortSignal.timeout(10_000) })).status, 401);
    await timed("/v1/health/ready on the ops port", () => eventually("readiness", async () => {
      const res = await fetch(`${first.opsUrl}/v1/health/ready`, { signal: AbortSignal.timeout(10_000) });
      return res.status === 200 && (await res.json()).status === "ready";
    }, 60_000, 250));
    const metrics = await (await fetch(`${first.opsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.match(metrics, /^glasspane_desktops_in_use 1$/m);
    const r = await first.sdk.runProcess({ command: "sh", args: ["-c", "id -u; cat /etc/debian_version"] });
    assert.equal(r.exitCode, 0, r.stderr);
    const [uid, debian] = r.stdout.trim().split("\n");
    assert.equal(Number(uid), UID);
    assert.match(debian!, /^12\./);
  });

  it("serves the desktop: active, screenshot, typed text arrives, a process's output comes back", { timeout: 5 * 60_000 }, async () => {
    const { sdk } = first;
    await timed("desktop active", async () => {
      let status = await sdk.getDesktopStatus();
      if (status.state === "inactive" || status.state === "failed") status = await sdk.startDesktop({});
      await eventually("the desktop to be active", async () => (status = await sdk.getDesktopStatus()).state === "active", 60_000, 250);
      assert.deepEqual(status.resolution, { width: W, height: H, dpi: 96 });
      assert.deepEqual(status.missingDependencies ?? [], []);
    });
    const file = "/var/lib/glasspane/typed.txt";
    await timed("xterm launched and text typed into it", async () => {
      const launched = await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "typing", "-geometry", "80x24+20+20", "-e", "sh", "-c", `cat > ${file}`], wait: true });
      // launch waits 5 s for the window; a loaded machine may take longer
      let windowId = launched.windowId ?? undefined;
      await eventually("xterm's window", async () => {
        windowId ??= (await sdk.listDesktopWindows()).windows.find((w) => w.title === "typing")?.id;
        return windowId !== undefined;
      }, 60_000, 250).catch(async (err) => {
        const proc = await sdk.getProcess(launched.processId);
        const logs = await sdk.getProcessLogs(launched.processId);
        throw new Error(`${(err as Error).message}; xterm: ${JSON.stringify(proc)} ${logs.entries.map((e) => Buffer.from(e.data, "base64").toString()).join("")}`);
      });
      await sdk.focusDesktopWindow(windowId!);
      await sdk.typeDesktopText({ text: "typed from outside the container, ünïcödé\n" });
      await eventually("the typed text to reach the file", async () => Buffer.from(await sdk.readFsFile({ path: file })).toString("utf8") === "typed from outside the container, ünïcödé\n", 30_000, 200);
    });
    await timed("screenshot", async () => {
      const png = Buffer.from(await sdk.takeDesktopScreenshot());
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["png", W, H]);
      // the xterm is on it: not one flat colour
      const stats = await sharp(png).stats();
      assert.ok(stats.channels.some((c) => c.max - c.min > 100), "the screenshot has content");
    });
    await timed("a process runs and its output comes back", async () => {
      const ran = await sdk.runProcess({ command: "sh", args: ["-c", "echo out; echo err >&2; exit 3"] });
      assert.deepEqual([ran.stdout, ran.stderr, ran.exitCode], ["out\n", "err\n", 3]);
      const proc = await sdk.createProcess({ command: "sh", args: ["-c", "echo started; sleep 600"] });
      await eventually("the process's log", async () => (await sdk.getProcessLogs(proc.id)).entries.some((e) => Buffer.from(e.data, "base64").toString().includes("started")), 30_000, 200);
      // a running child is left for the stop to end
    });
  });

  it("stops within the deadline and leaves nothing behind; the volume starts again, on a read-only root", { timeout: 5 * 60_000 }, async () => {
    await timed("podman stop and cleanup checks", () => stopAndCheckGone(first));
    const mountpoint = (await podman(["volume", "inspect", "--format", "{{.Mountpoint}}", volume])).stdout.trim();
    assert.ok(existsSync(path.join(mountpoint, "typed.txt")), "the state survives in the volume");
    assert.ok(!existsSync(path.join(mountpoint, "glasspane.lock")), "the state directory's lock is released");
    // the second run as the Kubernetes pod runs it: a read-only root (podman puts tmpfs on /tmp)
    const second = await timed("second run (read-only root) on the same volume until /v1/health answers", () => runImage(["--read-only"]));
    // on a used state directory the desktop may still be starting when the API answers
    let exitedEarly = false;
    void second.exited.then(() => (exitedEarly = true));
    await eventually("the second run's desktop to be active", async () => {
      if (exitedEarly) throw new Error("the container exited");
      return (await second.sdk.getDesktopStatus()).state === "active";
    }, 60_000, 250).catch((err) => assert.fail(`${(err as Error).message}\ncontainer output:\n${second.output()}`));
    assert.equal(Buffer.from(await second.sdk.readFsFile({ path: "/var/lib/glasspane/typed.txt" })).toString("utf8"), "typed from outside the container, ünïcödé\n");
    await timed("second stop and cleanup checks", () => stopAndCheckGone(second));
  });
});
