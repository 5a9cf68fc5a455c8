import { existsSync } from "node:fs";
import { prepareStateDir } from "./state-dir.js";
import { LIMITS } from "../shared/limits.js";
import { checkInteger, checkLength } from "../shared/check-limits.js";
import path from "node:path";
import { performance } from "node:perf_hooks";
import which from "which";
import { GlasspaneError, invalid, notFound } from "../shared/errors.js";
import { pollUntil, sleep, withDeadline } from "../shared/deadline.js";
import type { ManagedProcess, ProcessManager } from "../processes/manager.js";
import { checkSpawnInput } from "../processes/spawn-input.js";
import { pidState } from "../processes/os.js";
import { installCommand, missingDesktopDependencies } from "./dependencies.js";
import { XConnection } from "./x11/connection.js";
import { ScreenCapture } from "./capture.js";
import { clipRect, contentTypes, encodeFrame } from "./encode.js";
import { InputController } from "./input.js";
import { Clipboard } from "./clipboard.js";
import { WindowManager } from "./windows.js";
import { DamageFeed, DamageMonitor } from "./damage.js";
import { waitForScreen } from "./settle.js";
import { programsWorking } from "./activity.js";
import { DesktopControl } from "./control.js";
import { DisplayNumbers } from "./displays.js";
import type {
  Desktop,
  DesktopStartOptions,
  DesktopState,
  DesktopStatus,
  EncodedImage,
  KeyModifiers,
  LaunchResult,
  MouseButton,
  MousePosition,
  PointerButton,
  Rect,
  ScreenDamage,
  ScreenWaitOptions,
  ScreenWaitResult,
  StreamDefaults,
  ScreenshotOptions,
  Selection,
  WindowInfo,
} from "./types.js";
import type { RecordingSource } from "./recording/types.js";
import { BoundedLogFile, RUNTIME_LOG_MAX_BYTES } from "../shared/bounded-log.js";

/** How long a request waits for the desktop to come back after Xvfb was restarted. */
const RECOVERY_WAIT_MS = 15_000;
const START_TIMEOUT_MS = 20_000;
/** How long status waits for the X server to answer before it says the display does not. */
const STATUS_X_DEADLINE_MS = 1000;

/** The X-side services of one connected display; rebuilt whenever the connection is. */
interface Session {
  conn: XConnection;
  capture: ScreenCapture;
  input: InputController;
  clipboard: Clipboard;
  windows: WindowManager;
  damage: DamageMonitor;
}

interface ActiveConfig {
  width: number;
  height: number;
  dpi: number;
  displayNum: number;
  stateDir: string;
  options: DesktopStartOptions;
}

export interface DesktopServiceOptions {
  /** display numbers taken in this process; shared by every desktop of a runtime (default: its own) */
  displays?: DisplayNumbers;
  /** the state directory a start without `stateDir` uses (default `<stateDir>/desktop`) */
  desktopStateDir?: string;
}

/**
 * One virtual desktop: Xvfb + openbox supervised by the process manager, driven over one
 * persistent X connection. Restarts Xvfb/openbox while active and reconnects by itself.
 */
export class DesktopService implements Desktop {
  private state: DesktopState = "inactive";
  private config: ActiveConfig | undefined;
  private startedAt: Date | undefined;
  private lastError: { code: string; message: string } | null = null;
  private xvfb: ManagedProcess | undefined;
  private openbox: ManagedProcess | undefined;
  private session: Session | undefined;
  private recovering: Promise<void> | undefined;
  private transition: Promise<unknown> | undefined;
  private readonly stopHooks: Array<() => Promise<void>> = [];
  /** a person's lease on the input; checked by every input method */
  readonly control = new DesktopControl();
  private readonly damageFeed = new DamageFeed();

  constructor(
    private readonly processes: ProcessManager,
    private readonly defaultStateDir: string,
    private readonly options: DesktopServiceOptions = {},
  ) {
    this.displays = options.displays ?? new DisplayNumbers();
  }
  private readonly displays: DisplayNumbers;

  // ---- lifecycle ----

  /** The state without asking the X server (status() does). */
  currentState(): DesktopState {
    return this.state;
  }

