import { GlasspaneError, invalid } from "../shared/errors.js";
import type { Rect, RgbFrame } from "./types.js";
import type { XConnection } from "./x11/connection.js";
import { NativeShmSource } from "./native-capture.js";
import type { CaptureSource } from "./capture-source.js";

export type { CaptureSource } from "./capture-source.js";

/** X11 ZPixmap image format code. */
const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;
/** Free RGB buffers kept for reuse; more leases than this in flight just allocate. */
const POOL_SIZE = 3;

/** A captured frame whose buffer comes from the pool; call `release()` once done with it. */
export interface CapturedFrame extends RgbFrame {
  /** Returns the buffer to the pool. Idempotent. Not calling it is safe, only slower. */
  release(): void;
}

export interface ScreenCaptureOptions {
  /** Skip MIT-SHM and use core GetImage (tests, debugging). */
  forceCore?: boolean;
  /** Try the native addon first (default true; GLASSPANE_NATIVE_CAPTURE=0 also turns it off). */
  native?: boolean;
}

/**
 * Where each colour channel sits in a 32-bit ZPixmap pixel, as byte offsets. Derived from
 * the root visual's masks and the server's image byte order, not assumed to be BGRX.
 */
export interface PixelLayout {
  r: number;
  g: number;
  b: number;
}

export function pixelLayout(conn: XConnection): PixelLayout {
  const info = conn.displayInfo;
  const depth = conn.screen.depth;
  const bpp: number | undefined = info?.format?.[depth]?.bits_per_pixel;
  if (bpp !== 32) {
    throw new GlasspaneError("x11_error", 502, `screen capture needs 32 bits per pixel at depth ${depth}, the server uses ${bpp ?? "unknown"}`);
  }
  const msbFirst = info?.image_byte_order === 1;
  const byteOf = (mask: number, name: string): number => {
    const m = mask >>> 0;
    const shift = m === 0 ? -1 : 31 - Math.clz32(m & -m);
    if (shift < 0 || shift % 8 !== 0 || m >>> shift !== 0xff) {
      throw new GlasspaneError("x11_error", 502, `unsupported ${name} mask 0x${m.toString(16)} of the root visual`);
    }
    const lsbIndex = shift / 8;
    return msbFirst ? 3 - lsbIndex : lsbIndex;
  };
  return {
    r: byteOf(conn.screen.redMask, "red"),
    g: byteOf(conn.screen.greenMask, "green"),
    b: byteOf(conn.screen.blueMask, "blue"),
  };
}

/**
 * Converts `pixels` 32-bit pixels to packed RGB. The common little-endian BGRX layout with
 * 4-byte aligned buffers takes a word-at-a-time path (4 pixels in, 3 words out), which is
 * about twice as fast as the byte loop.
 */
export function toRgb(src: Buffer, out: Buffer, pixels: number, layout: PixelLayout): void {
  if (src.length < pixels * 4 || out.length < pixels * 3) throw new RangeError("toRgb: buffer too small");
  let done = 0;
  if (layout.r === 2 && layout.g === 1 && layout.b === 0 && src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    const quads = pixels >>> 2;
    const s = new Uint32Array(src.buffer, src.byteOffset, quads * 4);
    const d = new Uint32Array(out.buffer, out.byteOffset, quads * 3);
    for (let i = 0, j = 0, q = 0; q < quads; q++, i += 4, j += 3) {
      // each source word is 0xXXRRGGBB; output bytes are R G B R | G B R G | B R G B
      const p0 = s[i],
        p1 = s[i + 1],
        p2 = s[i + 2],
        p3 = s[i + 3];
      d[j] = ((p0 >>> 16) & 0xff) | (p0 & 0xff00) | ((p0 & 0xff) << 16) | (((p1 >>> 16) & 0xff) << 24);
      d[j + 1] = ((p1 >>> 8) & 0xff) | ((p1 & 0xff) << 8) | (p2 & 0xff0000) | (((p2 >>> 8) & 0xff) << 24);
      d[j + 2] = (p2 & 0xff) | (((p3 >>> 16) & 0xff) << 8) | ((p3 & 0xff00) << 8) | ((p3 & 0xff) << 24);
    }
    done = quads * 4;
  }
  const { r, g, b } = layout;
  for (let i = done * 4, j = done * 3, end = pixels * 4; i < end; i += 4, j += 3) {
    out[j] = src[i + r];
    out[j + 1] = src[i + g];
    out[j + 2] = src[i + b];
  }
}

