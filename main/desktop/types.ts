/** Shapes of the desktop contract (field for field as spec/API.md and the sandbox-agent SDK). */

export type DesktopState = "inactive" | "install_required" | "starting" | "active" | "stopping" | "failed";
export type MouseButton = "left" | "middle" | "right";
/** Buttons a click may use: the three of the API plus back/forward (X buttons 8/9). */
export type PointerButton = MouseButton | "back" | "forward";
export type Selection = "clipboard" | "primary";
export type ImageFormat = "png" | "jpeg" | "webp";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MousePosition {
  x: number;
  y: number;
  screen?: number | null;
  /** decimal X11 id of the window under the pointer */
  window?: string | null;
}

export interface WindowInfo {
  /** decimal X11 id of the client window */
  id: string;
  title: string;
  /** client-area origin in root coordinates */
  x: number;
  y: number;
  width: number;
  height: number;
  isActive: boolean;
}

export interface KeyModifiers {
  ctrl?: boolean | null;
  shift?: boolean | null;
  alt?: boolean | null;
  cmd?: boolean | null;
}

export interface ScreenshotOptions {
  format: ImageFormat;
  /** 1-100, for jpeg/webp */
  quality: number;
  /** 0.1-1.0 */
  scale: number;
  showCursor: boolean;
  /** exact output size (instead of `scale`); may scale up (a zoomed region) and change the aspect */
  size?: { width: number; height: number };
}

/** Raw frame: tightly packed 3-channel RGB. The buffer may be reused by the next capture. */
export interface RgbFrame {
  data: Buffer;
  width: number;
  height: number;
}

export interface DesktopStartOptions {
  width?: number | null;
  height?: number | null;
  dpi?: number | null;
  displayNum?: number | null;
  stateDir?: string | null;
  recordingFps?: number | null;
  streamVideoCodec?: string | null;
  streamAudioCodec?: string | null;
  streamFrameRate?: number | null;
  webrtcPortRange?: string | null;
}

export interface DesktopProcessStatus {
  name: string;
  pid: number | null;
  running: boolean;
  logPath: string | null;
}

export interface DesktopStatus {
  state: DesktopState;
  display: string | null;
  resolution: { width: number; height: number; dpi: number } | null;
  startedAt: string | null;
  lastError: { code: string; message: string } | null;
  missingDependencies: string[];
  installCommand: string | null;
  processes: DesktopProcessStatus[];
  runtimeLogPath: string | null;
  windows?: WindowInfo[];
  /** Glasspane addition: which screen-capture path is in use */
  capturePath?: string | null;
  /** why faster capture paths were passed over (Glasspane) */
  captureFallbackReason?: string | null;
  /** Glasspane addition: a person's lease on the input, null while nobody holds one */
  control?: ControlInfo | null;
}

export interface ControlInfo {
  /** who holds it, as the holder named itself */
  holder: string;
  /** when it was taken */
  since: string;
  /** when it lapses unless the holder gives input first */
  expiresAt: string;
}

export interface ControlLease {
  readonly id: string;
  readonly info: ControlInfo;
  /** runs `fn` as the holder: desktop input inside it passes the lease check */
  run<T>(fn: () => T): T;
  /** input from the holder: pushes the idle expiry back */
  touch(): void;
  release(): void;
  /** settles with why the lease ended ("released", "idle", "taken over") */
  readonly ended: Promise<string>;
}

/** The human control lease of one desktop. */
export interface Control {
  /** takes the lease; one held by someone else answers 409 control_held unless `force` */
  take(holder: string, opts?: { force?: boolean }): ControlLease;
  status(): ControlInfo | null;
  /** throws 409 control_held while a lease is held, unless the caller runs as its holder */
  check(): void;
  /** the lease with this id while it is the one held (another socket of the holder joins it) */
  lease(id: string): ControlLease | undefined;
}

export interface EncodedImage {
  data: Buffer;
  contentType: string;
  /** where the time went (Glasspane addition) */
  timings?: { captureMs: number; encodeMs: number };
}

export interface LaunchResult {
  processId: string;
  pid: number | null;
  windowId: string | null;
}

/** A change of screen pixels as XDamage reported it; `at` is performance.now() in ms. */
export interface ScreenChange {
  at: number;
  rect: Rect;
}