  async start(options: DesktopStartOptions): Promise<DesktopStatus> {
    if (this.state === "active") return this.status();
    if (this.transition) throw new GlasspaneError("conflict", 409, `the desktop is ${this.state}; try again when it has finished`);
    const cfg = await this.validateStart(options);
    // validating waited on the file system: another start may have begun meanwhile
    if ((this.state as string) === "active") return this.status();
    if (this.transition) throw new GlasspaneError("conflict", 409, `the desktop is ${this.state}; try again when it has finished`);
    const missing = missingDesktopDependencies();
    if (missing.length > 0) {
      this.state = "install_required";
      this.lastError = { code: "desktop_dependencies_missing", message: `missing programs: ${missing.join(", ")}` };
      throw new GlasspaneError("desktop_dependencies_missing", 503, `the desktop needs ${missing.join(", ")}; install with: ${installCommand()}`, {
        missingDependencies: missing,
        installCommand: installCommand(),
      });
    }
    await this.inTransition(this.doStart(cfg));
    return this.status();
  }

  async stop(): Promise<DesktopStatus> {
    if (this.transition) await this.transition.catch(() => undefined);
    if (this.state === "inactive" || this.state === "install_required") return this.status();
    await this.inTransition(this.teardown("inactive"));
    return this.status();
  }

  /** Marks a start or stop in progress, so a concurrent start is refused and a stop waits. */
  private async inTransition(run: Promise<void>): Promise<void> {
    this.transition = run;
    try {
      await run;
    } finally {
      this.transition = undefined;
    }
  }

  async status(): Promise<DesktopStatus> {
    const cfg = this.config;
    const missing = missingDesktopDependencies();
    const status: DesktopStatus = {
      state: this.state === "inactive" && missing.length > 0 ? "install_required" : this.state,
      display: cfg ? `:${cfg.displayNum}` : null,
      resolution: cfg ? { width: cfg.width, height: cfg.height, dpi: cfg.dpi } : null,
      startedAt: this.startedAt?.toISOString() ?? null,
      lastError: this.lastError,
      missingDependencies: missing,
      installCommand: missing.length > 0 ? installCommand() : null,
      processes: [this.xvfb, this.openbox]
        .filter((p): p is ManagedProcess => !!p)
        .map((p) => ({ name: p.name, pid: p.pid, running: p.status === "running", logPath: p.logPath })),
      runtimeLogPath: cfg ? this.runtimeLogPath(cfg) : null,
      capturePath: this.session?.capture.path ?? null,
      captureFallbackReason: this.session?.capture.fallbackReason ?? null,
      control: this.control.status(),
    };
    if (this.state === "active") {
      const notAnswering = await this.displayNotAnswering();
      if (notAnswering) status.lastError = { code: "display_not_answering", message: notAnswering };
    }
    if (this.state === "active" && this.session && !status.lastError) {
      const windows = await withDeadline(this.session.windows.list(), STATUS_X_DEADLINE_MS, "listing windows").catch(() => []);
      if (windows.length > 0) status.windows = windows;
    }
    return status;
  }

  /**
   * Why the display does not answer, or null when it does: Xvfb stopped (SIGSTOP, a
   * debugger) or an X round trip that takes longer than STATUS_X_DEADLINE_MS.
   */
  private async displayNotAnswering(): Promise<string | null> {
    const pid = this.xvfb?.status === "running" ? this.xvfb.pid : null;
    if (pid && pidState(pid) === "T") return `the X server (Xvfb, pid ${pid}) is stopped (SIGSTOP or a debugger) and does not answer; send it SIGCONT or stop the desktop`;
    const session = this.session;
    if (!session) return this.recovering ? "the X server is being restarted" : null;
    const answered = await session.conn.fence(STATUS_X_DEADLINE_MS).then(
      () => true,
      () => false,
    );
    return answered ? null : `the X server (Xvfb${pid ? `, pid ${pid}` : ""}) did not answer within ${STATUS_X_DEADLINE_MS} ms`;
  }

  /** Runs `hook` (bounded) before the X server goes away, e.g. to let a recorder finish its file. */
  beforeStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /** The state directory of a desktop started without `stateDir`. */
  defaultDesktopStateDir(): string {
    return this.options.desktopStateDir ?? path.join(this.defaultStateDir, "desktop");
  }

  /** What a screen recorder needs; undefined unless the desktop is active. */
  recordingSource(): RecordingSource | undefined {
    const cfg = this.config;
    if (this.state !== "active" || !cfg) return undefined;
    return {
      display: `:${cfg.displayNum}`,
      width: cfg.width,
      height: cfg.height,
      stateDir: cfg.stateDir,
      defaultFps: cfg.options.recordingFps ?? 30,
    };
  }

