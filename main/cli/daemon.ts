import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildId } from "../app/build-id.js";
import { sleep } from "../shared/deadline.js";
import { defaultStateDir } from "../shared/paths.js";
import { toInt, UsageError } from "./args.js";
import { ADDRESS_OPTIONS, SERVER_OPTIONS } from "./server-options.js";
import { processAlive } from "../shared/process.js";

/** How long `start` waits for /v1/health (a desktop takes a few seconds more). */
const START_DEADLINE_MS = 30_000;
const START_DEADLINE_DESKTOP_MS = 90_000;
/** `stop`: SIGTERM, then SIGKILL after this long (seed 000). */
const STOP_GRACE_MS = 5_000;
const HEALTH_TIMEOUT_MS = 1_500;
const PATH_OPTIONS = new Set(["state-dir", "fs-root"]);

/** The files of the daemon at one host and port, under `$XDG_STATE_HOME/glasspane/daemon`. */
export interface DaemonFiles {
  pid: string;
  version: string;
  log: string;
  /** held by one `daemon start` or `daemon stop` at a time */
  lock: string;
}

export function daemonFiles(host: string, port: number, stateDir = defaultStateDir()): DaemonFiles {
  const base = path.join(stateDir, "daemon", `daemon-${host.replace(/[^A-Za-z0-9]+/g, "-")}-${port}`);
  return { pid: `${base}.pid`, version: `${base}.version`, log: `${base}.log`, lock: `${base}.lock` };
}

/** `glasspane daemon start|stop|status`; returns the exit code. */
export async function daemon(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "start":
      return start(rest);
    case "stop": {
      const { host, port } = address(rest);
      return withLock(daemonFiles(host, port), () => stop(host, port));
    }
    case "status": {
      const { host, port } = address(rest);
      return status(host, port);
    }
    default:
      throw new UsageError(`unknown daemon action "${action ?? ""}" (expected: start, stop or status)`);
  }
}

function address(args: string[]) {
  const { values } = parseArgs({ args, strict: true, options: ADDRESS_OPTIONS });
  return { host: values.host, port: toInt(values.port, "--port", 1, 65535) };
}

interface Running {
  pid: number;
  build: string | undefined;
  healthy: boolean;
}

/** The daemon recorded for this address, if its process still runs. */
async function running(host: string, port: number): Promise<Running | undefined> {
  const files = daemonFiles(host, port);
  const pid = Number(readText(files.pid));
  if (!Number.isInteger(pid) || pid <= 0 || !isOurServer(pid)) return undefined;
  return { pid, build: readText(files.version), healthy: await healthy(host, port) };
}

async function start(args: string[]): Promise<number> {
  const { values, tokens } = parseArgs({ args, strict: true, options: SERVER_OPTIONS, tokens: true });
  const host = values.host;
  const port = toInt(values.port, "--port", 1, 65535);
  if (values.token !== undefined && values["no-token"]) throw new UsageError("--token and --no-token exclude each other");
  const files = daemonFiles(host, port);
  return withLock(files, () => startLocked(host, port, files, values, tokens));
}

async function startLocked(
  host: string,
  port: number,
  files: DaemonFiles,
  values: { token?: string; "no-token"?: boolean; desktop?: boolean },
  tokens: ReadonlyArray<{ kind: string; name?: string; value?: string }>,
): Promise<number> {
  const current = buildId();

  const existing = await running(host, port);
  if (existing) {
    if (existing.build === current) {
      if (existing.healthy || (await waitHealthy(host, port, existing.pid, 5_000))) {
        console.log(`Daemon already running (${describe(existing.pid, current, files)})`);
        return 0;
      }
      console.log(`daemon (PID ${existing.pid}) does not answer /v1/health, restarting...`);
    } else {
      console.log(`daemon outdated (build ${existing.build ?? "unknown"} -> ${current}), restarting...`);
    }
    await terminate(existing.pid);
  } else if (await healthy(host, port)) {
    console.error(`glasspane: a server not started by "glasspane daemon" already answers at ${host}:${port}`);
    return 1;
  }

  // The token goes through the environment, not argv, so `ps` does not show it.
  const env = { ...process.env };
  let token: string | undefined;
  if (values["no-token"]) delete env.GLASSPANE_TOKEN;
  else {
    token = values.token ?? env.GLASSPANE_TOKEN;
    if (!token) {
      token = randomBytes(18).toString("base64url");
      console.log(`no --token given; the daemon's token is ${token}`);
    }
    env.GLASSPANE_TOKEN = token;
  }
  const serverArgs = ["server", "--host", host, "--port", String(port)];
  for (const t of tokens) {
    if (t.kind !== "option" || !t.name || ["host", "port", "token"].includes(t.name)) continue;
    // the daemon runs in the home directory: a relative directory option must not change meaning
    const value = t.value !== undefined && PATH_OPTIONS.has(t.name) ? path.resolve(t.value) : t.value;
    serverArgs.push(`--${t.name}`, ...(value !== undefined ? [value] : []));
  }

  mkdirSync(path.dirname(files.pid), { recursive: true });
  const log = openSync(files.log, "a");
  writeSync(log, `\n--- glasspane daemon starting at ${new Date().toISOString()} (build ${current}) ---\n`);
  const bin = fileURLToPath(new URL("../../../bin/glasspane.js", import.meta.url));
  // Deliberately outside the ProcessManager: the daemon outlives this CLI process.
  const child = spawn(process.execPath, [bin, ...serverArgs], { detached: true, stdio: ["ignore", log, log], env, cwd: os.homedir() });
  closeSync(log);
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  child.unref();
  if (child.pid === undefined) throw await spawnError;
  writeFileSync(files.pid, `${child.pid}\n`);
  writeFileSync(files.version, `${current}\n`);

  const deadline = values.desktop ? START_DEADLINE_DESKTOP_MS : START_DEADLINE_MS;
  if (!(await waitHealthy(host, port, child.pid, deadline))) {
    const alive = isOurServer(child.pid);
    if (alive) await terminate(child.pid);
    if (readText(files.pid) === String(child.pid)) removeRecord(files);
    console.error(
      `glasspane: the daemon ${alive ? `did not answer /v1/health within ${deadline / 1000} s` : "exited during start-up"}; ` +
        `the end of its log (${files.log}):\n${tail(files.log)}`,
    );
    return 1;
  }
  if (values.desktop) {
    const state = await waitDesktop(host, port, token, deadline);
    if (state !== "active") {
      console.error(`glasspane: the daemon runs (PID ${child.pid}) but its desktop is ${state}; see ${files.log} and GET /v1/desktop/status`);
      return 1;
    }
  }
  console.log(`Daemon running (${describe(child.pid, current, files)})`);
  return 0;
}

