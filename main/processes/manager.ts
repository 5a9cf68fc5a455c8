import { EventEmitter, once } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { execa, type ResultPromise } from "execa";
import { spawn as spawnPty, type IPty } from "node-pty";
import which from "which";
import { conflict, GlasspaneError } from "../shared/errors.js";
import { sleep } from "../shared/deadline.js";
import { ProcessStore, type OutputFile, type ProcessRecord } from "./store.js";
import type { OutputStream, ProcessOwner, ProcessStatus } from "./types.js";

export type { ProcessOwner, ProcessStatus } from "./types.js";
export type LogStream = OutputStream;

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
  /** run under a pseudo-terminal (node-pty); output goes to the `pty` stream */
  tty?: boolean;
  /** recorded as asked; stdin is open whenever `stdin` is set */
  interactive?: boolean;
  /** keep stdin open for input (a pipe; a tty always has one) */
  stdin?: boolean;
  /** own process group: stop and kill reach everything the command started */
  processGroup?: boolean;
  /** initial terminal size of a tty process (80x24) */
  cols?: number;
  rows?: number;
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
  tty: boolean;
  interactive: boolean;
  status: ProcessStatus;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  restarts: number;
  createdAtMs: number;
  exitedAtMs: number | null;
  logPath: string;
}

export interface ProcessManagerOptions {
  /** cap of the output kept per process, in memory and on disk (10 MiB) */
  maxLogBytes?: () => number;
}

export interface RunLimits {
  timeoutMs: number;
  maxOutputBytes: number;
}

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

const setpriv = which.sync("setpriv", { nothrow: true });

/**
 * Children must not outlive a runtime that is killed outright (SIGKILL, OOM): a
 * leftover Xvfb would hold its display and openbox would spin. util-linux's setpriv sets
 * the parent-death signal and then execs the program, so the pid stays the child's own.
 */
function dieWithParent(command: string, args: string[], env?: Record<string, string | undefined>): [string, string[]] {
  if (!setpriv) return [command, args];
  // setpriv itself always starts and only then fails to exec a missing program, which
  // would look like a successful start followed by a crash: look the program up first
  if (!which.sync(command, { nothrow: true, path: env?.PATH ?? process.env.PATH })) {
    throw new GlasspaneError("internal", 502, `cannot start ${command}: it is not installed (not found on PATH)`);
  }
  return [setpriv, ["--pdeathsig", "TERM", "--", command, ...args]];
}

/**
 * Start time of a pid in clock ticks since boot, or null when it is gone or a zombie (it
 * has exited; only its parent has not reaped it yet): a pid plus this names one process.
 */
export function pidStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may hold spaces and parentheses: count from the last ")"
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return Number(fields[19]);
  } catch {
    return null;
  }
}

function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

/**
 * A group leader can exit before what it started (openbox's autostart leaves dbus-launch
 * behind): give the rest of its group a moment to follow, then SIGKILL what is left.
 */
async function reapGroup(pgid: number, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  if (alive()) deliver(pgid, "SIGKILL", true);
}

/** Sends a signal to a process or its whole group; false when nothing was there to receive it. */
function deliver(pid: number, signal: NodeJS.Signals, group: boolean): boolean {
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch {
    if (!group) return false;
    return deliver(pid, signal, false);
  }
}

type Child =
  | { kind: "pipe"; proc: ResultPromise }
  | { kind: "pty"; proc: IPty }
  /** found alive after a server restart: only signals reach it, its exit code is lost */
  | { kind: "adopted"; timer: NodeJS.Timeout };

/** One child process owned by the manager, possibly restarted several times under the same id. */
export class ManagedProcess extends EventEmitter {
  status: ProcessStatus = "running";
  pid: number | null = null;
  exitCode: number | null = null;
  signal: string | null = null;
  restarts = 0;
  readonly createdAtMs: number;
  exitedAtMs: number | null = null;
  readonly logs: LogEntry[] = [];
  private logBytes = 0;
  private sequence = 0;
  private startTicks: number | null = null;
  private child: Child | undefined;
  private stopping = false;
  private cols: number;
  private rows: number;
  private readonly logFile: WriteStream;
  private readonly output: OutputFile | undefined;