  async shutdown(): Promise<void> {
    if (this.state !== "inactive") await this.teardown("inactive").catch(() => undefined);
    // a deleted desktop must not keep its log open (a later line opens it again)
    this.runtimeLogFile?.close();
    this.runtimeLogFile = undefined;
  }

  private async validateStart(o: DesktopStartOptions): Promise<ActiveConfig> {
    const width = o.width ?? 1440;
    const height = o.height ?? 900;
    const dpi = o.dpi ?? 96;
    checkInteger("width", width, LIMITS.screenSize, "pixels");
    checkInteger("height", height, LIMITS.screenSize, "pixels");
    checkInteger("dpi", dpi, LIMITS.dpi);
    if (o.recordingFps != null) checkInteger("recordingFps", o.recordingFps, LIMITS.fps);
    const displayNum = o.displayNum ?? 99;
    if (displayNum < 0 || displayNum > 65000) throw invalid(`displayNum must be between 0 and 65000 (got ${displayNum})`);
    const stateDir = o.stateDir ?? path.resolve(this.defaultDesktopStateDir());
    await prepareStateDir(stateDir);
    return { width, height, dpi, displayNum, stateDir: path.resolve(stateDir), options: o };
  }

  private async doStart(cfg: ActiveConfig): Promise<void> {
    this.state = "starting";
    this.lastError = null;
    const home = path.join(cfg.stateDir, "home");
    try {
      await withDeadline(this.launchDisplay(cfg), START_TIMEOUT_MS, "desktop start");
      this.openbox = await this.processes.spawn({
        name: "openbox",
        command: which.sync("openbox-session", { nothrow: true }) ? "openbox-session" : "openbox",
        env: { DISPLAY: `:${cfg.displayNum}`, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") },
        owner: "desktop",
        // its own process group, so stopping it also ends what autostart launched (at-spi's dbus-daemon...)
        processGroup: true,
        // back at once like Xvfb; a crash loop while Xvfb is down is cut short when Xvfb returns
        restart: { mode: "while", active: () => this.state === "active" || this.state === "starting", maxBackoffMs: 400 },
      });
      this.session = await withDeadline(openSession(`:${cfg.displayNum}`, this.damageFeed), 10_000, "connecting to the new display");
      this.watch(this.session);
      await waitForWindowManager(this.session.conn, 10_000);
      this.startedAt = new Date();
      this.state = "active";
      this.log(cfg, `desktop active on :${cfg.displayNum} (${cfg.width}x${cfg.height}, capture ${this.session.capture.path})`);
      if (this.session.capture.fallbackReason) this.log(cfg, `capture fell back to ${this.session.capture.path}: ${this.session.capture.fallbackReason}`);
    } catch (err) {
      const message = (err as Error).message;
      this.lastError = { code: "desktop_start_failed", message };
      this.log(cfg, `start failed: ${message}`);
      await this.teardown("failed");
      if (err instanceof GlasspaneError && err.status < 500) throw err;
      throw new GlasspaneError("desktop_start_failed", 502, `the desktop could not start: ${message}`);
    }
  }

  /** Starts Xvfb on the first free display at or above the requested number. */
  private async launchDisplay(cfg: ActiveConfig): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const num = this.displays.claim(cfg.displayNum);
      this.reservedDisplay = num;
      cfg.displayNum = num;
      this.config = cfg;
      const xvfb = await this.processes.spawn({
        name: "Xvfb",
        command: "Xvfb",
        args: [`:${num}`, "-screen", "0", `${cfg.width}x${cfg.height}x24`, "-dpi", String(cfg.dpi), "-nolisten", "tcp", "-noreset"],
        owner: "desktop",
        // a killed X server is back well within a second, however often it happens
        restart: { mode: "while", active: () => this.state === "active", maxBackoffMs: 400 },
      });
      this.xvfb = xvfb;
      // openbox cannot run without its X server: once Xvfb is back, so is openbox, without waiting out its backoff
      xvfb.on("restart", () => this.openbox?.restartNow());
      const up = await pollUntil(async () => {
        if (xvfb.status === "exited") return false;
        return existsSync(`/tmp/.X11-unix/X${num}`) ? true : undefined;
      }, 10_000, 25);
      if (up === true) return;
      // its last words say why (a socket directory it cannot write, a display in use...)
      const words = xvfb.logs
        .filter((e) => e.stream === "stderr")
        .slice(-5)
        .map((e) => e.data.toString("utf8"))
        .join("")
        .trim()
        .split("\n")
        .filter((l) => l.trim())
        .slice(-2)
        .join(" / ");
      await xvfb.stop(1000);
      this.releaseDisplay();
      const why = `Xvfb on :${num} did not come up (${up === false ? "exited" : "timed out"})${words ? `: ${words}` : ""}`;
      // shown by the status while the start goes on
      this.lastError = { code: "desktop_start_failed", message: why };
      this.log(cfg, `${why}; trying the next display`);
      cfg.displayNum = num + 1;
    }
    throw new GlasspaneError("desktop_start_failed", 502, "Xvfb did not start on any display tried");
  }

  private async teardown(finalState: DesktopState): Promise<void> {
    this.state = finalState === "inactive" ? "stopping" : finalState;
    for (const hook of this.stopHooks) {
      await withDeadline(hook(), 15_000, "a stop hook").catch((err) => this.runtimeLog(`a stop hook failed: ${(err as Error)?.message ?? err}`));
    }
    const session = this.session;
    this.session = undefined;
    if (session) {
      await Promise.race([session.input.close(), sleep(1000)]).catch(() => undefined);
      session.clipboard.close();
      session.damage.close();
      await withDeadline(session.capture.close(), 1000, "closing the screen capture").catch(() => undefined);
      session.conn.close();
    }
    await Promise.all([this.openbox?.stop(3000), this.xvfb?.stop(3000)]);
    this.releaseDisplay();
    this.state = finalState;
    this.startedAt = undefined;
    if (finalState === "inactive") {
      this.openbox = undefined;
      this.xvfb = undefined;
    }
  }

  private reservedDisplay: number | undefined;
  private releaseDisplay() {
    if (this.reservedDisplay !== undefined) this.displays.release(this.reservedDisplay);
    this.reservedDisplay = undefined;
  }

  /** When the X connection drops while active (Xvfb died), reconnect once the supervisor has restarted it. */
  private watch(session: Session) {
    session.conn.once("close", (err?: Error) => {
      session.damage.close();
      // the native capture holds its own connection to the same server
      void session.capture.close();
      if (this.session !== session) return;
      this.session = undefined;
      if (this.state !== "active" || !this.config) return;
      const cfg = this.config;
      this.log(cfg, `X connection lost (${err?.message ?? "closed"}); waiting for Xvfb to restart`);
      this.recovering = this.recover(cfg).finally(() => (this.recovering = undefined));
    });
  }

  private async recover(cfg: ActiveConfig): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (this.state === "active" && Date.now() < deadline) {
      await sleep(100);
      if (this.xvfb?.status !== "running") continue;
      try {
        const session = await withDeadline(openSession(`:${cfg.displayNum}`, this.damageFeed), 5000, "reconnecting to the display");
        if (this.state !== "active") {
          void session.capture.close();
          session.conn.close();
          return;
        }
        this.session = session;
        this.watch(session);
        this.lastError = null;
        this.log(cfg, `reconnected to :${cfg.displayNum}`);
        return;
      } catch (err) {
        this.lastError = { code: "desktop_reconnecting", message: (err as Error).message };
      }
    }
    if (this.state === "active") {
      this.lastError = { code: "desktop_lost", message: "the display did not come back within 60 s" };
      this.state = "failed";
    }
  }

  /** The connected session, waiting (bounded) for a reconnect in progress; 409 when the desktop is not running. */
  private async live(): Promise<Session> {
    if (this.state !== "active") {
      throw new GlasspaneError(
        "desktop_not_active",
        409,
        `the desktop is ${this.state}; start it first with POST /v1/desktop/start`,
      );
    }
    if (this.session && !this.session.conn.closed) return this.session;
    const waiting = this.recovering ?? Promise.resolve();
    await withDeadline(waiting, RECOVERY_WAIT_MS, "waiting for the desktop to recover");
    if (!this.session) throw new GlasspaneError("x11_error", 503, "the desktop's display is not reachable right now; it is being restarted");
    return this.session;
  }

  private runtimeLogPath(cfg: Pick<ActiveConfig, "stateDir">) {
    return path.join(cfg.stateDir, "runtime.log");
  }

  /** A line in the desktop's runtime.log (the active desktop's, else the default state directory's). */
  runtimeLog(line: string): void {
    this.log(this.config ?? { stateDir: this.defaultDesktopStateDir() }, line);
  }

  private runtimeLogFile: BoundedLogFile | undefined;

  /** runtime.log, within RUNTIME_LOG_MAX_BYTES (with its rotated .1); a write never throws. */
  private log(cfg: Pick<ActiveConfig, "stateDir">, line: string) {
    const file = this.runtimeLogPath(cfg);
    if (this.runtimeLogFile?.path !== file) {
      this.runtimeLogFile?.close();
      this.runtimeLogFile = new BoundedLogFile(file, () => RUNTIME_LOG_MAX_BYTES);
    }
    this.runtimeLogFile.write(`${new Date().toISOString()} ${line}\n`);
  }

  // ---- display and screenshots ----

  async displayInfo() {
    await this.live();
    const cfg = this.config!;
    return { display: `:${cfg.displayNum}`, resolution: { width: cfg.width, height: cfg.height, dpi: cfg.dpi } };
  }

  async screenshot(options: ScreenshotOptions, region?: Rect): Promise<EncodedImage> {
    const s = await this.live();
    const { width, height } = s.conn.screen;
    let rect: Rect = { x: 0, y: 0, width, height };
    if (region) {
      const clipped = clipRect(region, width, height);
      if (!clipped) throw invalid(`the region ${region.width}x${region.height}+${region.x}+${region.y} lies outside the ${width}x${height} screen`);
      rect = clipped;
    }
    if (options.showCursor && !s.capture.cursorSupported) {
      throw new GlasspaneError("x11_error", 501, "showCursor needs the X server's XFixes extension, which this display lacks; ask without showCursor");
    }
    const t0 = performance.now();
    const frame = await s.capture.capture(rect, { showCursor: options.showCursor });
    const t1 = performance.now();
    try {
      const data = await encodeFrame(frame, options);
      const timings = { captureMs: round1(t1 - t0), encodeMs: round1(performance.now() - t1) };
      return { data, contentType: contentTypes[options.format], timings };
    } finally {
      frame.release();
    }
  }

  // ---- mouse ----

  mousePosition(): Promise<MousePosition> {
    return this.live().then((s) => s.input.position());
  }

  mouseMove(x: number, y: number) {
    return this.withInput([[x, y]], (input) => input.move(x, y));
  }

  mouseClick(x: number, y: number, button: PointerButton, clickCount: number) {
    checkInteger("clickCount", clickCount, LIMITS.clickCount);
    return this.withInput([[x, y]], (input) => input.click(x, y, button, clickCount));
  }

  mouseDown(button: PointerButton, x?: number, y?: number) {
    return this.withInput(pointOrNone(x, y), (input) => input.mouseDown(button, x, y));
  }

  mouseUp(button: PointerButton, x?: number, y?: number) {
    return this.withInput(pointOrNone(x, y), (input) => input.mouseUp(button, x, y));
  }

  mouseDrag(startX: number, startY: number, endX: number, endY: number, button: MouseButton) {
    return this.withInput([[startX, startY], [endX, endY]], (input) => input.drag(startX, startY, endX, endY, button));
  }

  mouseScroll(x: number, y: number, deltaX: number, deltaY: number) {
    if (deltaX === 0 && deltaY === 0) throw invalid("deltaX or deltaY must be non-zero");
    const notches = { min: -LIMITS.scrollNotches.max, max: LIMITS.scrollNotches.max };
    checkInteger("deltaX", deltaX, notches, "wheel notches");
    checkInteger("deltaY", deltaY, notches, "wheel notches");
    return this.withInput([[x, y]], (input) => input.scroll(x, y, deltaX, deltaY));
  }

  // ---- keyboard ----

  async typeText(text: string, delayMs: number) {
    if (text.length === 0) throw invalid("text must not be empty");
    checkLength("text", text, LIMITS.typeTextLength);
    checkInteger("delayMs", delayMs, { min: 0, max: LIMITS.typeDelayMs.max }, "ms");
    const s = await this.live();
    if (delayMs === 0 && s.input.unmappedCharacters(text) >= PASTE_MIN_UNMAPPED) {
      this.control.check();
      await pasteText(s, text);
      return;
    }
    await this.withInput([], (input) => input.typeText(text, delayMs));
  }

  async pressKey(key: string, modifiers?: KeyModifiers) {
    checkLength("key", key, LIMITS.keyNameLength);
    await this.withInput([], (input) => input.pressKey(key, modifiers));
  }

  async keyDown(key: string) {
    checkLength("key", key, LIMITS.keyNameLength);
    await this.withInput([], (input) => input.keyDown(key));
  }

  async keyUp(key: string) {
    checkLength("key", key, LIMITS.keyNameLength);
    await this.withInput([], (input) => input.keyUp(key));
  }

  /** Checks coordinates against the screen, then runs `task` (the controller runs actions one at a time). */
  private async withInput<T>(points: Array<[number, number]>, task: (input: InputController) => Promise<T>): Promise<T> {
    this.control.check();
    const s = await this.live();
    const { width, height } = s.conn.screen;
    for (const [x, y] of points) {
      checkInteger("x", x, LIMITS.coordinate);
      checkInteger("y", y, LIMITS.coordinate);
      if (x < 0 || y < 0) throw invalid(`Desktop coordinates must be non-negative (got ${x},${y})`);
      if (x >= width || y >= height) throw invalid(`(${x},${y}) is outside the ${width}x${height} screen`);
    }
    return task(s.input);
  }

  // ---- clipboard ----

  async clipboardGet(selection: Selection): Promise<string> {
    const s = await this.live();
    return s.clipboard.get(selection);
  }

  async clipboardSet(text: string, selection: Selection | "both"): Promise<void> {
    checkLength("text", text, LIMITS.clipboardTextLength);
    this.control.check();
    const s = await this.live();
    await s.clipboard.set(text, selection);
  }

  // ---- windows ----

  async windows(): Promise<WindowInfo[]> {
    return (await this.live()).windows.list();
  }

  async windowsOfPid(pid: number): Promise<WindowInfo[]> {
    const s = await this.live();
    const ids = new Set(await s.windows.windowsOfPid(pid));
    return (await s.windows.list()).filter((w) => ids.has(w.id));
  }

  async focusedWindow(): Promise<WindowInfo> {
    const w = await (await this.live()).windows.focused();
    if (!w) throw notFound("no window has the input focus", "no_focused_window");
    return w;
  }

  async focusWindow(id: string) {
    return (await this.live()).windows.focus(id);
  }

  async moveWindow(id: string, x: number, y: number) {
    checkInteger("x", x, LIMITS.coordinate);
    checkInteger("y", y, LIMITS.coordinate);
    return (await this.live()).windows.move(id, x, y);
  }

  async resizeWindow(id: string, width: number, height: number) {
    checkInteger("width", width, LIMITS.windowSize, "pixels");
    checkInteger("height", height, LIMITS.windowSize, "pixels");
    return (await this.live()).windows.resize(id, width, height);
  }

  // ---- apps ----

  async launch(app: string, args: string[], wait: boolean): Promise<LaunchResult> {
    const s = await this.live();
    if (!app.trim()) throw invalid("app must not be empty");
    checkSpawnInput(app, args);
    const resolved = which.sync(app, { nothrow: true });
    if (!resolved) throw notFound(`application "${app}" was not found on PATH`, "app_not_found");
    const proc = await this.processes.spawn({
      name: path.basename(app),
      // the command as given (`xterm`), found on the same PATH: the process reports what was asked for
      command: app,
      args,
      env: this.appEnv(),
      owner: "desktop",
    });
    let windowId: string | null = null;
    if (wait && proc.pid) {
      const pid = proc.pid;
      windowId =
        (await pollUntil(async () => {
          const ids = await s.windows.windowsOfPid(pid).catch(() => []);
          return ids[0];
        }, 5000, 50)) ?? null;
    }
    return { processId: proc.id, pid: proc.pid, windowId };
  }

  async open(target: string) {
    await this.live();
    if (!target.trim()) throw invalid("target must not be empty");
    checkSpawnInput("xdg-open", [target]);
    const opener = which.sync("xdg-open", { nothrow: true });
    if (!opener) throw notFound("xdg-open is not installed (package xdg-utils)", "app_not_found");
    const proc = await this.processes.spawn({ name: "xdg-open", command: opener, args: [target], env: this.appEnv(), owner: "desktop" });
    return { processId: proc.id, pid: proc.pid };
  }

  // ---- screen changes ----

  damage(): ScreenDamage {
    return this.damageFeed;
  }

  async waitForScreen(options: ScreenWaitOptions): Promise<ScreenWaitResult> {
    await this.live();
    for (const [name, v] of [["quietMs", options.quietMs], ["timeoutMs", options.timeoutMs], ["firstChangeMs", options.firstChangeMs]] as const) {
      if (v != null && (!Number.isFinite(v) || v < 0 || v > LIMITS.holdMs.max)) throw invalid(`${name} must be between 0 and ${LIMITS.holdMs.max} ms (got ${v})`);
    }
    const display = `:${this.config!.displayNum}`;
    return waitForScreen(this.damageFeed, options, (since) => programsWorking(display, since));
  }

  async captureFrame() {
    const s = await this.live();
    const { width, height } = s.conn.screen;
    return s.capture.capture({ x: 0, y: 0, width, height }, { showCursor: true });
  }

  streamDefaults(): StreamDefaults {
    const o = this.config?.options ?? {};
    return {
      ...(o.streamVideoCodec != null ? { videoCodec: o.streamVideoCodec } : {}),
      ...(o.streamFrameRate != null ? { frameRate: o.streamFrameRate } : {}),
      ...(o.webrtcPortRange != null ? { webrtcPortRange: o.webrtcPortRange } : {}),
    };
  }

  private appEnv(): Record<string, string> {
    return { DISPLAY: `:${this.config!.displayNum}` };
  }
}

