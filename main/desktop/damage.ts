import { performance } from "node:perf_hooks";
import { GlasspaneError } from "../shared/errors.js";
import type { Rect, ScreenChange, ScreenDamage } from "./types.js";
import type { XConnection, XEvent } from "./x11/connection.js";

/** DamageReportLevel DeltaRectangles: a rectangle each time new area becomes damaged. */
const DELTA_RECTANGLES = 1;
/** Recent changes kept for `lastChangeAt(region)`; older ones only count as "changed at the oldest time". */
const HISTORY = 512;

/**
 * The screen's changes as one stable feed: every change of pixels the X server reports
 * through XDamage, with its time (performance.now() ms) and rectangle. It outlives the X
 * connection: the desktop attaches a new DamageMonitor after a reconnect and listeners stay.
 * Pointer motion alone is not a change (the cursor is not drawn into the framebuffer).
 */
export class DamageFeed implements ScreenDamage {
  private readonly listeners = new Set<{ fn: (c: ScreenChange) => void; region?: Rect }>();
  private readonly history: ScreenChange[] = [];
  /** time of the newest change that fell out of `history` */
  private forgottenAt: number | undefined;
  private last: number | undefined;

  lastChangeAt(region?: Rect): number | undefined {
    if (!region) return this.last;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const c = this.history[i]!;
      if (intersects(c.rect, region)) return c.at;
    }
    return this.forgottenAt;
  }

  onChange(listener: (change: ScreenChange) => void, region?: Rect): () => void {
    const entry = { fn: listener, region };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Called by the monitor for each damaged rectangle. */
  report(rect: Rect, at = performance.now()): void {
    const change = { at, rect };
    this.last = at;
    this.history.push(change);
    if (this.history.length > HISTORY) this.forgottenAt = this.history.shift()!.at;
    for (const l of this.listeners) {
      if (l.region && !intersects(rect, l.region)) continue;
      try {
        l.fn(change);
      } catch {
        /* a listener's bug must not stop the feed */
      }
    }
  }
}

/**
 * XDamage on the root window of one X connection, feeding a DamageFeed. DeltaRectangles
 * reports only area not yet damaged, so after each burst the damage is subtracted (once
 * per event-loop turn) to hear about the same area again.
 */
export class DamageMonitor {
  private repairScheduled = false;
  private closed = false;
  private readonly onEvent = (ev: XEvent) => {
    if (ev.name !== "DamageNotify" || ev.damage !== this.damage) return;
    const a = ev.area as { x: number; y: number; w: number; h: number };
    this.feed.report({ x: a.x, y: a.y, width: a.w, height: a.h });
    if (!this.repairScheduled) {
      this.repairScheduled = true;
      setImmediate(() => {
        this.repairScheduled = false;
        if (this.closed || this.conn.closed) return;
        this.ext.Subtract(this.damage, 0, 0);
      });
    }
  };

  private constructor(
    private readonly conn: XConnection,
    private readonly ext: any,
    private readonly damage: number,
    private readonly feed: DamageFeed,
  ) {
    conn.on("event", this.onEvent);
  }

  static async create(conn: XConnection, feed: DamageFeed): Promise<DamageMonitor> {
    const ext = await conn.ext("damage").catch((err: Error) => {
      throw new GlasspaneError("x11_error", 502, `the X server has no DAMAGE extension: ${err.message}`);
    });
    const id: number = conn.X.AllocID();
    const monitor = new DamageMonitor(conn, ext, id, feed);
    ext.Create(id, conn.screen.root, DELTA_RECTANGLES);
    // a round trip so a failed Create shows up here, not as a silent absence of events
    await conn.fence();
    return monitor;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.off("event", this.onEvent);
    if (!this.conn.closed) {
      try {
        this.ext.Destroy(this.damage);
      } catch {
        /* the connection is going away */
      }
    }
  }
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