  constructor(
    readonly id: string,
    readonly spec: ProcessSpec,
    readonly logPath: string,
    private readonly options: { store?: ProcessStore; maxLogBytes?: () => number; restored?: ProcessRecord } = {},
  ) {
    super();
    this.setMaxListeners(0); // one listener per log follower and terminal
    this.createdAtMs = options.restored?.createdAtMs ?? Date.now();
    this.cols = spec.cols ?? 80;
    this.rows = spec.rows ?? 24;
    this.logFile = createWriteStream(logPath, { flags: "a" });
    this.logFile.on("error", () => {}); // a full disk must not take the runtime down
    this.output = options.store?.openOutput(id);
  }

  get name(): string {
    return this.spec.name ?? path.basename(this.spec.command);
  }

  /** Kept alive by a supervisor (the desktop's Xvfb and openbox): stopping it from outside would break its owner. */
  get supervised(): boolean {
    const policy = this.spec.restart;
    return policy?.mode === "while" && policy.active();
  }

  /** Whether input can be written now: a tty, or a pipe process started with stdin. */
  get writable(): boolean {
    return this.status === "running" && (this.child?.kind === "pty" || (this.child?.kind === "pipe" && !!this.child.proc.stdin));
  }

  get terminalSize(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  info(): ProcessInfo {
    return {
      id: this.id,
      name: this.name,
      command: this.spec.command,
      args: this.spec.args ?? [],
      cwd: this.spec.cwd ?? null,
      owner: this.spec.owner,
      tty: this.spec.tty ?? false,
      interactive: this.spec.interactive ?? false,
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

  record(): ProcessRecord {
    const { logPath: _logPath, ...info } = this.info();
    return { ...info, processGroup: this.spec.processGroup ?? false, pidStartTicks: this.startTicks };
  }

  /** Starts the child; resolves once it has spawned, rejects (502) when it cannot be spawned. */
  async start(): Promise<void> {
    let file: string;
    let args: string[];
    try {
      [file, args] = dieWithParent(this.spec.command, this.spec.args ?? [], this.spec.env);
    } catch (err) {
      this.markExited(null, null);
      throw err;
    }
    this.status = "running";
    this.exitCode = null;
    this.signal = null;
    this.exitedAtMs = null;
    if (this.spec.tty) this.startPty(file, args);
    else await this.startPipes(file, args);
    this.startTicks = this.pid ? pidStartTicks(this.pid) : null;
    this.appendNote(`started pid ${this.pid}: ${[this.spec.command, ...(this.spec.args ?? [])].join(" ")}`);
    this.persist();
  }

  private async startPipes(file: string, args: string[]) {
    const proc = execa(file, args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      extendEnv: true,
      stdin: this.spec.stdin ? "pipe" : "ignore",
      buffer: false,
      reject: false,
      cleanup: true,
      detached: this.spec.processGroup ?? false,
      windowsHide: true,
    });
    const child: Child = { kind: "pipe", proc };
    this.child = child;
    proc.stdout?.on("data", (d: Buffer) => this.append("stdout", d));
    proc.stderr?.on("data", (d: Buffer) => this.append("stderr", d));
    proc.stdin?.on("error", () => {}); // EPIPE when the child has closed its end
    const spawned: true | Error = await Promise.race([
      once(proc, "spawn").then(() => true as const),
      once(proc, "error").then(([err]) => err as Error),
    ]);
    if (spawned !== true) {
      this.markExited(null, null);
      throw new GlasspaneError("internal", 502, `cannot start ${this.spec.command}: ${spawned.message}`);
    }
    this.pid = proc.pid ?? null;
    proc.on("exit", (code, signal) => void this.drain(proc).then(() => this.onExit(child, code, signal)));
  }

  /**
   * 'exit' may come before the last output has been read. Waits until the pipes have
   * closed, or have been quiet for a moment (a daemon the command left behind may hold
   * them open for good), or at most a few seconds.
   */
  private async drain(proc: ResultPromise) {
    const closed = Promise.all([proc.stdout, proc.stderr].map((s) => (s && !s.readableEnded ? finished(s).catch(() => undefined) : undefined)));
    let done = false;
    void closed.then(() => (done = true));
    const end = Date.now() + 5000;
    await Promise.race([closed, sleep(100)]);
    while (!done && Date.now() < end && Date.now() - this.lastOutputAt < 200) await Promise.race([closed, sleep(50)]);
  }

  private startPty(file: string, args: string[]) {
    let proc: IPty;
    try {
      proc = spawnPty(file, args, {
        name: "xterm-256color",
        cols: this.cols,
        rows: this.rows,
        cwd: this.spec.cwd ?? process.cwd(),
        env: { ...process.env, TERM: "xterm-256color", ...this.spec.env } as Record<string, string>,
        encoding: null, // raw bytes: a terminal may carry anything
      });
    } catch (err) {
      this.markExited(null, null);
      throw new GlasspaneError("internal", 502, `cannot start ${this.spec.command} on a terminal: ${(err as Error).message}`);
    }
    const child: Child = { kind: "pty", proc };
    this.child = child;
    this.pid = proc.pid;
    proc.onData((d) => this.append("pty", Buffer.from(d as unknown as Buffer)));
    proc.onExit(({ exitCode, signal }) =>
      this.onExit(child, signal ? null : exitCode, signal ? (signalName(signal) as NodeJS.Signals) : null),
    );
  }

  /**
   * Takes over a process found alive after a server restart (same pid, same start time):
   * it can be signalled and is watched until it exits, but its output and exit code are lost.
   */
  adopt(pid: number, startTicks: number): void {
    this.pid = pid;
    this.startTicks = startTicks;
    this.status = "running";
    const timer = setInterval(() => {
      if (pidStartTicks(pid) === startTicks) return;
      this.onExit(child, null, null);
    }, 500);
    timer.unref();
    const child: Child = { kind: "adopted", timer };
    this.child = child;
    this.appendNote(`pid ${pid} still running after a server restart; adopted (its output and exit code are not observable)`);
  }

  /** Sends `signal`, then SIGKILL if the process is still alive after `waitMs`. Never waits longer than that. */
  async stop(waitMs = 5000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping = true;
    if (!this.child || this.status === "exited") return;
    const exited = once(this, "exit");
    this.sendSignal(signal);
    const done = await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
    if (!done && this.status === "running") {
      this.sendSignal("SIGKILL");
      await Promise.race([exited, sleep(1000)]);
    }
    if (this.spec.processGroup && this.pid) await reapGroup(this.pid, 1000);
  }

  /** Delivers a signal (to the whole group for group leaders and terminals); no restart follows. */
  sendSignal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (!child || this.status === "exited") return;
    this.stopping = true;
    // a tty child leads its own session, so its group is everything it started
    const group = child.kind === "pty" || !!this.spec.processGroup;
    if (this.pid && deliver(this.pid, signal, group)) return;
    if (child.kind === "pipe") child.proc.kill(signal);
  }

  /** Bytes written to a pipe child's stdin that it has not read yet (0 for a tty or no stdin). */
  inputBacklog(): number {
    return this.child?.kind === "pipe" ? (this.child.proc.stdin?.writableLength ?? 0) : 0;
  }

  /** Writes to stdin or the terminal; resolves with the bytes written. */
  async write(data: Buffer): Promise<number> {
    const child = this.child;
    if (this.status !== "running" || !child) throw conflict(`process ${this.id} has exited; it takes no more input`);
    if (child.kind === "pty") {
      child.proc.write(data);
      return data.length;
    }
    const stdin = child.kind === "pipe" ? child.proc.stdin : null;
    if (!stdin || stdin.destroyed || stdin.writableEnded) throw conflict(`process ${this.id} has no open stdin`);
    // Queue without waiting for the child to read (it may never): refuse more while a
    // full pipe is still holding earlier input back, so the queue stays bounded.
    if (stdin.writableNeedDrain) throw conflict(`process ${this.id} is not reading its input (${stdin.writableLength} bytes still queued)`);
    stdin.write(data);
    return data.length;
  }

  private holds = 0;
  private lastOutputAt = 0;

  /** Flow control for slow terminal clients: while held, a tty child blocks on its writes instead of filling memory. */
  holdOutput(): void {
    if (this.holds++ === 0 && this.child?.kind === "pty") this.child.proc.pause();
  }

  releaseOutput(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0 && this.child?.kind === "pty") this.child.proc.resume();
  }

