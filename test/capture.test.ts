import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { ScreenCapture, toRgb, type CapturedFrame } from "../main/desktop/capture.js";
import { blankFrame, clipRect, contentTypes, encodeFrame, scaledSize } from "../main/desktop/encode.js";
import type { Rect, RgbFrame } from "../main/desktop/types.js";
import type { XConnection } from "../main/desktop/x11/connection.js";
import { TestDisplay } from "./support/display.js";

const DISPLAY = ":63";
const W = 1280;
const H = 800;
const TEST_TIMEOUT = 30_000;

type Rgb = [number, number, number];
const BACKGROUND: Rgb = [0x2d, 0x4f, 0x6c];
// Colours with distinct R and B, so a channel swap cannot go unnoticed.
const SCENE: { rect: Rect; rgb: Rgb }[] = [
  { rect: { x: 100, y: 100, width: 200, height: 150 }, rgb: [200, 50, 20] },
  { rect: { x: 400, y: 300, width: 301, height: 201 }, rgb: [20, 100, 200] },
  { rect: { x: 0, y: 0, width: 5, height: 5 }, rgb: [255, 255, 0] },
  { rect: { x: W - 3, y: H - 3, width: 3, height: 3 }, rgb: [255, 0, 255] },
  // one-pixel columns make a region crop off by one visible
  { rect: { x: 900, y: 50, width: 1, height: 400 }, rgb: [1, 2, 3] },
  { rect: { x: 901, y: 50, width: 1, height: 400 }, rgb: [250, 128, 7] },
];
/** Where the pointer rests for the cursor tests: plain background all around. */
const POINTER = { x: 640, y: 700 };

let display: TestDisplay;
let app: XConnection; // owns the scene windows and moves the pointer
let conn: XConnection; // what the runtime would hold
let native: ScreenCapture;
let shm: ScreenCapture;
let core: ScreenCapture;
const byPath = (which: string) => (which === "native-shm" ? native : which === "x11-shm" ? shm : core);

function pixelOf(rgb: Rgb): number {
  return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
}

function pixelAt(frame: RgbFrame, x: number, y: number): Rgb {
  const i = (y * frame.width + x) * 3;
  return [frame.data[i], frame.data[i + 1], frame.data[i + 2]];
}

function crop(frame: RgbFrame, r: Rect): Buffer {
  const out = Buffer.alloc(r.width * r.height * 3);
  for (let row = 0; row < r.height; row++) {
    const start = ((r.y + row) * frame.width + r.x) * 3;
    frame.data.copy(out, row * r.width * 3, start, start + r.width * 3);
  }
  return out;
}

/** Captures and copies out, so the assertion does not depend on the pooled buffer. */
async function grab(cap: ScreenCapture, rect: Rect, showCursor = false): Promise<RgbFrame> {
  const frame = await cap.capture(rect, { showCursor });
  try {
    return { data: Buffer.from(frame.data), width: frame.width, height: frame.height };
  } finally {
    frame.release();
  }
}

const FULL: Rect = { x: 0, y: 0, width: W, height: H };

async function movePointer(x: number, y: number): Promise<void> {
  const xtest = await app.ext("xtest");
  xtest.FakeInput(6, 0, 0, app.screen.root, x, y); // 6 = MotionNotify
  await app.fence();
  const pos = await app.call<any>("QueryPointer", (cb) => app.X.QueryPointer(app.screen.root, cb));
  assert.deepEqual([pos.rootX, pos.rootY], [x, y], "pointer did not move");
}