async function openSession(display: string, feed: DamageFeed): Promise<Session> {
  const conn = await XConnection.open(display);
  const capturing = ScreenCapture.create(conn);
  try {
    const [capture, input, clipboard, damage] = await Promise.all([
      capturing,
      InputController.create(conn),
      Clipboard.create(conn),
      DamageMonitor.create(conn, feed),
    ]);
    return { conn, capture, input, clipboard, windows: new WindowManager(conn), damage };
  } catch (err) {
    capturing.then((c) => c.close(), () => undefined);
    conn.close();
    throw err;
  }
}

/** Waits until a window manager has announced itself (EWMH), so new windows are managed. */
async function waitForWindowManager(conn: XConnection, ms: number) {
  const found = await pollUntil(async () => {
    const prop = await conn.getProperty(conn.screen.root, "_NET_SUPPORTING_WM_CHECK").catch(() => undefined);
    return prop && prop.data.length >= 4 ? true : undefined;
  }, ms, 50);
  if (!found) throw new GlasspaneError("desktop_start_failed", 502, `the window manager did not start within ${ms} ms`);
}

/**
 * Typing binds each character the keymap lacks to a spare keycode, and a spare keycode may
 * only be rebound 250 ms after its last use: 200 distinct CJK characters took 2.5 s. From
 * this many distinct unmapped characters on, the text is pasted instead (DESIGN.md decision 3).
 */