  resize(cols: number, rows: number): void {
    const child = this.child;
    if (!this.spec.tty) throw conflict(`process ${this.id} is not a tty process`);
    this.cols = cols;
    this.rows = rows;
    if (this.status === "running" && child?.kind === "pty") child.proc.resize(cols, rows);
  }

  /** Waits for the current child to exit, up to `ms`; resolves true when it did. */
  async waitForExit(ms: number): Promise<boolean> {
    if (this.status === "exited") return true;
    return Promise.race([once(this, "exit").then(() => true), sleep(ms).then(() => false)]);
  }

  private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null) {
    if (child !== this.child || this.status === "exited") return;
    if (child.kind === "adopted") clearInterval(child.timer);
    this.markExited(code, signal);
    this.appendNote(
      child.kind === "adopted" ? "exited (code unknown: adopted after a server restart)" : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
    );
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
    this.persist();
    this.emit("exit", this);
  }

  /** Marks a process that was running when the previous server died and is gone now. */
  markLost(): void {
    this.status = "exited";
    this.exitCode = null;
    this.exitedAtMs = Date.now();
    this.appendNote("the server stopped while this process ran; it is gone and its exit code is unknown");
    this.persist();
  }

  /** Output restored from disk after a restart. */
  restoreOutput(entries: LogEntry[]): void {
    for (const e of entries) this.keep(e);
    this.sequence = entries.at(-1)?.sequence ?? 0;
  }

  private append(stream: LogStream, data: Buffer) {
    this.lastOutputAt = Date.now();
    const entry: LogEntry = { sequence: ++this.sequence, stream, timestampMs: Date.now(), data };
    this.keep(entry);
    this.output?.append(entry, this.maxLogBytes(), () => this.logs);
    this.writeLogLines(entry.timestampMs, stream, data.toString("utf8"));
    this.emit("log", entry);
  }

  /** Keeps the newest output within the per-process cap. */
  private keep(entry: LogEntry) {
    this.logs.push(entry);
    this.logBytes += entry.data.length;
    const cap = this.maxLogBytes();
    let drop = 0;
    // whole entries go while what stays still fills the cap; the oldest one left is cut to fit
    while (drop < this.logs.length - 1 && this.logBytes - this.logs[drop]!.data.length >= cap) this.logBytes -= this.logs[drop++]!.data.length;
    if (drop > 0) this.logs.splice(0, drop);
    const oldest = this.logs[0];
    if (this.logBytes > cap && oldest) {
      // one chunk larger than the cap keeps its newest bytes
      const cut = this.logBytes - cap;
      this.logs[0] = { ...oldest, data: oldest.data.subarray(cut) };
      this.logBytes -= cut;
    }
  }

  private maxLogBytes(): number {
    return this.options.maxLogBytes?.() ?? DEFAULT_MAX_LOG_BYTES;
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

  private persist() {
    this.options.store?.save(this.record());
  }

  closeLog() {
    this.logFile.end();
    this.output?.close();
  }
}

