import { Type } from "typebox";
import { VolumeParam } from "./fs.js";
import { Opt } from "./desktop.js";

/**
 * One schema per process route, field for field as the sandbox-agent SDK's types
 * (`components["schemas"]["Process*"]`). Optional request fields accept null, as the SDK allows.
 */
const Int32 = (opts: Record<string, unknown> = {}) => Type.Integer({ minimum: -2147483648, maximum: 2147483647, ...opts });
const Int64 = (opts: Record<string, unknown> = {}) => Type.Integer(opts);
const Positive = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
/** a timer cannot wait longer than 2^31-1 ms (24.8 days) */
const Timeout = (description: string) => Type.Integer({ minimum: 1, maximum: 2_147_483_647, description });

export const ProcessOwner = Type.Enum(["user", "desktop", "system", "agent"]);
export const ProcessState = Type.Enum(["running", "exited"]);
export const ProcessLogsStream = Type.Enum(["stdout", "stderr", "combined", "pty"]);

export const ProcessConfig = Type.Object(
  {
    maxConcurrentProcesses: Positive("running user processes and one-shot runs at once (64)"),
    defaultRunTimeoutMs: Timeout("timeout of /run when the request gives none (30000); clamped to maxRunTimeoutMs"),
    maxRunTimeoutMs: Timeout("longest timeout /run accepts (300000)"),
    maxOutputBytes: Positive("cap of each of stdout and stderr in /run (1048576)"),
    maxLogBytesPerProcess: Positive("output kept per process, newest first (10485760)"),
    maxInputBytesPerRequest: Positive("largest decoded input per request (65536)"),
    maxFinishedProcesses: Type.Optional(Positive("finished user processes kept for their logs and exit code; the oldest beyond it are deleted (256). Left out: unchanged")),
  },
  { additionalProperties: false },
);

const commandFields = {
  command: Type.String({ minLength: 1, description: "program name on PATH, or a path" }),
  args: Type.Optional(Type.Array(Type.String())),
  cwd: Opt(Type.String({ minLength: 1, description: "working directory (~ expands to the server user's home)" })),
  env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "added to the server's environment" })),
};

export const ProcessCreateRequest = Type.Object(
  {
    ...commandFields,
    tty: Type.Optional(Type.Boolean({ description: "run under a pseudo-terminal; output goes to the pty log stream" })),
    interactive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ProcessRunRequest = Type.Object(
  {
    ...commandFields,
    timeoutMs: Opt(Int64({ minimum: 0, description: "0 or absent: defaultRunTimeoutMs; capped at maxRunTimeoutMs" })),
    maxOutputBytes: Opt(Int64({ minimum: 0, description: "per stream; capped at the configured maxOutputBytes" })),
  },
  { additionalProperties: false },
);

export const ProcessRunResponse = Type.Object({
  durationMs: Int64(),
  exitCode: Opt(Int32({ description: "null when killed by a signal or timed out" })),
  stderr: Type.String(),
  stderrTruncated: Type.Boolean(),
  stdout: Type.String(),
  stdoutTruncated: Type.Boolean(),
  timedOut: Type.Boolean(),
});

export const ProcessInfo = Type.Object({
  id: Type.String(),
  command: Type.String(),
  args: Type.Array(Type.String()),
  cwd: Opt(Type.String()),
  tty: Type.Boolean(),
  interactive: Type.Boolean(),
  owner: ProcessOwner,
  desktopId: Opt(Type.String({ description: "the desktop that started it (`default` for /v1/desktop); null for processes no desktop owns" })),
  status: ProcessState,
  pid: Opt(Int32()),
  exitCode: Opt(Int32({ description: "null while running, after a signal, or when the exit was not observed" })),
  createdAtMs: Int64(),
  exitedAtMs: Opt(Int64()),
});

export const ProcessListQuery = Type.Object(
  { owner: Type.Optional(ProcessOwner), desktopId: Type.Optional(Type.String({ description: "only the processes of this desktop", maxLength: 64 })) },
  { additionalProperties: false },
);
export const ProcessListResponse = Type.Object({ processes: Type.Array(ProcessInfo) });
export const ProcessIdParams = Type.Object({ id: Type.String() });

export const ProcessSignalQuery = Type.Object(
  { waitMs: Type.Optional(Int64({ minimum: 0, maximum: 60_000, description: "wait up to this long for the exit" })) },
  { additionalProperties: false },
);

export const ProcessInputRequest = Type.Object(
  {
    data: Type.String(),
    encoding: Opt(Type.String({ description: "base64 (default), utf8 or text" })),
  },
  { additionalProperties: false },
);
export const ProcessInputResponse = Type.Object({ bytesWritten: Type.Integer({ minimum: 0 }) });

export const ProcessLogsQuery = Type.Object(
  {
    stream: Type.Optional(ProcessLogsStream),
    tail: Type.Optional(Type.Integer({ minimum: 0, description: "only the last N entries" })),
    since: Type.Optional(Int64({ minimum: 0, description: "only entries with a greater sequence" })),
    follow: Type.Optional(Type.Boolean({ description: "text/event-stream: the entries so far, then new ones until the process exits" })),
  },
  { additionalProperties: false },
);
export const ProcessLogEntry = Type.Object({
  data: Type.String({ description: "base64" }),
  encoding: Type.String(),
  sequence: Int64(),
  stream: ProcessLogsStream,
  timestampMs: Int64(),
});
export const ProcessLogsResponse = Type.Object({
  entries: Type.Array(ProcessLogEntry),
  processId: Type.String(),
  stream: ProcessLogsStream,
});

const TerminalSize = {
  cols: Type.Integer({ minimum: 1, maximum: 1000 }),
  rows: Type.Integer({ minimum: 1, maximum: 1000 }),
};
export const ProcessTerminalResizeRequest = Type.Object(TerminalSize, { additionalProperties: false });
export const ProcessTerminalResizeResponse = Type.Object(TerminalSize);

/** Query of the terminal WebSocket upgrade (the token is checked by the auth hook). */
export const ProcessTerminalQuery = Type.Object({ access_token: Type.Optional(Type.String()) }, { additionalProperties: false });

/** Frames a terminal client sends (text JSON), as the SDK's `ProcessTerminalClientFrame`. */
export const TerminalClientFrame = Type.Union([
  Type.Object({ type: Type.Literal("input"), data: Type.String(), encoding: Type.Optional(Type.Enum(["utf8", "base64", "text"])) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("resize"), ...TerminalSize }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("close") }, { additionalProperties: false }),
]);

/** The HTTP routes also take `volume` (Glasspane addition): the process starts in that volume's folder, `cwd` relative to it. */
export const ProcessCreateInVolume = Type.Object({ ...ProcessCreateRequest.properties, volume: VolumeParam }, { additionalProperties: false });
export const ProcessRunInVolume = Type.Object({ ...ProcessRunRequest.properties, volume: VolumeParam }, { additionalProperties: false });