/** MIT-SHM through the `x11` package's built-in provider: one persistent segment. */
class ShmSource implements CaptureSource {
  readonly kind = "x11-shm";
  private seg: any;
  private closed = false;

  private constructor(
    private readonly conn: XConnection,
    private readonly shm: any,
    private readonly layout: PixelLayout,
  ) {}

  /** Resolves undefined when SHM cannot be used on this connection. */
  static async open(conn: XConnection, layout: PixelLayout, why: (reason: string) => void = () => undefined): Promise<ShmSource | undefined> {
    let shm: any;
    try {
      shm = await conn.ext("shm");
    } catch (err) {
      why(`x11-shm: the MIT-SHM extension is unavailable (${(err as Error)?.message ?? err})`);
      return undefined;
    }
    const usable = await conn.call<boolean>("MIT-SHM usable", (cb) => shm.usable(cb), 5000).catch(() => false);
    if (!usable) {
      why("x11-shm: MIT-SHM is not usable on this connection (another host or IPC namespace?)");
      return undefined;
    }
    const source = new ShmSource(conn, shm, layout);
    try {
      // a real round trip through the segment, not just a successful attach
      await source.ensureSegment(conn.screen.width * conn.screen.height * 4);
      await source.capture({ x: 0, y: 0, width: 1, height: 1 }, Buffer.alloc(3));
      return source;
    } catch (err) {
      why(`x11-shm: a test capture failed (${(err as Error)?.message ?? err})`);
      source.close();
      return undefined;
    }
  }

  async capture(rect: Rect, out: Buffer): Promise<void> {
    const bytes = rect.width * rect.height * 4;
    await this.ensureSegment(bytes);
    const seg = this.seg;
    const reply = await this.conn.call<{ size: number }>(`ShmGetImage(${rect.width}x${rect.height})`, (cb) =>
      seg.getImage(this.conn.screen.root, rect.x, rect.y, rect.width, rect.height, ALL_PLANES, Z_PIXMAP, 0, cb),
    );
    if (reply.size < bytes) {
      throw new GlasspaneError("x11_error", 502, `ShmGetImage returned ${reply.size} bytes, expected ${bytes}`);
    }
    toRgb(seg.buffer, out, rect.width * rect.height, this.layout);
  }

  /** Sized to the whole screen once; re-created only when a capture needs more (screen grew). */
  private async ensureSegment(bytes: number): Promise<void> {
    if (this.closed) throw new GlasspaneError("x11_error", 502, "screen capture is closed");
    if (this.seg && this.seg.size >= bytes) return;
    const size = Math.max(bytes, this.conn.screen.width * this.conn.screen.height * 4);
    this.detach();
    this.seg = await this.conn.call("MIT-SHM createSegment", (cb) => this.shm.createSegment(size, cb), 5000);
  }

  private detach(): void {
    const seg = this.seg;
    this.seg = undefined;
    if (!seg || this.conn.closed) return;
    try {
      seg.detach();
    } catch {
      /* connection already gone; the segment dies with it */
    }
  }

  close(): void {
    this.closed = true;
    this.detach();
  }
}

/** Core GetImage: the whole image travels over the socket (2-35 ms, bimodal). */
class GetImageSource implements CaptureSource {
  readonly kind = "x11-getimage";

  constructor(
    private readonly conn: XConnection,
    private readonly layout: PixelLayout,
  ) {}

  async capture(rect: Rect, out: Buffer): Promise<void> {
    const reply = await this.conn.call<{ data: Buffer }>(`GetImage(${rect.width}x${rect.height})`, (cb) =>
      this.conn.X.GetImage(Z_PIXMAP, this.conn.screen.root, rect.x, rect.y, rect.width, rect.height, ALL_PLANES, cb),
    );
    const pixels = rect.width * rect.height;
    if (reply.data.length < pixels * 4) {
      throw new GlasspaneError("x11_error", 502, `GetImage returned ${reply.data.length} bytes, expected ${pixels * 4}`);
    }
    toRgb(reply.data, out, pixels, this.layout);
  }