/** Owns every child process of the runtime: spawn, restart, logs, state on disk, shutdown. */
export class ProcessManager extends EventEmitter {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly runs = new Set<ResultPromise>();
  private nextId = 1;
  readonly logDir: string;
  private readonly store: ProcessStore;

  constructor(
    stateDir: string,
    private readonly options: ProcessManagerOptions = {},
  ) {
    super();
    this.logDir = path.join(stateDir, "processes");
    mkdirSync(this.logDir, { recursive: true });
    this.store = new ProcessStore(this.logDir);
    this.restore();
  }

  /**
   * Brings back the processes of earlier runs from the state directory. One that was
   * running is adopted when the same process (pid and start time) still lives, and is
   * otherwise reported exited with an unknown exit code.
   */
  private restore() {
    for (const record of this.store.load()) {
      const spec: ProcessSpec = {
        name: record.name,
        command: record.command,
        args: record.args,
        cwd: record.cwd ?? undefined,
        owner: record.owner,
        tty: record.tty,
        interactive: record.interactive,
        processGroup: record.processGroup,
      };
      const proc = new ManagedProcess(record.id, spec, this.store.logPath(record.id), { ...this.procOptions(), restored: record });
      proc.restoreOutput(this.store.readOutput(record.id));
      Object.assign(proc, { pid: record.pid, exitCode: record.exitCode, signal: record.signal, restarts: record.restarts, exitedAtMs: record.exitedAtMs });
      proc.status = "exited";
      if (record.status === "running") {
        const alive = record.pid && record.pidStartTicks !== null && pidStartTicks(record.pid) === record.pidStartTicks;
        if (alive) proc.adopt(record.pid!, record.pidStartTicks!);
        else proc.markLost();
      }
      this.processes.set(record.id, proc);
    }
    this.nextId = this.store.highestId() + 1;
  }

