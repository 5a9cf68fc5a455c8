import { EventEmitter, once } from "node:events";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import which from "which";
import { GlasspaneError } from "../shared/errors.js";
import { sleep } from "../shared/deadline.js";

export type ProcessOwner = "user" | "desktop" | "system";
export type ProcessStatus = "running" | "exited";
export type LogStream = "stdout" | "stderr";

/**
 * When a process that exited on its own is started again. `while` restarts as long as
 * the predicate holds (e.g. "while the desktop is active"), with a growing backoff.
 */
export type RestartPolicy = { mode: "never" } | { mode: "while"; active: () => boolean; maxBackoffMs?: number };

export interface ProcessSpec {
  /** short label for logs and status, e.g. "Xvfb" */
  name?: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  owner: ProcessOwner;
  restart?: RestartPolicy;
}

export interface LogEntry {
  sequence: number;
  stream: LogStream;
  timestampMs: number;
  data: Buffer;
}

export interface ProcessInfo {
  id: string;
  name: string;
  command: string;
  args: string[];
  cwd: string | null;
  owner: ProcessOwner;
  status: ProcessStatus;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  restarts: number;
  createdAtMs: number;
  exitedAtMs: number | null;
  logPath: string;
}

const MAX_LOG_ENTRIES = 2000;

const setpriv = which.sync("setpriv", { nothrow: true });

/**
 * Children must not outlive a runtime that is killed outright (SIGKILL, OOM): a
 * leftover Xvfb would hold its display and openbox would spin. util-linux's setpriv sets
 * the parent-death signal and then execs the program, so the pid stays the child's own.
 */
function dieWithParent(command: string, args: string[]): [string, string[]] {
  return setpriv ? [setpriv, ["--pdeathsig", "TERM", "--", command, ...args]] : [command, args];
}

/** One child process owned by the manager, possibly restarted several times under the same id. */
export class ManagedProcess extends EventEmitter {
  status: ProcessStatus = "running";
  pid: number | null = null;
  exitCode: number | null = null;
  signal: string | null = null;
  restarts = 0;
  readonly createdAtMs = Date.now();
  exitedAtMs: number | null = null;
  readonly logs: LogEntry[] = [];
  private sequence = 0;
  private child: ResultPromise | undefined;
  private stopping = false;
  private readonly logFile: WriteStream;

  constructor(
    readonly id: string,
    readonly spec: ProcessSpec,
    readonly logPath: string,
  ) {
    super();
    this.logFile = createWriteStream(logPath, { flags: "a" });
    this.logFile.on("error", () => {}); // a full disk must not take the runtime down
  }

  get name(): string {
    return this.spec.name ?? path.basename(this.spec.command);
  }

  info(): ProcessInfo {
    return {
      id: this.id,
      name: this.name,
      command: this.spec.command,
      args: this.spec.args ?? [],
      cwd: this.spec.cwd ?? null,
      owner: this.spec.owner,
      status: this.status,
      pid: this.pid,
      exitCode: this.exitCode,
      signal: this.signal,
      restarts: this.restarts,
      createdAtMs: this.createdAtMs,
      exitedAtMs: this.exitedAtMs,
      logPath: this.logPath,
    };
  }