  close(): void {}
}

/** A cursor image prepared for blending: straight RGB plus the inverse alpha, per pixel. */
interface CursorSprite {
  serial: number;
  width: number;
  height: number;
  xhot: number;
  yhot: number;
  /** r, g, b (premultiplied) and 255 - a, 4 bytes per pixel */
  rgbInvA: Uint8Array;
}

/**
 * Screen capture for one display: picks the fastest working source, hands out frames from
 * a small pool of reusable RGB buffers, and composites the real cursor on request.
 */
export class ScreenCapture {
  private readonly pool: Buffer[] = [];
  /** Captures run one at a time: the SHM segment is a single scratch area. */
  private queue: Promise<unknown> = Promise.resolve();
  private cursor: CursorSprite | undefined;
  private closed = false;

  private constructor(
    private readonly conn: XConnection,
    private readonly source: CaptureSource,
    private readonly fixes: any,
    /** why the faster capture paths were passed over; undefined when the fastest one works */
    readonly fallbackReason: string | undefined,
  ) {}

  static async create(conn: XConnection, opts: ScreenCaptureOptions = {}): Promise<ScreenCapture> {
    const layout = pixelLayout(conn);
    // fastest first: addon -> x11 MIT-SHM -> x11 GetImage
    const reasons: string[] = [];
    const why = (reason: string) => reasons.push(reason);
    if (opts.forceCore) why("asked for core GetImage (forceCore)");
    else if (opts.native === false) why("native-shm: turned off (native: false)");
    const native = opts.forceCore || opts.native === false ? undefined : await NativeShmSource.open(conn.displayName, conn.screen.width, conn.screen.height, why);
    const shm = native || opts.forceCore ? undefined : await ShmSource.open(conn, layout, why);
    const source = native ?? shm ?? new GetImageSource(conn, layout);
    const fixes = await conn.ext("fixes").catch(() => undefined);
    return new ScreenCapture(conn, source, fixes, reasons.length > 0 ? reasons.join("; ") : undefined);
  }

  /** Which source is in use: `native-shm`, `x11-shm` or `x11-getimage`. */
  get path(): string {
    return this.source.kind;
  }

  get width(): number {
    return this.conn.screen.width;
  }

  get height(): number {
    return this.conn.screen.height;
  }

  /** Whether `showCursor` can draw the cursor (XFixes present). */
  get cursorSupported(): boolean {
    return this.source.drawsCursor ? !!this.source.cursorSupported : this.fixes !== undefined;
  }

