import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GlasspaneError } from "../shared/errors.js";
import { withDeadline } from "../shared/deadline.js";
import type { Rect } from "./types.js";
import type { CaptureSource } from "./capture-source.js";

/** Set to 0 (or false/off) to skip the addon and capture through the pure-JS path. */
export const NATIVE_CAPTURE_ENV = "GLASSPANE_NATIVE_CAPTURE";
/** Same deadline as one X request on the JS connection. */
const CAPTURE_TIMEOUT_MS = 2000;
const OPEN_TIMEOUT_MS = 5000;

type Handle = object;

/** The C addon in native/ (capture.c): every call that talks to X runs on a worker thread. */
interface NativeCaptureAddon {
  open(display: string): Promise<Handle>;
  info(h: Handle): { width: number; height: number; cursor: boolean; lost: boolean };
  capture(h: Handle, x: number, y: number, width: number, height: number, out: Buffer, showCursor: boolean): Promise<void>;
  close(h: Handle): Promise<void>;
}

/** native/build/Release, seen from dist/main/desktop (compiled) or main/desktop (sources). */
const ADDON_PATHS = ["../../../native/build/Release/glasspane_capture.node", "../../native/build/Release/glasspane_capture.node"];

let loaded: { addon?: NativeCaptureAddon; reason?: string } | undefined;

export function nativeCaptureDisabled(): boolean {
  return /^(0|false|off|no)$/i.test(process.env[NATIVE_CAPTURE_ENV] ?? "");
}

/** Loads the addon once; undefined (with `nativeCaptureUnavailable()` saying why) when it is absent or disabled. */
export function loadNativeCapture(): NativeCaptureAddon | undefined {
  if (nativeCaptureDisabled()) return undefined;
  if (!loaded) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = ADDON_PATHS.map((p) => path.resolve(here, p)).find((p) => existsSync(p));
    if (!file) {
      loaded = { reason: "native/build/Release/glasspane_capture.node is not built (npm run build:native)" };
    } else {
      try {
        loaded = { addon: createRequire(import.meta.url)(file) as NativeCaptureAddon };
      } catch (err) {
        loaded = { reason: `loading ${file} failed: ${(err as Error).message}` };
      }
    }
  }
  return loaded.addon;
}

export function nativeCaptureUnavailable(): string | undefined {
  if (nativeCaptureDisabled()) return `disabled by ${NATIVE_CAPTURE_ENV}`;
  loadNativeCapture();
  return loaded?.reason;
}

/**
 * MIT-SHM capture through the C addon: its own Xlib connection and one persistent shared
 * segment, conversion to RGB and the cursor blend in C, straight into the caller's buffer.
 */
export class NativeShmSource implements CaptureSource {
  readonly kind = "native-shm";
  readonly drawsCursor = true;
  /** The addon call in flight: it may outlive a timed-out capture, and calls must not overlap. */
  private inflight: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly addon: NativeCaptureAddon,
    private readonly handle: Handle,
    readonly cursorSupported: boolean,
  ) {}

  /** Resolves undefined when the addon is absent, disabled or cannot capture this display. */
  static async open(display: string, width: number, height: number, why: (reason: string) => void = () => undefined): Promise<NativeShmSource | undefined> {
    const addon = loadNativeCapture();
    if (!addon) {
      why(`native-shm: ${nativeCaptureUnavailable() ?? "the native capture addon is not available"}`);
      return undefined;
    }
    const opening = addon.open(display);
    let handle: Handle;
    try {
      handle = await withDeadline(opening, OPEN_TIMEOUT_MS, `opening ${display} for native capture`);
    } catch (err) {
      why(`native-shm: ${(err as Error)?.message ?? err}`);
      // an open that finishes after the deadline still holds a connection: close it then
      opening.then((h) => addon.close(h)).catch(() => undefined);
      return undefined;
    }
    const info = addon.info(handle);
    const source = new NativeShmSource(addon, handle, info.cursor);
    try {
      if (info.width !== width || info.height !== height) throw new Error("screen size differs");
      // a real round trip through the segment, not just a successful attach
      await source.capture({ x: 0, y: 0, width: 1, height: 1 }, Buffer.alloc(3), false);
      return source;
    } catch (err) {
      why(`native-shm: a test capture failed (${(err as Error)?.message ?? err})`);
      source.close();
      return undefined;
    }
  }

  async capture(rect: Rect, out: Buffer, showCursor = false): Promise<void> {
    if (this.closed) throw new GlasspaneError("x11_error", 502, "screen capture is closed");
    await withDeadline(this.inflight, CAPTURE_TIMEOUT_MS, "the previous native capture");
    const call = this.addon.capture(this.handle, rect.x, rect.y, rect.width, rect.height, out, showCursor);
    this.inflight = call.catch(() => undefined);
    try {
      await withDeadline(call, CAPTURE_TIMEOUT_MS, `native capture ${rect.width}x${rect.height}`);
    } catch (err) {
      if (err instanceof GlasspaneError) {
        // the worker may still write into `out` once the X server answers
        throw Object.assign(err, { bufferInUse: true });
      }
      const e = err as NodeJS.ErrnoException;
      throw new GlasspaneError("x11_error", 502, `native capture failed: ${e.message}`, { displayLost: e.code === "ERR_X_DISPLAY_LOST" });
    }
  }

  /** Resolves once the addon has closed its connection (after any call still in flight). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const { addon, handle } = this;
    return this.inflight.then(() => addon.close(handle)).catch(() => undefined);
  }
}
