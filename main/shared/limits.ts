/**
 * The one set of input limits. The HTTP schemas, the service layer (which enforces them),
 * the computer-use action endpoint and MCP all read these; none of them writes a number of
 * its own.
 */
export const LIMITS = {
  /** one argument or environment entry of a spawned program (Linux refuses 128 KiB and more: MAX_ARG_STRLEN) */
  spawnArgumentBytes: { max: 131_071 },
  /** all arguments and environment entries of one spawn together (well under Linux's ARG_MAX) */
  spawnTotalBytes: { max: 1_048_576 },
  /** X11 coordinates are 16-bit signed */
  coordinate: { min: -32768, max: 32767 },
  /** a window's width or height */
  windowSize: { min: 1, max: 32767 },
  /** clicks in one call (double = 2, triple = 3) */
  clickCount: { min: 1, max: 10 },
  /** wheel notches in one call, each axis */
  scrollNotches: { max: 100 },
  /** characters typed in one call */
  typeTextLength: { max: 100_000 },
  /** delay between typed characters */
  typeDelayMs: { max: 1000 },
  /** a key name or chord */
  keyNameLength: { max: 200 },
  /** repeats of one key press */
  keyRepeat: { max: 100 },
  /** a held key or a wait, in one action */
  holdMs: { max: 30_000 },
  /** clipboard text */
  clipboardTextLength: { max: 10_000_000 },
  /** points of a drag path */
  dragPathPoints: { max: 1000 },
  /** actions in one batch */
  batchActions: { max: 100 },
  /** a file read or written whole in one MCP tool call (it lands in a model's context) */
  toolFileBytes: { max: 10 * 1024 * 1024 },
  /** desktop screen size */
  screenSize: { min: 64, max: 8192 },
  dpi: { min: 10, max: 1000 },
  fps: { min: 1, max: 60 },
  /** a URL handed to a program (the browser's start page) */
  urlLength: { max: 8192 },
  /** extra command-line flags of the managed browser, and the length of one */
  browserFlags: { max: 64 },
  browserFlagLength: { max: 4096 },
  /** a browser profile's name (a folder under the state directory) */
  browserProfileName: { max: 64 },
  /** CDP clients connected to the browser through Glasspane at once */
  cdpClients: { max: 64 },
  /** a recording's maxDurationSeconds: ffmpeg takes no shorter duration than this */
  recordingSeconds: { min: 0.1, max: 7 * 24 * 3600 },
  /** model turns of one computer-use prompt (its maxSteps) */
  agentSteps: { max: 1000 },
  /** screenshots a computer-use agent keeps in the model's context */
  agentImages: { min: 1, max: 50 },
  /** one computer-use trace on disk (JSONL + screenshots); past it, steps are logged without images */
  traceBytes: { max: 256 * 1024 * 1024 },
  /** every trace together; the oldest go first */
  tracesTotalBytes: { max: 2 * 1024 * 1024 * 1024 },
  /** a desktop's id (a slug, and a folder under the state directory) */
  desktopId: { max: 64 },
  /** desktops one runtime runs at once (`--max-desktops`; default 8) */
  desktops: { min: 1, max: 1000, default: 8 },
  /** a volume's name (a folder under the state directory) */
  volumeName: { max: 64 },
  /** volumes at once */
  volumes: { max: 1000 },
  /** matches one /v1/fs/find answers, and how long it may search */
  findResults: { max: 10_000, default: 1000 },
  findTimeoutMs: { max: 60_000, default: 10_000 },
  /** a file larger than this is not searched for content */
  findContentFileBytes: { max: 4 * 1024 * 1024 },
  /** files in one multipart upload, each file's size, and its other fields */
  uploadFiles: { max: 64 },
  uploadFileBytes: { max: 1024 * 1024 * 1024 },
  uploadFieldBytes: { max: 64 * 1024 },
  /** bytes one /v1/fs/append adds */
  appendBytes: { max: 64 * 1024 * 1024 },
  /** arguments of one git command and the length of one */
  gitArgs: { max: 256 },
  gitArgLength: { max: 8192 },
  /** a git command's deadline and the output it keeps, each stream */
  gitTimeoutMs: { max: 600_000, default: 60_000 },
  gitOutputBytes: { max: 16 * 1024 * 1024, default: 1024 * 1024 },
  /** a one-shot agent run's prompt and system prompt */
  runPromptLength: { max: 1_000_000 },
} as const;