/** The screen's changes (XDamage on the persistent connection); stable across reconnects. */
export interface ScreenDamage {
  /** performance.now() of the last change (that touched `region`, when given); undefined before any */
  lastChangeAt(region?: Rect): number | undefined;
  /** Calls `listener` on every change (touching `region`, when given); returns the unsubscribe. */
  onChange(listener: (change: ScreenChange) => void, region?: Rect): () => void;
}

export interface ScreenWaitOptions {
  /** `settled`: changed after `since`, then still for quietMs (or no change within firstChangeMs) */
  until: "change" | "still" | "settled";
  quietMs?: number | null;
  timeoutMs?: number | null;
  firstChangeMs?: number | null;
  /** only changes touching this rectangle count */
  region?: Rect | null;
  /** performance.now() from which a change counts (default: the call) */
  since?: number;
}

export interface ScreenWaitResult {
  /** the screen (region) changed during the wait (after `since`) */
  changed: boolean;
  /** the condition was not met within timeoutMs */
  timedOut: boolean;
  waitedMs: number;
  /** ms since the last change when the wait ended; null when none was ever seen */
  sinceLastChangeMs: number | null;
}

/** Everything the HTTP layer may ask of a desktop. */
export interface Desktop {
  readonly control: Control;
  start(options: DesktopStartOptions): Promise<DesktopStatus>;
  stop(): Promise<DesktopStatus>;
  status(): Promise<DesktopStatus>;
  displayInfo(): Promise<{ display: string; resolution: { width: number; height: number; dpi: number } }>;
  screenshot(options: ScreenshotOptions, region?: Rect): Promise<EncodedImage>;
  mousePosition(): Promise<MousePosition>;
  mouseMove(x: number, y: number): Promise<MousePosition>;
  mouseClick(x: number, y: number, button: PointerButton, clickCount: number): Promise<MousePosition>;
  mouseDown(button: PointerButton, x?: number, y?: number): Promise<MousePosition>;
  mouseUp(button: PointerButton, x?: number, y?: number): Promise<MousePosition>;
  mouseDrag(startX: number, startY: number, endX: number, endY: number, button: MouseButton): Promise<MousePosition>;
  mouseScroll(x: number, y: number, deltaX: number, deltaY: number): Promise<MousePosition>;
  typeText(text: string, delayMs: number): Promise<void>;
  pressKey(key: string, modifiers?: KeyModifiers): Promise<void>;
  keyDown(key: string): Promise<void>;
  keyUp(key: string): Promise<void>;
  clipboardGet(selection: Selection): Promise<string>;
  clipboardSet(text: string, selection: Selection | "both"): Promise<void>;
  windows(): Promise<WindowInfo[]>;
  /** The windows a process has mapped (by _NET_WM_PID), e.g. the managed browser's. */
  windowsOfPid(pid: number): Promise<WindowInfo[]>;
  focusedWindow(): Promise<WindowInfo>;
  focusWindow(id: string): Promise<WindowInfo>;
  moveWindow(id: string, x: number, y: number): Promise<WindowInfo>;
  resizeWindow(id: string, width: number, height: number): Promise<WindowInfo>;
  launch(app: string, args: string[], wait: boolean): Promise<LaunchResult>;
  open(target: string): Promise<{ processId: string; pid: number | null }>;
  /** The feed of screen changes; usable before start (it reports once the desktop is active). */
  damage(): ScreenDamage;
  /** Waits for the screen to change, stay still or settle (desktop/settle.ts), on XDamage. */
  waitForScreen(options: ScreenWaitOptions): Promise<ScreenWaitResult>;
  /** The whole screen as RGB with the cursor drawn in (the live stream's frames); call `release()` when done. */
  captureFrame(): Promise<RgbFrame & { release(): void }>;
  /** The stream options the desktop was started with (streamVideoCodec, streamFrameRate, webrtcPortRange). */
  streamDefaults(): StreamDefaults;
  /** Appends a line to the desktop's runtime.log (for failures a caller handles but must not hide). */
  runtimeLog(line: string): void;
}

export interface StreamDefaults {
  videoCodec?: string;
  frameRate?: number;
  webrtcPortRange?: string;
}
