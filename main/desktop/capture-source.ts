import type { Rect } from "./types.js";

/**
 * One way of reading screen pixels. `capture` writes the rectangle, which must lie inside
 * the screen, as tightly packed RGB (3 bytes per pixel, rows of width*3) into `out`
 * (at least width*height*3 bytes). Calls are never concurrent: ScreenCapture serialises
 * them, so a source may keep one scratch area (an SHM segment) for all captures.
 * The caller owns `out`, so a source never allocates per frame.
 */
export interface CaptureSource {
  readonly kind: string;
  /** The source blends the cursor itself when `capture` is asked to (the native addon does, in C). */
  readonly drawsCursor?: boolean;
  readonly cursorSupported?: boolean;
  capture(rect: Rect, out: Buffer, showCursor?: boolean): Promise<void>;
  close(): void | Promise<void>;
}
