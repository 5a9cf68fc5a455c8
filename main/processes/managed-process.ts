import { EventEmitter, once } from "node:events";
import path from "node:path";
import { conflict, GlasspaneError } from "../shared/errors.js";
import { spawnFailure } from "./spawn-errors.js";
import { sleep } from "../shared/deadline.js";
import { adoptChild } from "./adopted-child.js";
import type { Child, ChildSink } from "./child.js";
import { startChild } from "./child-kinds.js";
import { BoundedLogFile } from "../shared/bounded-log.js";
import { childCommand, deliver, endDescendants, MARKER_VARIABLE, pidStartTicks } from "./os.js";
import { OutputBuffer } from "./output.js";
import { DEFAULT_MAX_LOG_BYTES, type LogEntry, type LogStream, type ManagedProcessInfo, type ProcessSpec, type RestartPolicy } from "./spec.js";
import type { OutputFile, ProcessRecord, ProcessStore } from "./store.js";
import type { ProcessStatus } from "./types.js";

/** How long a restarted process must run before its restart backoff starts over. */
const DEFAULT_HEALTHY_MS = 1000;

export interface ManagedProcessOptions {
  store?: ProcessStore;
  maxLogBytes?: () => number;
  restored?: ProcessRecord;
}

/** One child process owned by the manager, possibly restarted several times under the same id. */
export class ManagedProcess extends EventEmitter {
  status: ProcessStatus = "running";
  pid: number | null = null;
  exitCode: number | null = null;
  signal: string | null = null;
  restarts = 0;
  readonly createdAtMs: number;
  exitedAtMs: number | null = null;
  private readonly output: OutputBuffer;
  private startTicks: number | null = null;
  private child: Child | undefined;
  private stopping = false;
  private cols: number;
  private rows: number;
  private holds = 0;
  /** restarts in a row without a healthy run in between: what the backoff grows with */
  private failures = 0;
  private startedAt = 0;
  private readonly logFile: BoundedLogFile;
  private readonly outputFile: OutputFile | undefined;

  constructor(
    readonly id: string,
    readonly spec: ProcessSpec,
    readonly logPath: string,
    private readonly options: ManagedProcessOptions = {},
  ) {
    super();
    this.setMaxListeners(0); // one listener per log follower and terminal
    this.createdAtMs = options.restored?.createdAtMs ?? Date.now();
    this.cols = spec.cols ?? 80;
    this.rows = spec.rows ?? 24;
    this.output = new OutputBuffer(() => this.maxLogBytes());
    this.logFile = new BoundedLogFile(logPath, () => this.maxLogBytes());
    this.outputFile = options.store?.openOutput(id);
  }

  get name(): string {
    return this.spec.name ?? path.basename(this.spec.command);
  }

  /**
   * Set in the environment of a group leader's children, so what they start is found
   * even after it left the group (or the runtime crashed): see os.ts endDescendants.
   * One per start, so ending what one start left behind spares the next; the prefix up
   * to the last ":" names every start of this process.
   */
  get marker(): string | null {
    return this.spec.processGroup ? `${this.markerPrefix}${this.restarts}` : null;
  }

  get markerPrefix(): string {
    return `${this.id}:${this.createdAtMs}:`;
  }

  /** Ends the group and the marked processes a group leader left behind (of the current start, or `marker`). */
  endDescendants(graceMs = 1000, marker = this.marker, pgid = this.pid): Promise<void> {
    return this.spec.processGroup ? endDescendants(pgid, marker, graceMs) : Promise.resolve();
  }

  /** Output kept in memory (newest, within the cap); restored output is read on first use. */
  get logs(): LogEntry[] {
    return this.output.all;
  }

  /** Kept alive by a supervisor (the desktop's Xvfb and openbox): stopping it from outside would break its owner. */
  get supervised(): boolean {
    const policy = this.spec.restart;
    return policy?.mode === "while" && policy.active();
  }

  /** Whether input can be written now: a tty, or a pipe process started with stdin. */
  get writable(): boolean {
    return this.status === "running" && !!this.child?.writable;
  }

