/** Shapes of the process contract (field for field as spec/API.md and the sandbox-agent SDK). */

export type ProcessOwner = "user" | "desktop" | "system" | "agent";
export type ProcessStatus = "running" | "exited";
/** Where a chunk of output came from: a pipe, or the terminal of a `tty` process. */
export type OutputStream = "stdout" | "stderr" | "pty";
/** Which entries a log query selects; `combined` is every stream in order. */
export type LogSelection = OutputStream | "combined";

export interface ProcessConfig {
  maxConcurrentProcesses: number;
  defaultRunTimeoutMs: number;
  maxRunTimeoutMs: number;
  maxOutputBytes: number;
  maxLogBytesPerProcess: number;
  maxInputBytesPerRequest: number;
  /** finished user processes kept for their logs and exit code; beyond it the oldest are deleted */
  maxFinishedProcesses: number;
}

export const DEFAULT_PROCESS_CONFIG: ProcessConfig = {
  maxConcurrentProcesses: 64,
  defaultRunTimeoutMs: 30_000,
  maxRunTimeoutMs: 300_000,
  maxOutputBytes: 1_048_576,
  maxLogBytesPerProcess: 10_485_760,
  maxInputBytesPerRequest: 65_536,
  maxFinishedProcesses: 256,
};

export interface ProcessInfo {
  id: string;
  command: string;
  args: string[];
  cwd: string | null;
  tty: boolean;
  interactive: boolean;
  owner: ProcessOwner;
  /** the desktop that started it; null for processes no desktop owns */
  desktopId: string | null;
  status: ProcessStatus;
  pid: number | null;
  /** null while running, and after a signal or an exit the server could not observe */
  exitCode: number | null;
  createdAtMs: number;
  exitedAtMs: number | null;
}

export interface ProcessCreateRequest {
  command: string;
  args?: string[] | null;
  cwd?: string | null;
  env?: Record<string, string> | null;
  tty?: boolean | null;
  interactive?: boolean | null;
}

export interface ProcessRunRequest {
  command: string;
  args?: string[] | null;
  cwd?: string | null;
  env?: Record<string, string> | null;
  timeoutMs?: number | null;
  maxOutputBytes?: number | null;
}

export interface ProcessRunResponse {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

export interface ProcessLogEntry {
  /** 1-based, per process, shared by all streams */
  sequence: number;
  stream: OutputStream;
  timestampMs: number;
  data: string;
  encoding: "base64";
}

export interface ProcessLogsQuery {
  stream?: LogSelection;
  tail?: number;
  /** only entries with a sequence greater than this */
  since?: number;
}

export interface ProcessLogsResponse {
  processId: string;
  stream: LogSelection;
  entries: ProcessLogEntry[];
}

export type InputEncoding = "base64" | "utf8" | "text";

/** A live attachment to a tty process (the terminal WebSocket). */
export interface TerminalAttachment {
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** stop reading the terminal while this client catches up (the program blocks on output) */
  pause(): void;
  resume(): void;
  detach(): void;
}

export interface TerminalListener {
  /** terminal output bytes, as they arrive */
  data(bytes: Buffer): void;
  exit(exitCode: number | null): void;
}

export interface LogSubscription {
  close(): void;
}

/** Everything the HTTP layer may ask of the process service. */
export interface Processes {
  config(): ProcessConfig;
  /** `maxFinishedProcesses` may be left out (clients written for the reference API do not know it) */
  setConfig(config: Omit<ProcessConfig, "maxFinishedProcesses"> & { maxFinishedProcesses?: number }): ProcessConfig;
  run(request: ProcessRunRequest): Promise<ProcessRunResponse>;
  create(request: ProcessCreateRequest): Promise<ProcessInfo>;
  list(owner?: ProcessOwner, desktopId?: string): ProcessInfo[];
  get(id: string): ProcessInfo;
  stop(id: string, waitMs?: number): Promise<ProcessInfo>;
  kill(id: string, waitMs?: number): Promise<ProcessInfo>;
  remove(id: string): void;
  /** Validates `data` against `encoding` before anything else (400 even for unknown ids). */
  input(id: string, data: string, encoding?: string): Promise<{ bytesWritten: number }>;
  logs(id: string, query: ProcessLogsQuery): ProcessLogsResponse;
  /**
   * Replays the selected entries, then delivers new ones as they arrive; `end` is called
   * once the process has exited and everything it wrote was delivered.
   */
  followLogs(id: string, query: ProcessLogsQuery, entry: (e: ProcessLogEntry) => void, end: () => void): LogSubscription;
  resizeTerminal(id: string, cols: number, rows: number): { cols: number; rows: number };
  /** Throws 404 / 409 unless `id` is a tty process a terminal can attach to. */
  checkTerminal(id: string): void;
  /** Attaches to a tty process; an exited one reports its exit at once. */
  attachTerminal(id: string, listener: TerminalListener): TerminalAttachment;
}
