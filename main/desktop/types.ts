/** Shapes of the desktop contract (field for field as spec/API.md and the sandbox-agent SDK). */

export type DesktopState = "inactive" | "install_required" | "starting" | "active" | "stopping" | "failed";
export type MouseButton = "left" | "middle" | "right";
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
}

export interface EncodedImage {
  data: Buffer;
  contentType: string;
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

/** Everything the HTTP layer may ask of a desktop. */
export interface Desktop {
  start(options: DesktopStartOptions): Promise<DesktopStatus>;
  stop(): Promise<DesktopStatus>;
  status(): Promise<DesktopStatus>;
  displayInfo(): Promise<{ display: string; resolution: { width: number; height: number; dpi: number } }>;
  screenshot(options: ScreenshotOptions, region?: Rect): Promise<EncodedImage>;
  mousePosition(): Promise<MousePosition>;
  mouseMove(x: number, y: number): Promise<MousePosition>;
  mouseClick(x: number, y: number, button: MouseButton, clickCount: number): Promise<MousePosition>;
  mouseDown(button: MouseButton, x?: number, y?: number): Promise<MousePosition>;
  mouseUp(button: MouseButton, x?: number, y?: number): Promise<MousePosition>;
  mouseDrag(startX: number, startY: number, endX: number, endY: number, button: MouseButton): Promise<MousePosition>;
  mouseScroll(x: number, y: number, deltaX: number, deltaY: number): Promise<MousePosition>;
  typeText(text: string, delayMs: number): Promise<void>;
  pressKey(key: string, modifiers?: KeyModifiers): Promise<void>;
  keyDown(key: string): Promise<void>;
  keyUp(key: string): Promise<void>;
  clipboardGet(selection: Selection): Promise<string>;
  clipboardSet(text: string, selection: Selection | "both"): Promise<void>;
  windows(): Promise<WindowInfo[]>;
  focusedWindow(): Promise<WindowInfo>;
  focusWindow(id: string): Promise<WindowInfo>;
  moveWindow(id: string, x: number, y: number): Promise<WindowInfo>;
  resizeWindow(id: string, width: number, height: number): Promise<WindowInfo>;
  launch(app: string, args: string[], wait: boolean): Promise<LaunchResult>;
  open(target: string): Promise<{ processId: string; pid: number | null }>;
  /** The feed of screen changes; usable before start (it reports once the desktop is active). */
  damage(): ScreenDamage;
  /** The whole screen as RGB with the cursor drawn in (the live stream's frames); call `release()` when done. */
  captureFrame(): Promise<RgbFrame & { release(): void }>;
  /** The stream options the desktop was started with (streamVideoCodec, streamFrameRate, webrtcPortRange). */
  streamDefaults(): StreamDefaults;
  /** Appends a line to the desktop's runtime.log (for failures a caller handles but must not hide). */
  logRuntime(line: string): void;
}

export interface StreamDefaults {
  videoCodec?: string;
  frameRate?: number;
  webrtcPortRange?: string;
}