  /**
   * Captures `rect` (must lie inside the screen; clip with `clipRect` first). The frame's
   * buffer is leased from the pool: it stays valid until `release()`, so several frames
   * can be encoded at once without copying.
   */
  capture(rect: Rect, opts: { showCursor: boolean }): Promise<CapturedFrame> {
    if (this.closed) return Promise.reject(new GlasspaneError("x11_error", 502, "screen capture is closed"));
    const { x, y, width, height } = rect;
    const ints = [x, y, width, height].every(Number.isInteger);
    if (!ints || width < 1 || height < 1 || x < 0 || y < 0 || x + width > this.width || y + height > this.height) {
      return Promise.reject(invalid(`capture region ${width}x${height}+${x}+${y} is not inside the ${this.width}x${this.height} screen`));
    }
    const run = () => this.captureNow(rect, opts.showCursor);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async captureNow(rect: Rect, showCursor: boolean): Promise<CapturedFrame> {
    const bytes = rect.width * rect.height * 3;
    const buf = this.acquire(bytes);
    try {
      if (this.source.drawsCursor) {
        await this.source.capture(rect, buf, showCursor);
        return this.lease(buf, buf.subarray(0, bytes), rect.width, rect.height);
      }
      // GetCursorImage is pipelined with the image request: one round trip for both
      const cursor = showCursor && this.fixes ? this.cursorImage() : undefined;
      cursor?.catch(() => undefined); // observed below; avoid an unhandled rejection if capture fails first
      await this.source.capture(rect, buf);
      const data = buf.subarray(0, bytes);
      if (cursor) {
        const c = await cursor;
        this.blitCursor(data, rect, c.x, c.y, c.sprite);
      }
      return this.lease(buf, data, rect.width, rect.height);
    } catch (err) {
      // a capture that timed out may still be written by its worker: drop that buffer
      if (!(err as { bufferInUse?: boolean }).bufferInUse) this.giveBack(buf);
      throw err;
    }
  }

  private async cursorImage(): Promise<{ x: number; y: number; sprite: CursorSprite }> {
    const img = await this.conn.call<any>("XFixesGetCursorImage", (cb) => this.fixes.GetCursorImage(cb));
    let sprite = this.cursor;
    if (!sprite || sprite.serial !== img.cursorSerial || sprite.width !== img.width || sprite.height !== img.height) {
      sprite = prepareCursor(img);
      this.cursor = sprite;
    }
    return { x: img.x, y: img.y, sprite };
  }

  /** Source-over blend of the premultiplied cursor at (x - xhot, y - yhot), clipped to `rect`. */
  private blitCursor(data: Buffer, rect: Rect, px: number, py: number, c: CursorSprite): void {
    const left = px - c.xhot - rect.x;
    const top = py - c.yhot - rect.y;
    const x0 = Math.max(0, -left);
    const y0 = Math.max(0, -top);
    const x1 = Math.min(c.width, rect.width - left);
    const y1 = Math.min(c.height, rect.height - top);
    const src = c.rgbInvA;
    for (let cy = y0; cy < y1; cy++) {
      let s = (cy * c.width + x0) * 4;
      let d = ((top + cy) * rect.width + left + x0) * 3;
      for (let cx = x0; cx < x1; cx++, s += 4, d += 3) {
        const ia = src[s + 3];
        if (ia === 255) continue;
        if (ia === 0) {
          data[d] = src[s];
          data[d + 1] = src[s + 1];
          data[d + 2] = src[s + 2];
        } else {
          data[d] = Math.min(255, src[s] + (((data[d] * ia + 127) / 255) | 0));
          data[d + 1] = Math.min(255, src[s + 1] + (((data[d + 1] * ia + 127) / 255) | 0));
          data[d + 2] = Math.min(255, src[s + 2] + (((data[d + 2] * ia + 127) / 255) | 0));
        }
      }
    }
  }

  private acquire(bytes: number): Buffer {
    const i = this.pool.findIndex((b) => b.length >= bytes);
    if (i >= 0) return this.pool.splice(i, 1)[0];
    // Full-screen sized, so one buffer serves every region; allocUnsafeSlow keeps it
    // 4-byte aligned (the word-at-a-time conversion needs that) and out of the small pool.
    return Buffer.allocUnsafeSlow(Math.max(bytes, this.width * this.height * 3));
  }

  private giveBack(buf: Buffer): void {
    if (this.closed || this.pool.length >= POOL_SIZE) return;
    if (buf.length < this.width * this.height * 3) return; // from before the screen grew
    this.pool.push(buf);
  }

  private lease(buf: Buffer, data: Buffer, width: number, height: number): CapturedFrame {
    let released = false;
    return {
      data,
      width,
      height,
      release: () => {
        if (released) return;
        released = true;
        this.giveBack(buf);
      },
    };
  }

  /** Resolves when the source has let go of the display (the addon closes its own connection). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.length = 0;
    await this.source.close();
  }
}

/** XFixes gives premultiplied ARGB32, which the `x11` package hands over as B,G,R,A bytes. */
function prepareCursor(img: any): CursorSprite {
  const n = img.width * img.height;
  const raw: Buffer = img.cursorImage;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * 4;
    out[s] = raw[s + 2];
    out[s + 1] = raw[s + 1];
    out[s + 2] = raw[s];
    out[s + 3] = 255 - raw[s + 3];
  }
  return { serial: img.cursorSerial, width: img.width, height: img.height, xhot: img.xhot, yhot: img.yhot, rgbInvA: out };
}