  /** Starts the child; resolves once it has spawned, rejects (502) when it cannot be spawned. */
  async start(): Promise<void> {
    const [file, args] = dieWithParent(this.spec.command, this.spec.args ?? []);
    const child = execa(file, args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      extendEnv: true,
      stdin: "ignore",
      buffer: false,
      reject: false,
      cleanup: true,
      windowsHide: true,
    });
    this.child = child;
    this.status = "running";
    this.exitCode = null;
    this.signal = null;
    this.exitedAtMs = null;
    child.stdout?.on("data", (d: Buffer) => this.append("stdout", d));
    child.stderr?.on("data", (d: Buffer) => this.append("stderr", d));
    const spawned: true | Error = await Promise.race([
      once(child, "spawn").then(() => true as const),
      once(child, "error").then(([err]) => err as Error),
    ]);
    if (spawned !== true) {
      this.markExited(null, null);
      throw new GlasspaneError("internal", 502, `cannot start ${this.spec.command}: ${spawned.message}`);
    }
    this.pid = child.pid ?? null;
    this.appendNote(`started pid ${this.pid}: ${[this.spec.command, ...(this.spec.args ?? [])].join(" ")}`);
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
  }

  /** Sends `signal`, then SIGKILL if the process is still alive after `waitMs`. Never waits longer than that. */
  async stop(waitMs = 5000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || this.status === "exited") return;
    const exited = once(this, "exit");
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
    if (!done && this.status === "running") {
      child.kill("SIGKILL");
      await Promise.race([exited, sleep(1000)]);
    }
  }

  /** Waits for the current child to exit, up to `ms`; resolves true when it did. */
  async waitForExit(ms: number): Promise<boolean> {
    if (this.status === "exited") return true;
    return Promise.race([once(this, "exit").then(() => true), sleep(ms).then(() => false)]);
  }

  private onExit(child: ResultPromise, code: number | null, signal: NodeJS.Signals | null) {
    if (child !== this.child) return;
    this.markExited(code, signal);
    this.appendNote(`exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    const policy = this.spec.restart ?? { mode: "never" };
    if (policy.mode === "while" && !this.stopping && policy.active()) void this.restartLater(policy);
  }

  private async restartLater(policy: Extract<RestartPolicy, { mode: "while" }>) {
    const backoff = Math.min(100 * 2 ** Math.min(this.restarts, 6), policy.maxBackoffMs ?? 2000);
    await sleep(backoff);
    if (this.stopping || !policy.active() || this.status === "running") return;
    this.restarts++;
    try {
      await this.start();
      this.emit("restart", this);
    } catch (err) {
      this.appendNote(`restart failed: ${(err as Error).message}`);
      if (policy.active() && !this.stopping) void this.restartLater(policy);
    }
  }

  private markExited(code: number | null, signal: NodeJS.Signals | null) {
    this.status = "exited";
    this.exitCode = code;
    this.signal = signal;
    this.exitedAtMs = Date.now();
    this.emit("exit", this);
  }

  private append(stream: LogStream, data: Buffer) {
    const entry: LogEntry = { sequence: ++this.sequence, stream, timestampMs: Date.now(), data };
    this.logs.push(entry);
    if (this.logs.length > MAX_LOG_ENTRIES) this.logs.splice(0, this.logs.length - MAX_LOG_ENTRIES);
    this.writeLogLines(entry.timestampMs, stream, data.toString("utf8"));
    this.emit("log", entry);
  }

  private appendNote(text: string) {
    this.writeLogLines(Date.now(), "glasspane", text);
  }

  /** Log file: one line per output line, prefixed with an ISO timestamp and the stream. */
  private writeLogLines(ts: number, stream: string, text: string) {
    const stamp = new Date(ts).toISOString();
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const line of lines) this.logFile.write(`${stamp} ${stream} ${line}\n`);
  }

  closeLog() {
    this.logFile.end();
  }
}

/** Owns every child process of the runtime: spawn, restart, logs, shutdown. */
export class ProcessManager extends EventEmitter {
  private readonly processes = new Map<string, ManagedProcess>();
  private nextId = 1;
  readonly logDir: string;

  constructor(stateDir: string) {
    super();
    this.logDir = path.join(stateDir, "processes");
    mkdirSync(this.logDir, { recursive: true });
  }

  async spawn(spec: ProcessSpec): Promise<ManagedProcess> {
    const id = `proc_${this.nextId++}`;
    const proc = new ManagedProcess(id, spec, path.join(this.logDir, `${id}.log`));
    this.processes.set(id, proc);
    await proc.start();
    this.emit("spawn", proc);
    return proc;
  }

  get(id: string): ManagedProcess | undefined {
    return this.processes.get(id);
  }

  list(owner?: ProcessOwner): ManagedProcess[] {
    return [...this.processes.values()].filter((p) => !owner || p.spec.owner === owner);
  }

  remove(id: string): void {
    const proc = this.processes.get(id);
    if (!proc) return;
    if (proc.status === "running") throw new GlasspaneError("conflict", 409, `process ${id} is still running`);
    proc.closeLog();
    this.processes.delete(id);
  }

  /** Stops every running child (SIGTERM, then SIGKILL after `waitMs`). */
  async shutdown(waitMs = 3000): Promise<void> {
    await Promise.all(this.list().map((p) => p.stop(waitMs)));
    for (const p of this.list()) p.closeLog();
  }
}
