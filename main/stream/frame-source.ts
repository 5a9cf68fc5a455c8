import type { Desktop, RgbFrame } from "../desktop/types.js";

/**
 * Frames of the desktop only when something changed: XDamage (pixels) and the pointer
 * (which Xvfb does not count as damage, so it is polled with one cheap round trip per
 * frame interval). A change captures at once unless the previous frame is less than one
 * frame interval old, so the first change after a still period is not held back, and a
 * still desktop costs neither capture nor encoding.
 */
export class FrameSource {
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private lastFrameAt = -Infinity;
  private dirty = true;
  private capturing = false;
  private pointer = "";
  private intervalMs: number;
  private stopped = false;

  constructor(
    private readonly desktop: Desktop,
    frameRate: number,
    /** Takes the frame; returns false when the encoder is still busy (the change is kept for the next try). */
    private readonly deliver: (frame: RgbFrame) => boolean,
    /** a capture failed (the display may be gone: the stream checks its desktop) */
    private readonly failed: (err: Error) => void = () => undefined,
  ) {
    this.intervalMs = 1000 / frameRate;
  }

  start(): void {
    this.unsubscribe = this.desktop.damage().onChange(() => this.changed());
    this.schedulePoll();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    clearTimeout(this.poll);
  }

  setFrameRate(frameRate: number): void {
    this.intervalMs = 1000 / frameRate;
  }

  /** The next frame is wanted even if nothing changed (a keyframe for a new encoder). */
  refresh(): void {
    this.changed();
  }

  private changed() {
    this.dirty = true;
    this.kick();
  }

  private kick() {
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastFrameAt + this.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.capture();
    }, wait);
  }

  private async capture() {
    if (!this.dirty || this.capturing || this.stopped) return;
    this.capturing = true;
    this.dirty = false;
    this.lastFrameAt = performance.now();
    let delivered = false;
    try {
      const frame = await this.desktop.captureFrame();
      try {
        delivered = !this.stopped && this.deliver(frame);
      } finally {
        frame.release();
      }
    } catch (err) {
      this.failed(err as Error);
    } finally {
      this.capturing = false;
    }
    if (!delivered && !this.stopped) {
      this.dirty = true;
      this.kick();
    }
  }

  private schedulePoll() {
    this.poll = setTimeout(async () => {
      if (this.stopped) return;
      try {
        const p = await this.desktop.mousePosition();
        const at = `${p.x},${p.y}`;
        if (at !== this.pointer) {
          this.pointer = at;
          this.changed();
        }
      } catch (err) {
        this.failed(err as Error);
      }
      if (!this.stopped) this.schedulePoll();
    }, this.intervalMs);
    this.poll.unref();
  }
}
