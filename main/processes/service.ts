import { accessSync, constants as fsConstants, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import which from "which";
import { conflict, GlasspaneError, invalid, notFound } from "../shared/errors.js";
import type { ManagedProcess } from "./managed-process.js";
import type { ProcessManager } from "./manager.js";
import type { LogEntry } from "./spec.js";
import { checkSpawnInput } from "./spawn-input.js";
import type {
  LogSubscription,
  ProcessConfig,
  ProcessCreateRequest,
  ProcessInfo,
  ProcessLogEntry,
  ProcessLogsQuery,
  ProcessLogsResponse,
  ProcessOwner,
  ProcessRunRequest,
  ProcessRunResponse,
  Processes,
  TerminalAttachment,
  TerminalListener,
} from "./types.js";

/** Longest a stop or kill waits for the exit, whatever `waitMs` asks. */
const MAX_SIGNAL_WAIT_MS = 60_000;
const ENCODINGS = ["base64", "utf8", "text"];

/**
 * The process API over the ProcessManager: limits from the runtime config, one-shot
 * runs, managed user processes, input, logs and terminals. Desktop-owned processes are
 * listed like any other, but the ones the desktop supervises cannot be stopped from here.
 */
export class ProcessService implements Processes {
  constructor(
    private readonly manager: ProcessManager,
    /** shared with the manager, which reads the log cap from it */
    private readonly limits: ProcessConfig,
  ) {}

  config(): ProcessConfig {
    return { ...this.limits };
  }

  setConfig(request: Omit<ProcessConfig, "maxFinishedProcesses"> & { maxFinishedProcesses?: number }): ProcessConfig {
    const next: ProcessConfig = { ...request, maxFinishedProcesses: request.maxFinishedProcesses ?? this.limits.maxFinishedProcesses };
    for (const [key, value] of Object.entries(next)) {
      if (!Number.isInteger(value) || value < 1) throw invalid(`${key} must be a positive integer (got ${value})`);
    }
    Object.assign(this.limits, next, { defaultRunTimeoutMs: Math.min(next.defaultRunTimeoutMs, next.maxRunTimeoutMs) });
    return this.config();
  }

  async run(request: ProcessRunRequest): Promise<ProcessRunResponse> {
    const spec = this.prepare(request);
    this.checkCapacity();
    const timeoutMs = Math.min(request.timeoutMs || this.limits.defaultRunTimeoutMs, this.limits.maxRunTimeoutMs);
    const maxOutputBytes = Math.min(request.maxOutputBytes ?? this.limits.maxOutputBytes, this.limits.maxOutputBytes);
    const r = await this.manager.run(spec, { timeoutMs, maxOutputBytes });
    return {
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      stdout: r.stdout.toString("utf8"),
      stderr: r.stderr.toString("utf8"),
      stdoutTruncated: r.stdoutTruncated,
      stderrTruncated: r.stderrTruncated,
      durationMs: r.durationMs,
    };
  }

  async create(request: ProcessCreateRequest): Promise<ProcessInfo> {
    const spec = this.prepare(request);
    this.checkCapacity();
    const proc = await this.manager.spawn({
      ...spec,
      owner: "user",
      tty: request.tty ?? false,
      interactive: request.interactive ?? false,
      stdin: true,
      processGroup: true,
    });
    return view(proc);
  }

  list(owner?: ProcessOwner, desktopId?: string): ProcessInfo[] {
    return this.manager
      .list(owner)
      .filter((p) => desktopId === undefined || p.spec.desktopId === desktopId)
      .sort((a, b) => idNumber(a.id) - idNumber(b.id))
      .map(view);
  }

  get(id: string): ProcessInfo {
    return view(this.find(id));
  }

  stop(id: string, waitMs?: number): Promise<ProcessInfo> {
    return this.signal(id, "SIGTERM", waitMs);
  }

  kill(id: string, waitMs?: number): Promise<ProcessInfo> {
    return this.signal(id, "SIGKILL", waitMs);
  }

  remove(id: string): void {
    const proc = this.find(id);
    this.refuseSupervised(proc, "deleted");
    if (proc.status === "running") throw conflict(`process ${id} is still running; stop or kill it first`);
    this.manager.remove(id);
  }

  async input(id: string, data: string, encoding = "base64"): Promise<{ bytesWritten: number }> {
    if (!ENCODINGS.includes(encoding)) throw invalid(`encoding must be one of: ${ENCODINGS.join(", ")} (got "${encoding}")`);
    const bytes = encoding === "base64" ? decodeBase64(data) : Buffer.from(data, "utf8");
    if (bytes.length > this.limits.maxInputBytesPerRequest) {
      throw new GlasspaneError("payload_too_large", 413, `input of ${bytes.length} bytes is over maxInputBytesPerRequest (${this.limits.maxInputBytesPerRequest})`);
    }
    const proc = this.find(id);
    if (!proc.writable) {
      throw conflict(proc.status === "exited" ? `process ${id} has exited; it takes no more input` : `process ${id} has no stdin`);
    }
    return { bytesWritten: await proc.write(bytes) };
  }

  logs(id: string, query: ProcessLogsQuery): ProcessLogsResponse {
    const proc = this.find(id);
    const stream = query.stream ?? "combined";
    return { processId: id, stream, entries: select(proc.logs, query).map(toApiEntry) };
  }

  followLogs(id: string, query: ProcessLogsQuery, onEntry: (e: ProcessLogEntry) => void, end: () => void): LogSubscription {
    const proc = this.find(id);
    let last = query.since ?? 0;
    for (const e of select(proc.logs, query)) {
      onEntry(toApiEntry(e));
      last = e.sequence;
    }
    if (proc.status === "exited") {
      end();
      return { close() {} };
    }
    const stream = query.stream ?? "combined";
    const onLog = (e: LogEntry) => {
      if (e.sequence <= last || (stream !== "combined" && e.stream !== stream)) return;
      last = e.sequence;
      onEntry(toApiEntry(e));
    };
    const onExit = () => {
      close();
      end();
    };
    const close = () => {
      proc.off("log", onLog);
      proc.off("exit", onExit);
    };
    proc.on("log", onLog);
    proc.on("exit", onExit);
    return { close };
  }

  resizeTerminal(id: string, cols: number, rows: number): { cols: number; rows: number } {
    const proc = this.find(id);
    if (!proc.spec.tty) throw conflict(`process ${id} is not a tty process`);
    if (proc.status === "exited") throw conflict(`process ${id} has exited`);
    proc.resize(cols, rows);
    return proc.terminalSize;
  }

  checkTerminal(id: string): void {
    const proc = this.find(id);
    if (!proc.spec.tty) throw conflict(`process ${id} is not a tty process; create it with tty: true`);
  }

  attachTerminal(id: string, listener: TerminalListener): TerminalAttachment {
    this.checkTerminal(id);
    const proc = this.find(id);
    if (proc.status === "exited") {
      queueMicrotask(() => listener.exit(proc.exitCode));
      return { write() {}, resize() {}, pause() {}, resume() {}, detach() {} };
    }
    let paused = false;
    const resume = () => {
      if (paused) proc.releaseOutput();
      paused = false;
    };
    const onLog = (e: LogEntry) => {
      if (e.stream === "pty") listener.data(e.data);
    };
    const onExit = () => {
      detach();
      listener.exit(proc.exitCode);
    };
    const detach = () => {
      resume();
      proc.off("log", onLog);
      proc.off("exit", onExit);
    };
    proc.on("log", onLog);
    proc.on("exit", onExit);
    return {
      pause: () => {
        if (!paused) proc.holdOutput();
        paused = true;
      },
      resume,
      write: (data) => void proc.write(data).catch(() => undefined),
      resize: (cols, rows) => {
        if (proc.status === "running") proc.resize(cols, rows);
      },
      detach,
    };
  }

  // ---- helpers ----

  private find(id: string): ManagedProcess {
    const proc = this.manager.get(id);
    if (!proc) throw notFound(`process ${id} does not exist`);
    return proc;
  }

  private async signal(id: string, signal: NodeJS.Signals, waitMs?: number): Promise<ProcessInfo> {
    const proc = this.find(id);
    if (proc.status === "exited") return view(proc);
    this.refuseSupervised(proc, signal === "SIGKILL" ? "killed" : "stopped");
    proc.sendSignal(signal);
    if (waitMs) await proc.waitForExit(Math.min(waitMs, MAX_SIGNAL_WAIT_MS));
    return view(proc);
  }

  /** The desktop's Xvfb and openbox are restarted while the desktop runs; stopping them here would only break it. */
  private refuseSupervised(proc: ManagedProcess, what: string) {
    if (proc.supervised) {
      throw conflict(`process ${proc.id} (${proc.name}) is supervised by the ${proc.spec.owner} and cannot be ${what} here; stop the desktop with POST /v1/desktop/stop`);
    }
  }

  /** Counts managed user processes and one-shot runs; the desktop's own processes never count. */
  private checkCapacity() {
    const running = this.manager.list("user").filter((p) => p.status === "running").length + this.manager.runningCommands;
    if (running >= this.limits.maxConcurrentProcesses) {
      throw conflict(`${running} processes are running, the limit is maxConcurrentProcesses = ${this.limits.maxConcurrentProcesses}`);
    }
  }

  /** Checks what a spawn would only report as a dead child: the command and the working directory. */
  private prepare(request: ProcessCreateRequest | ProcessRunRequest) {
    const command = request.command;
    if (!command.trim()) throw invalid("command must not be empty");
    checkSpawnInput(command, request.args ?? [], request.env ?? {});
    if (request.cwd?.includes("\0")) throw invalid("cwd must not contain a NUL character");
    const cwd = request.cwd ? expandHome(request.cwd) : undefined;
    if (cwd) {
      let isDir = false;
      try {
        isDir = statSync(cwd).isDirectory();
      } catch {
        throw invalid(`cwd ${cwd} does not exist`);
      }
      if (!isDir) throw invalid(`cwd ${cwd} is not a directory`);
    }
    const env = request.env ?? undefined;
    if (command.includes("/")) {
      const file = path.resolve(cwd ?? process.cwd(), expandHome(command));
      try {
        accessSync(file, fsConstants.X_OK);
        if (!statSync(file).isFile()) throw new Error("not a file");
      } catch {
        throw invalid(`command ${command} is not an executable file`);
      }
    } else if (!which.sync(command, { nothrow: true, path: env?.PATH ?? process.env.PATH })) {
      throw invalid(`command ${command} was not found on PATH`);
    }
    return { name: path.basename(command), command, args: request.args ?? [], cwd, env };
  }
}

function view(p: ManagedProcess): ProcessInfo {
  return {
    id: p.id,
    command: p.spec.command,
    args: p.spec.args ?? [],
    cwd: p.spec.cwd ?? null,
    tty: p.spec.tty ?? false,
    interactive: p.spec.interactive ?? false,
    owner: p.spec.owner,
    desktopId: p.spec.desktopId ?? null,
    status: p.status,
    pid: p.pid,
    exitCode: p.exitCode,
    createdAtMs: p.createdAtMs,
    exitedAtMs: p.exitedAtMs,
  };
}

function select(entries: LogEntry[], query: ProcessLogsQuery): LogEntry[] {
  const stream = query.stream ?? "combined";
  const since = query.since ?? 0;
  const picked = entries.filter((e) => e.sequence > since && (stream === "combined" || e.stream === stream));
  return query.tail !== undefined ? picked.slice(Math.max(0, picked.length - query.tail)) : picked;
}

function toApiEntry(e: LogEntry): ProcessLogEntry {
  return { sequence: e.sequence, stream: e.stream, timestampMs: e.timestampMs, data: e.data.toString("base64"), encoding: "base64" };
}

const idNumber = (id: string) => Number(id.slice(id.indexOf("_") + 1));

function decodeBase64(data: string): Buffer {
  const clean = data.replace(/\s+/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) {
    throw invalid("data is not valid base64 (send encoding \"utf8\" for plain text)");
  }
  return Buffer.from(clean, "base64");
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}