  private procOptions() {
    return { store: this.store, maxLogBytes: this.options.maxLogBytes };
  }

  async spawn(spec: ProcessSpec): Promise<ManagedProcess> {
    const id = `proc_${this.nextId++}`;
    this.store.saveHighestId(this.nextId - 1);
    const proc = new ManagedProcess(id, spec, this.store.logPath(id), this.procOptions());
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

  /** One-shot commands in flight (`run`), which are not listed. */
  get runningCommands(): number {
    return this.runs.size;
  }

  /** Forgets an exited process and deletes its state and logs. */
  remove(id: string): void {
    const proc = this.processes.get(id);
    if (!proc) return;
    if (proc.status === "running") throw new GlasspaneError("conflict", 409, `process ${id} is still running`);
    proc.closeLog();
    this.processes.delete(id);
    this.store.remove(id);
  }

  /**
   * Runs a command to completion in its own process group, capturing at most
   * `maxOutputBytes` of each stream. At the deadline the whole group is killed, so a
   * shell's children cannot keep the pipes (and the caller) waiting.
   */
  async run(spec: Omit<ProcessSpec, "owner">, limits: RunLimits): Promise<RunOutcome> {
    const began = performance.now();
    const [file, args] = dieWithParent(spec.command, spec.args ?? []);
    const child = execa(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: true,
      stdin: "ignore",
      buffer: false,
      reject: false,
      detached: true,
      windowsHide: true,
    });
    this.runs.add(child);
    try {
      const out = new CappedBuffer(limits.maxOutputBytes);
      const err = new CappedBuffer(limits.maxOutputBytes);
      child.stdout?.on("data", (d: Buffer) => out.push(d));
      child.stderr?.on("data", (d: Buffer) => err.push(d));
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      child.on("exit", (code, signal) => (exit = { code, signal }));
      const spawned: true | Error = await Promise.race([
        once(child, "spawn").then(() => true as const),
        once(child, "error").then(([e]) => e as Error),
      ]);
      if (spawned !== true) throw new GlasspaneError("internal", 502, `cannot start ${spec.command}: ${spawned.message}`);
      const finished = child.then(() => "done" as const);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), limits.timeoutMs)));
      const first = await Promise.race([finished, deadline]);
      clearTimeout(timer);
      const timedOut = first === "timeout" && !exit;
      if (first === "timeout" && child.pid) {
        deliver(child.pid, "SIGKILL", true);
        await Promise.race([finished, sleep(2000)]);
      }
      return {
        exitCode: timedOut ? null : (exit?.code ?? null),
        signal: exit?.signal ?? null,
        timedOut,
        stdout: out.bytes(),
        stderr: err.bytes(),
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
        durationMs: Math.round(performance.now() - began),
      };
    } finally {
      this.runs.delete(child);
    }
  }

  /** Stops every running child (SIGTERM, then SIGKILL after `waitMs`). */
  async shutdown(waitMs = 3000): Promise<void> {
    for (const run of this.runs) if (run.pid) deliver(run.pid, "SIGKILL", true);
    // a terminal's shell ignores SIGTERM; SIGHUP is what a closing terminal sends
    await Promise.all(this.list().map((p) => p.stop(waitMs, p.spec.tty ? "SIGHUP" : "SIGTERM")));
    for (const p of this.list()) p.closeLog();
  }
}

/** Keeps the first `max` bytes of a stream and notes whether more came. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(d: Buffer) {
    const room = this.max - this.size;
    if (d.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = d.length > room ? d.subarray(0, room) : d;
    this.chunks.push(part);
    this.size += part.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
