import type { OutputStream, ProcessOwner, ProcessStatus } from "./types.js";

export type LogStream = OutputStream;

/**
 * When a process that exited on its own is started again. `while` restarts as long as
 * the predicate holds (e.g. "while the desktop is active"), with a growing backoff that
 * starts over once the process has run for `healthyMs`.
 */
export type RestartPolicy = { mode: "never" } | { mode: "while"; active: () => boolean; maxBackoffMs?: number; healthyMs?: number };

/** How the runtime talks to a child; each kind lives in its own file (see child.ts). */
export type ChildKindName = "pipe" | "pty";

export interface ProcessSpec {
  /** short label for logs and status, e.g. "Xvfb" */
  name?: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  owner: ProcessOwner;
  /** the desktop that started it (its Xvfb, encoders, apps); unset for everything else */
  desktopId?: string;
  restart?: RestartPolicy;
  /** run under a pseudo-terminal (node-pty); output goes to the `pty` stream */
  tty?: boolean;
  /** how to connect to the child; default `pty` when `tty`, else `pipe` */
  kind?: ChildKindName;
  /** recorded as asked; stdin is open whenever `stdin` is set */
  interactive?: boolean;
  /** keep stdin open for input (a pipe; a tty always has one) */
  stdin?: boolean;
  /** own process group: stop and kill reach everything the command started */
  processGroup?: boolean;
  /** when the group leader exits by itself (a crash, SIGKILL), end the rest of its group too (a browser's helpers) */
  groupEndsWithLeader?: boolean;
  /**
   * Framed stdio (ACP agents): every stdout line goes to this callback instead of the log;
   * stderr is still logged. Not restored after a server restart.
   */
  stdoutLines?: (line: Buffer) => void;
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

/** What the manager knows of one process (the API's ProcessInfo plus the runtime's own fields). */
export interface ManagedProcessInfo {
  id: string;
  name: string;
  command: string;
  args: string[];
  cwd: string | null;
  owner: ProcessOwner;
  desktopId: string | null;
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
  /** finished user processes kept for their logs and exit code; the oldest go first (256) */
  maxFinishedProcesses?: () => number;
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

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