/** With --desktop, `start` returns once the desktop is up (or has failed), not merely the server. */
async function waitDesktop(host: string, port: number, token: string | undefined, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let state = "unknown";
  while (Date.now() < end) {
    try {
      const res = await fetch(`http://${connectHost(host)}:${port}/v1/desktop/status`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS * 2),
      });
      state = ((await res.json()) as { state?: string }).state ?? "unknown";
      if (state !== "starting" && state !== "inactive") return state;
    } catch {
      /* not answering yet */
    }
    await sleep(100);
  }
  return `still ${state} after ${ms / 1000} s`;
}

async function stop(host: string, port: number): Promise<number> {
  const files = daemonFiles(host, port);
  const existing = await running(host, port);
  if (!existing) {
    removeRecord(files);
    console.log("Daemon not running");
    return 0;
  }
  const how = await terminate(existing.pid);
  removeRecord(files);
  console.log(how === "SIGKILL" ? `Daemon (PID ${existing.pid}) ignored SIGTERM for ${STOP_GRACE_MS / 1000} s and was killed` : `Daemon (PID ${existing.pid}) stopped`);
  return 0;
}

async function status(host: string, port: number): Promise<number> {
  const files = daemonFiles(host, port);
  const existing = await running(host, port);
  if (!existing) {
    console.log(`Daemon not running (${host}:${port})`);
    return 3;
  }
  const current = buildId();
  const notes = [
    existing.healthy ? "" : " [not answering /v1/health]",
    existing.build === current ? "" : ` [outdated, restart recommended: this build is ${current}]`,
  ].join("");
  console.log(`Daemon running (${describe(existing.pid, existing.build ?? "unknown", files)})${notes}`);
  return 0;
}

/**
 * Runs `fn` while holding the address's lock file, so two `daemon start`s at once do not
 * both spawn a server. A lock left by a CLI that died is taken over.
 */
async function withLock<T>(files: DaemonFiles, fn: () => Promise<T>): Promise<T> {
  mkdirSync(path.dirname(files.lock), { recursive: true });
  const end = Date.now() + START_DEADLINE_DESKTOP_MS + 2 * STOP_GRACE_MS;
  for (;;) {
    try {
      writeFileSync(files.lock, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readText(files.lock));
      if (!Number.isInteger(holder) || !processAlive(holder)) {
        rmSync(files.lock, { force: true });
        continue;
      }
      if (Date.now() > end) throw new Error(`another glasspane (PID ${holder}) holds ${files.lock}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(files.lock, { force: true });
  }
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
async function terminate(pid: number): Promise<"SIGTERM" | "SIGKILL"> {
  signal(pid, "SIGTERM");
  if (await exited(pid, STOP_GRACE_MS)) return "SIGTERM";
  signal(pid, "SIGKILL");
  if (await exited(pid, STOP_GRACE_MS)) return "SIGKILL";
  throw new Error(`the daemon (PID ${pid}) survived SIGKILL for ${STOP_GRACE_MS / 1000} s`);
}

async function exited(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isOurServer(pid)) return true;
    await sleep(50);
  }
  return !isOurServer(pid);
}

async function waitHealthy(host: string, port: number, pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isOurServer(pid)) return false;
    if (await healthy(host, port)) return true;
    await sleep(100);
  }
  return false;
}

/** Anything that answers /v1/health over HTTP (200, or 401 when it wants a token) is up. */
async function healthy(host: string, port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${connectHost(host)}:${port}/v1/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

function connectHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * True when `pid` is a live (not zombie) `glasspane server`: a stale pid file whose
 * number now belongs to another program must never be signalled.
 */
function isOurServer(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a) => a.endsWith("glasspane.js") || a.endsWith("glasspane")) && argv.includes("server");
  } catch {
    return false;
  }
}


function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

function describe(pid: number, build: string, files: DaemonFiles): string {
  return `PID ${pid}, build ${build}, logs: ${files.log}`;
}

function removeRecord(files: DaemonFiles) {
  rmSync(files.pid, { force: true });
  rmSync(files.version, { force: true });
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function tail(file: string, lines = 20): string {
  return (readText(file) ?? "").split("\n").slice(-lines).join("\n");
}