describe("screen capture against Xvfb", { timeout: 120_000 }, () => {
  before(async () => {
    display = await TestDisplay.start(DISPLAY, { width: W, height: H, wm: false });
    app = await display.connect();
    conn = await display.connect();

    const X = app.X;
    X.ChangeWindowAttributes(app.screen.root, { backgroundPixel: pixelOf(BACKGROUND) });
    X.ClearArea(app.screen.root, 0, 0, 0, 0, 0);
    for (const { rect, rgb } of SCENE) {
      const wid = X.AllocID();
      X.CreateWindow(wid, app.screen.root, rect.x, rect.y, rect.width, rect.height, 0, 0, 0, 0, {
        backgroundPixel: pixelOf(rgb),
        overrideRedirect: 1,
      });
      X.MapWindow(wid);
    }
    await app.fence();
    await movePointer(POINTER.x, POINTER.y);

    native = await ScreenCapture.create(conn);
    shm = await ScreenCapture.create(conn, { native: false });
    core = await ScreenCapture.create(conn, { forceCore: true });
  });

  after(async () => {
    await native?.close();
    await shm?.close();
    await core?.close();
    await display?.stop();
  });

  it("picks the native addon on a local Xvfb, then the x11 MIT-SHM and core GetImage paths when told", { timeout: TEST_TIMEOUT }, () => {
    assert.equal(native.path, "native-shm", "the addon is built (npm run build:native) and loads");
    assert.ok(native.cursorSupported);
    assert.equal(shm.path, "x11-shm");
    assert.equal(core.path, "x11-getimage");
    assert.equal(shm.width, W);
    assert.equal(shm.height, H);
    assert.ok(shm.cursorSupported);
  });

  for (const which of ["native-shm", "x11-shm", "x11-getimage"]) {
    it(`${which}: full capture has screen size and the known colours at known places`, { timeout: TEST_TIMEOUT }, async () => {
      const cap = byPath(which);
      const frame = await grab(cap, FULL);
      assert.equal(frame.width, W);
      assert.equal(frame.height, H);
      assert.equal(frame.data.length, W * H * 3);
      assert.deepEqual(pixelAt(frame, 640, 50), BACKGROUND);
      assert.deepEqual(pixelAt(frame, 1200, 790), BACKGROUND);
      for (const { rect, rgb } of SCENE) {
        const corners: [number, number][] = [
          [rect.x, rect.y],
          [rect.x + rect.width - 1, rect.y + rect.height - 1],
          [rect.x + (rect.width >> 1), rect.y + (rect.height >> 1)],
        ];
        for (const [x, y] of corners) assert.deepEqual(pixelAt(frame, x, y), rgb, `pixel at ${x},${y}`);
      }
      // just outside the first window
      assert.deepEqual(pixelAt(frame, 99, 100), BACKGROUND);
      assert.deepEqual(pixelAt(frame, 300, 249), BACKGROUND);
    });
  }

  it("region captures equal the same crop of a full capture", { timeout: TEST_TIMEOUT }, async () => {
    const full = await grab(shm, FULL);
    const regions: Rect[] = [
      { x: 0, y: 0, width: 1, height: 1 },
      { x: 899, y: 40, width: 5, height: 3 }, // 15 pixels: not a multiple of 4
      { x: 95, y: 97, width: 37, height: 23 },
      { x: 290, y: 240, width: 401, height: 301 },
      { x: W - 10, y: H - 7, width: 10, height: 7 },
      { x: 0, y: 399, width: W, height: 1 },
      { x: 901, y: 0, width: 1, height: H },
    ];
    for (const cap of [native, shm, core]) {
      for (const r of regions) {
        const frame = await grab(cap, r);
        assert.equal(frame.width, r.width);
        assert.equal(frame.height, r.height);
        assert.ok(frame.data.equals(crop(full, r)), `${cap.path} region ${JSON.stringify(r)} differs from the crop`);
      }
    }
  });

  it("the addon, MIT-SHM and core GetImage give identical pixels, with and without the cursor", { timeout: TEST_TIMEOUT }, async () => {
    const a = await grab(native, FULL);
    const b = await grab(shm, FULL);
    const c = await grab(core, FULL);
    assert.ok(a.data.equals(b.data), "native-shm and x11-shm differ");
    assert.ok(b.data.equals(c.data), "x11-shm and x11-getimage differ");
    const near: Rect = { x: POINTER.x - 30, y: POINTER.y - 30, width: 60, height: 60 };
    const d = await grab(native, near, true);
    const e = await grab(shm, near, true);
    assert.ok(d.data.equals(e.data), "the cursor blends differ between C and JS");
  });

  it("frames in flight keep their own buffers; released buffers are reused", { timeout: TEST_TIMEOUT }, async () => {
    const rects = SCENE.slice(0, 3).map((s) => s.rect);
    const frames: CapturedFrame[] = await Promise.all(rects.map((r) => shm.capture(r, { showCursor: false })));
    frames.forEach((f, i) => {
      assert.equal(f.width, rects[i].width);
      assert.deepEqual(pixelAt(f, 0, 0), SCENE[i].rgb);
      assert.deepEqual(pixelAt(f, f.width - 1, f.height - 1), SCENE[i].rgb);
    });
    assert.equal(new Set(frames.map((f) => f.data.buffer)).size, frames.length, "leased frames share a buffer");
    const first = frames[0].data.buffer;
    for (const f of frames) f.release();
    frames[0].release(); // idempotent
    const again = await shm.capture(FULL, { showCursor: false });
    assert.equal(again.data.buffer, first, "released buffer was not reused");
    again.release();
  });

  it("rejects regions outside the screen (callers clip first)", { timeout: TEST_TIMEOUT }, async () => {
    for (const r of [
      { x: W - 5, y: 0, width: 10, height: 10 },
      { x: -1, y: 0, width: 10, height: 10 },
      { x: 0, y: 0, width: 0, height: 10 },
      { x: 0.5, y: 0, width: 10, height: 10 },
    ]) {
      await assert.rejects(shm.capture(r, { showCursor: false }), /not inside/);
    }
  });

  it("toRgb: word-at-a-time and byte paths agree with a naive conversion", () => {
    const naive = (src: Buffer, n: number, l: { r: number; g: number; b: number }) => {
      const out = Buffer.alloc(n * 3);
      for (let i = 0; i < n; i++) out.set([src[i * 4 + l.r], src[i * 4 + l.g], src[i * 4 + l.b]], i * 3);
      return out;
    };
    const bgrx = { r: 2, g: 1, b: 0 };
    for (const n of [1, 3, 4, 5, 15, 1027]) {
      const backing = Buffer.allocUnsafeSlow(n * 4 + 8);
      for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
      for (const [src, layout] of [
        [backing.subarray(0, n * 4), bgrx], // aligned: word path
        [backing.subarray(1, 1 + n * 4), bgrx], // unaligned: byte path
        [backing.subarray(0, n * 4), { r: 1, g: 2, b: 3 }], // XRGB as an MSB-first server sends it
      ] as const) {
        const out = Buffer.allocUnsafeSlow(n * 3 + 5);
        toRgb(src, out, n, layout);
        assert.ok(out.subarray(0, n * 3).equals(naive(src, n, layout)), `n=${n} offset=${src.byteOffset} ${JSON.stringify(layout)}`);
      }
    }
  });

  it("clipRect clips partly off-screen regions and drops invisible ones", () => {
    assert.deepEqual(clipRect({ x: 1240, y: 0, width: 100, height: 10 }, W, H), { x: 1240, y: 0, width: 40, height: 10 });
    assert.deepEqual(clipRect({ x: -20, y: -5, width: 30, height: 10 }, W, H), { x: 0, y: 0, width: 10, height: 5 });
    assert.deepEqual(clipRect({ x: 0, y: 0, width: 5000, height: 5000 }, W, H), FULL);
    assert.equal(clipRect({ x: W, y: 0, width: 10, height: 10 }, W, H), undefined);
    assert.equal(clipRect({ x: 0, y: H + 10, width: 10, height: 10 }, W, H), undefined);
    assert.equal(clipRect({ x: 10, y: 10, width: 0, height: 10 }, W, H), undefined);
  });

  it("encodeFrame: PNG and lossless WebP round-trip exactly; JPEG has the right size", { timeout: TEST_TIMEOUT }, async () => {
    const region = { x: 90, y: 90, width: 320, height: 240 };
    const frame = await shm.capture(region, { showCursor: false });
    try {
      for (const format of ["png", "webp"] as const) {
        const img = await encodeFrame(frame, { format, quality: 100, scale: 1 });
        const { data, info } = await sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        assert.equal(info.format, "raw");
        assert.deepEqual([info.width, info.height, info.channels], [320, 240, 3]);
        assert.ok(data.equals(frame.data), `${format} did not round-trip`);
      }
      const jpeg = await encodeFrame(frame, { format: "jpeg", quality: 85, scale: 1 });
      const meta = await sharp(jpeg).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 320, 240]);
      const lossy = await encodeFrame(frame, { format: "webp", quality: 75, scale: 1 });
      assert.equal((await sharp(lossy).metadata()).format, "webp");
      assert.equal(lossy.subarray(12, 16).toString("latin1"), "VP8 ");
    } finally {
      frame.release();
    }
  });

  it("encodeFrame scales to round(w*scale) x round(h*scale) in every format", { timeout: TEST_TIMEOUT }, async () => {
    const frame = await shm.capture({ x: 0, y: 0, width: 401, height: 301 }, { showCursor: false });
    try {
      for (const format of ["png", "jpeg", "webp"] as const) {
        for (const [scale, w, h] of [
          [0.5, 201, 151],
          [0.1, 40, 30],
          [1, 401, 301],
        ] as const) {
          const img = await encodeFrame(frame, { format, quality: 80, scale });
          const meta = await sharp(img).metadata();
          assert.deepEqual([meta.format, meta.width, meta.height], [format, w, h], `${format} at scale ${scale}`);
        }
      }
      const full = await shm.capture(FULL, { showCursor: false });
      try {
        const meta = await sharp(await encodeFrame(full, { format: "png", quality: 85, scale: 0.5 })).metadata();
        assert.deepEqual([meta.width, meta.height], [W / 2, H / 2]);
      } finally {
        full.release();
      }
    } finally {
      frame.release();
    }
    assert.equal(scaledSize(1, 0.1), 1);
    assert.equal(scaledSize(401, 0.5), 201);
    assert.deepEqual(contentTypes, { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" });
    const blank = await sharp(await encodeFrame(blankFrame(), { format: "png", quality: 85, scale: 0.1 })).metadata();
    assert.deepEqual([blank.width, blank.height], [1, 1]);
  });

  for (const which of ["native-shm", "x11-shm", "x11-getimage"]) {
    it(`${which}: showCursor composites the real cursor at the pointer, clipped to the region`, { timeout: TEST_TIMEOUT }, async () => {
      const cap = byPath(which);
      await movePointer(POINTER.x, POINTER.y);
      const fixes = await app.ext("fixes");
      const cursor = await app.call<any>("GetCursorImage", (cb) => fixes.GetCursorImage(cb));
      assert.deepEqual([cursor.x, cursor.y], [POINTER.x, POINTER.y]);
      assert.ok(cursor.width > 0 && cursor.height > 0);

      const r: Rect = { x: POINTER.x - 40, y: POINTER.y - 40, width: 80, height: 80 };
      const plain = await grab(cap, r, false);
      for (let i = 0; i < plain.data.length; i += 3) {
        assert.deepEqual([plain.data[i], plain.data[i + 1], plain.data[i + 2]], BACKGROUND, "the capture itself contains no cursor");
      }
      const withCursor = await grab(cap, r, true);
      let changed = 0;
      for (let i = 0; i < plain.data.length; i += 3) if (!plain.data.subarray(i, i + 3).equals(withCursor.data.subarray(i, i + 3))) changed++;
      assert.ok(changed > 10, `only ${changed} pixels changed around the pointer`);

      // every cursor pixel lands where XFixes says, blended over the background
      const left = POINTER.x - cursor.xhot - r.x;
      const top = POINTER.y - cursor.yhot - r.y;
      for (let cy = 0; cy < cursor.height; cy++) {
        for (let cx = 0; cx < cursor.width; cx++) {
          const s = (cy * cursor.width + cx) * 4;
          const [b, g, rr, a] = cursor.cursorImage.subarray(s, s + 4);
          const expected = [rr, g, b].map((c, k) => Math.min(255, c + Math.floor((BACKGROUND[k] * (255 - a) + 127) / 255)));
          assert.deepEqual(pixelAt(withCursor, left + cx, top + cy), expected, `cursor pixel ${cx},${cy}`);
        }
      }
      // nothing outside the cursor's box changed
      for (let y = 0; y < r.height; y++) {
        for (let x = 0; x < r.width; x++) {
          if (x >= left && x < left + cursor.width && y >= top && y < top + cursor.height) continue;
          assert.deepEqual(pixelAt(withCursor, x, y), BACKGROUND, `pixel ${x},${y} outside the cursor`);
        }
      }

      // a region holding only part of the cursor, and one that misses it entirely
      const partial = await grab(cap, { x: POINTER.x, y: POINTER.y, width: 30, height: 30 }, true);
      assert.deepEqual(partial.data.subarray(0, 3 * 2), withCursor.data.subarray((40 * 80 + 40) * 3, (40 * 80 + 42) * 3));
      const away = await grab(cap, { x: 10, y: 600, width: 20, height: 20 }, true);
      assert.ok(away.data.every((v, i) => v === BACKGROUND[i % 3]));
    });
  }

  it("showCursor with the pointer in the top-left corner clips the cursor at the screen edge", { timeout: TEST_TIMEOUT }, async () => {
    await movePointer(0, 0);
    try {
      const frame = await grab(shm, { x: 0, y: 0, width: 40, height: 40 }, true);
      const plain = await grab(shm, { x: 0, y: 0, width: 40, height: 40 }, false);
      assert.equal(frame.data.length, 40 * 40 * 3);
      assert.ok(!frame.data.equals(plain.data), "cursor at 0,0 not drawn");
    } finally {
      await movePointer(POINTER.x, POINTER.y);
    }
  });
});