  get terminalSize(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  info(): ManagedProcessInfo {
    return {
      id: this.id,
      name: this.name,
      command: this.spec.command,
      args: this.spec.args ?? [],
      cwd: this.spec.cwd ?? null,
      owner: this.spec.owner,
      desktopId: this.spec.desktopId ?? null,
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

  /** Starts the child; resolves once it has spawned, rejects (502, or 503 when out of descriptors) when it cannot be spawned. */
  async start(): Promise<void> {
    let file: string;
    let args: string[];
    try {
      [file, args] = childCommand(this.spec.command, this.spec.args ?? [], this.spec.env?.PATH);
    } catch (err) {
      this.markExited(null, null);
      this.appendNote(`could not start: ${(err as Error).message}`);
      this.releaseFiles();
      throw err;
    }
    this.status = "running";
    this.exitCode = null;
    this.signal = null;
    this.exitedAtMs = null;
    let child: Child;
    const sink: ChildSink = {
      output: (stream, data) => this.append(stream, data),
      exit: (code, signal, note) => this.onExit(child, code, signal, note),
    };
    try {
      const spec = this.marker ? { ...this.spec, env: { ...this.spec.env, [MARKER_VARIABLE]: this.marker } } : this.spec;
      child = await startChild(spec, { file, args, cols: this.cols, rows: this.rows }, sink);
    } catch (err) {
      this.markExited(null, null);
      this.appendNote(`could not start: ${(err as Error).message}`);
      this.releaseFiles();
      throw err instanceof GlasspaneError ? err : spawnFailure(this.spec.command, err as Error);
    }
    this.child = child;
    this.pid = child.pid;
    this.startedAt = Date.now();
    this.startTicks = this.pid ? pidStartTicks(this.pid) : null;
    this.appendNote(`started pid ${this.pid}: ${[this.spec.command, ...(this.spec.args ?? [])].join(" ")}`);
    this.persist();
  }

  /** Takes over a process found alive after a server restart; see adopted-child.ts. */
  adopt(pid: number, startTicks: number): void {
    this.pid = pid;
    this.startTicks = startTicks;
    this.status = "running";
    let child: Child;
    const sink: ChildSink = { output: () => {}, exit: (code, signal, note) => this.onExit(child, code, signal, note) };
    child = adoptChild(pid, startTicks, this.spec.processGroup ?? false, sink);
    this.child = child;
    this.appendNote(`pid ${pid} still running after a server restart; adopted (its output and exit code are not observable)`);
  }

  /** Sends `signal`, then SIGKILL if the process is still alive after `waitMs`. Never waits longer than that. */
  async stop(waitMs = 5000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping = true;
    if (!this.child || this.status === "exited") return this.endDescendants(Math.min(waitMs, 1000));
    const exited = once(this, "exit");
    this.sendSignal(signal);
    const done = await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
    if (!done && this.status === "running") {
      this.sendSignal("SIGKILL");
      await Promise.race([exited, sleep(1000)]);
    }
    await this.endDescendants();
  }

  /** Delivers a signal (to the whole group for group leaders and terminals); no restart follows. */
  sendSignal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (!child || this.status === "exited") return;
    this.stopping = true;
    if (this.pid && deliver(this.pid, signal, child.group)) return;
    child.kill(signal);
  }

  /** Bytes written to a pipe child's stdin that it has not read yet (0 for a tty or no stdin). */
  inputBacklog(): number {
    return this.child?.stdin?.writableLength ?? 0;
  }

  /** Writes to stdin or the terminal; resolves with the bytes written. */
  async write(data: Buffer): Promise<number> {
    const child = this.child;
    if (this.status !== "running" || !child) throw conflict(`process ${this.id} has exited; it takes no more input`);
    if (!child.writable) throw conflict(`process ${this.id} has no open stdin`);
    try {
      return child.write(data);
    } catch (err) {
      throw conflict(`process ${this.id}: ${(err as Error).message}`);
    }
  }

  /**
   * Writes to a pipe's stdin, waiting while the pipe is full instead of refusing (framed
   * stdio: a message must not be dropped); rejects with a 504 when the child has not read
   * it within `timeoutMs`, and with a 409 when it exits first.
   */
  async writeWaiting(data: Buffer, timeoutMs: number): Promise<number> {
    const stdin = this.child?.stdin;
    if (this.status !== "running" || !stdin || stdin.destroyed || stdin.writableEnded) throw conflict(`process ${this.id} has exited; it takes no more input`);
    if (stdin.write(data)) return data.length;
    // the listeners that lose the race are removed, so a busy pipe does not pile them up
    const done = new AbortController();
    const drained = once(stdin, "drain", { signal: done.signal }).then(() => "drained" as const, () => "aborted" as const);
    const exited = once(this, "exit", { signal: done.signal }).then(() => "exited" as const, () => "aborted" as const);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeoutMs)));
    const outcome = await Promise.race([drained, exited, late]).finally(() => {
      clearTimeout(timer);
      done.abort();
    });
    if (outcome === "exited") throw conflict(`process ${this.id} exited before it read its input`);
    if (outcome === "late") throw new GlasspaneError("timeout", 504, `process ${this.id} did not read its input within ${timeoutMs} ms`);
    return data.length;
  }

  /** Flow control for slow terminal clients: while held, a tty child blocks on its writes instead of filling memory. */
  holdOutput(): void {
    if (this.holds++ === 0) this.child?.pause();
  }

  releaseOutput(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0) this.child?.resume();
  }

  resize(cols: number, rows: number): void {
    if (!this.spec.tty) throw conflict(`process ${this.id} is not a tty process`);
    this.cols = cols;
    this.rows = rows;
    if (this.status === "running") this.child?.resize(cols, rows);
  }

  /** Waits for the current child to exit, up to `ms`; resolves true when it did. */
  async waitForExit(ms: number): Promise<boolean> {
    if (this.status === "exited") return true;
    return Promise.race([once(this, "exit").then(() => true), sleep(ms).then(() => false)]);
  }

  private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null, note?: string) {
    if (child !== this.child || this.status === "exited") return;
    child.release();
    this.markExited(code, signal);
    this.appendNote(note ?? `exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    const policy = this.spec.restart ?? { mode: "never" };
    if (policy.mode === "while" && !this.stopping && policy.active()) {
      // a supervised leader that died (openbox killed) leaves helpers behind; the next one starts its own
      void this.endDescendants(1000, this.marker, this.pid);
      void this.restartLater(policy);
    } else {
      if (this.spec.processGroup && this.spec.groupEndsWithLeader && !this.stopping) void this.endDescendants(1000, this.marker, this.pid);
      this.releaseFiles();
    }
  }

  private wakeRestart: (() => void) | undefined;

  /** Cuts a pending restart backoff short (what the process needed is back, e.g. openbox's X server). */
  restartNow(): void {
    this.wakeRestart?.();
  }

  /** The backoff grows with failures in a row and starts over after a healthy run, so a rare crash is back at once. */
  private async restartLater(policy: Extract<RestartPolicy, { mode: "while" }>) {
    if (Date.now() - this.startedAt >= (policy.healthyMs ?? DEFAULT_HEALTHY_MS)) this.failures = 0;
    const backoff = this.failures === 0 ? 0 : Math.min(50 * 2 ** Math.min(this.failures - 1, 6), policy.maxBackoffMs ?? 2000);
    this.failures++;
    if (backoff) await Promise.race([sleep(backoff), new Promise<void>((wake) => (this.wakeRestart = wake))]);
    this.wakeRestart = undefined;
    if (this.stopping || !policy.active() || this.status === "running") return this.releaseFiles();
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
    this.releaseFiles();
  }

  /** Output of an earlier server run, read from the store when first asked for. */
  restoreOutput(load: () => LogEntry[]): void {
    this.output.restoreLazily(load, 0);
  }

  private append(stream: LogStream, data: Buffer) {
    const entry = this.output.next(stream, data);
    this.outputFile?.append(entry, this.maxLogBytes(), () => this.logs);
    this.writeLogLines(entry.timestampMs, stream, data.toString("utf8"));
    this.emit("log", entry);
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
    let out = "";
    for (const line of lines) out += `${stamp} ${stream} ${line}\n`;
    if (out) this.logFile.write(out);
  }

  private persist() {
    this.options.store?.save(this.record());
  }

  /** Closes the files of a process that has ended for good; a later note opens the text log again, briefly. */
  private releaseFiles() {
    this.logFile.close();
    this.outputFile?.close();
  }

  /** Forgets everything held in memory and on open descriptors (the process is being deleted). */
  closeLog() {
    this.releaseFiles();
    this.output.clear();
  }
}
