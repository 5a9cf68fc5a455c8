import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { ResultPromise } from "execa";
import { GlasspaneError } from "../shared/errors.js";
import { ManagedProcess } from "./managed-process.js";
import { deliver, endDescendants, pidStartTicks } from "./os.js";
import { DEFAULT_MAX_FINISHED_PROCESSES, processesToForget } from "./retention.js";
import { runToCompletion } from "./run.js";
import type { ProcessManagerOptions, ProcessSpec, RunLimits, RunOutcome } from "./spec.js";
import { ProcessStore } from "./store.js";
import type { ProcessOwner } from "./types.js";

export { ManagedProcess } from "./managed-process.js";
export { pidStartTicks } from "./os.js";
export type { LogEntry, LogStream, ProcessSpec, RestartPolicy, RunLimits, RunOutcome } from "./spec.js";
export type { ProcessOwner, ProcessStatus } from "./types.js";

/** Owns every child process of the runtime: spawn, restart, logs, state on disk, shutdown. */
export class ProcessManager extends EventEmitter {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly runs = new Set<ResultPromise>();
  private nextId = 1;
  readonly logDir: string;
  private readonly store: ProcessStore;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    stateDir: string,
    private readonly options: ProcessManagerOptions = {},
  ) {
    super();
    this.logDir = path.join(stateDir, "processes");
    mkdirSync(this.logDir, { recursive: true });
    this.store = new ProcessStore(this.logDir);
    this.restore();
    this.sweeper = setInterval(() => this.forgetFinished(), 10_000);
    this.sweeper.unref();
  }

  /**
   * Brings back the processes of earlier runs from the state directory. One that was
   * running is adopted when the same process (pid and start time) still lives, and is
   * otherwise reported exited with an unknown exit code. Their output is read on first use.
   */
  private restore() {
    for (const record of this.store.load()) {
      const spec: ProcessSpec = {
        name: record.name,
        command: record.command,
        args: record.args,
        cwd: record.cwd ?? undefined,
        owner: record.owner,
        desktopId: record.desktopId ?? undefined,
        tty: record.tty,
        interactive: record.interactive,
        processGroup: record.processGroup,
      };
      const proc = new ManagedProcess(record.id, spec, this.store.logPath(record.id), { ...this.procOptions(), restored: record });
      proc.restoreOutput(() => this.store.readOutput(record.id));
      Object.assign(proc, { pid: record.pid, exitCode: record.exitCode, signal: record.signal, restarts: record.restarts, exitedAtMs: record.exitedAtMs });
      proc.status = "exited";
      if (record.status === "running") {
        const alive = record.pid && record.pidStartTicks !== null && pidStartTicks(record.pid) === record.pidStartTicks;
        if (alive) proc.adopt(record.pid!, record.pidStartTicks!);
        else {
          proc.markLost();
          // a crashed server's group leader died with it (parent-death signal); what it started may
          // not have. Found by marker only: the old group id may belong to someone else by now.
          if (proc.marker) void endDescendants(null, proc.markerPrefix, 1000);
        }
      }
      this.track(proc);
    }
    this.nextId = this.store.highestId() + 1;
    this.forgetFinished();
  }

  private procOptions() {
    return { store: this.store, maxLogBytes: this.options.maxLogBytes };
  }

  private track(proc: ManagedProcess) {
    this.processes.set(proc.id, proc);
    proc.on("exit", () => this.forgetFinished());
  }

  async spawn(spec: ProcessSpec): Promise<ManagedProcess> {
    const id = `proc_${this.nextId++}`;
    this.store.saveHighestId(this.nextId - 1);
    const proc = new ManagedProcess(id, spec, this.store.logPath(id), this.procOptions());
    this.track(proc);
    await proc.start();
    this.emit("spawn", proc);
    return proc;
  }

  /**
   * The same manager, seen by one desktop: every process spawned through it carries the
   * desktop's id. Everything else (list, get, run, events) is the shared manager's.
   */
  forDesktop(desktopId: string): ProcessManager {
    const spawn = (spec: ProcessSpec) => this.spawn({ ...spec, desktopId });
    return new Proxy(this, { get: (target, key) => (key === "spawn" ? spawn : Reflect.get(target, key, target)) });
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
    this.forget(proc);
  }

  private forget(proc: ManagedProcess) {
    this.processes.delete(proc.id);
    this.store.remove(proc.id);
  }

  /** Applies the retention rules of retention.ts. */
  private forgetFinished() {
    const max = this.options.maxFinishedProcesses?.() ?? DEFAULT_MAX_FINISHED_PROCESSES;
    for (const proc of processesToForget(this.processes.values(), max)) this.forget(proc);
  }

  /** See run.ts. */
  run(spec: Omit<ProcessSpec, "owner">, limits: RunLimits): Promise<RunOutcome> {
    return runToCompletion(spec, limits, this.runs);
  }

  /** Stops every running child (SIGTERM, then SIGKILL after `waitMs`). */
  async shutdown(waitMs = 3000): Promise<void> {
    clearInterval(this.sweeper);
    for (const run of this.runs) if (run.pid) deliver(run.pid, "SIGKILL", true);
    // a terminal's shell ignores SIGTERM; SIGHUP is what a closing terminal sends
    await Promise.all(this.list().map((p) => p.stop(waitMs, p.spec.tty ? "SIGHUP" : "SIGTERM")));
    for (const p of this.list()) p.closeLog();
  }
}