const PASTE_MIN_UNMAPPED = 24;
/** How long a paste waits for the focused app to fetch the text before restoring the clipboard. */
const PASTE_FETCH_MS = 2000;

/**
 * Pastes `text` with Shift+Insert, which pastes PRIMARY in xterm and CLIPBOARD in GTK, Qt and
 * Chromium, so both selections hold it. The previous text of both selections is saved first
 * and put back once the app has fetched the paste (text only: other targets are not kept).
 */
async function pasteText(s: Session, text: string): Promise<void> {
  const [clipboard, primary] = await Promise.all([s.clipboard.get("clipboard").catch(() => ""), s.clipboard.get("primary").catch(() => "")]);
  await s.clipboard.set(text, "both");
  try {
    const served = s.clipboard.whenServed(PASTE_FETCH_MS);
    await s.input.pressKey("shift+Insert");
    if (!(await served)) throw new GlasspaneError("timeout", 504, `no application fetched the pasted text within ${PASTE_FETCH_MS} ms (is a text field focused?)`);
  } finally {
    await s.clipboard.set(clipboard, "clipboard").catch(() => undefined);
    await s.clipboard.set(primary, "primary").catch(() => undefined);
  }
}

function pointOrNone(x?: number, y?: number): Array<[number, number]> {
  if ((x === undefined) !== (y === undefined)) throw invalid("x and y must both be provided or both be omitted");
  return x === undefined || y === undefined ? [] : [[x, y]];
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;
