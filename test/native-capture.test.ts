// The native capture addon (native/capture.c) against a real Xvfb with an xterm on it: it
// sees the same pixels as the pure-JS path, crops regions exactly, draws the cursor where
// the pointer is, and a frozen or killed X server gives a JS error, never a hang or a
// dead process. Displays :520-:522.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { ScreenCapture } from "../main/desktop/capture.js";
import { loadNativeCapture, NATIVE_CAPTURE_ENV } from "../main/desktop/native-capture.js";
import type { Rect, RgbFrame } from "../main/desktop/types.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { sleep } from "../main/shared/deadline.js";
import type { XConnection } from "../main/desktop/x11/connection.js";
import { eventually } from "./support/server.js";
import { TestDisplay } from "./support/display.js";

const W = 1024;
const H = 768;
const POINTER = { x: 300, y: 200 }; // over the xterm's text

async function grab(cap: ScreenCapture, rect: Rect, showCursor = false): Promise<RgbFrame> {
  const frame = await cap.capture(rect, { showCursor });
  try {
    return { data: Buffer.from(frame.data), width: frame.width, height: frame.height };
  } finally {
    frame.release();
  }
}

function crop(frame: RgbFrame, r: Rect): Buffer {
  const out = Buffer.alloc(r.width * r.height * 3);
  for (let row = 0; row < r.height; row++) {
    const start = ((r.y + row) * frame.width + r.x) * 3;
    frame.data.copy(out, row * r.width * 3, start, start + r.width * 3);
  }
  return out;
}

async function movePointer(conn: XConnection, x: number, y: number): Promise<void> {
  const xtest = await conn.ext("xtest");
  xtest.FakeInput(6, 0, 0, conn.screen.root, x, y); // 6 = MotionNotify
  await conn.fence();
}

function xvfbPid(display: string): number {
  return Number(readFileSync(`/tmp/.X${display.slice(1)}-lock`, "utf8").trim());
}

/** A killed Xvfb leaves its lock and socket behind; a stale socket would look like a live server. */
function removeStaleDisplay(display: string): void {
  const lock = `/tmp/.X${display.slice(1)}-lock`;
  if (existsSync(lock)) {
    try {
      process.kill(xvfbPid(display), 0);
      return; // alive: TestDisplay.start reports it as in use
    } catch {
      rmSync(lock, { force: true });
    }
  }
  rmSync(`/tmp/.X11-unix/X${display.slice(1)}`, { force: true });
}

const FULL: Rect = { x: 0, y: 0, width: W, height: H };

describe("native capture on a still screen with text", { timeout: 120_000 }, () => {
  let display: TestDisplay;
  let conn: XConnection;
  let native: ScreenCapture;
  let js: ScreenCapture;

  before(async () => {
    display = await TestDisplay.start(":520", { width: W, height: H });
    display.spawn("xterm", ["-geometry", "100x40+10+10", "-e", "sh", "-c", "ls -la /usr/bin; sleep 600"]);
    conn = await display.connect();
    await movePointer(conn, POINTER.x, POINTER.y);
    native = await ScreenCapture.create(conn);
    js = await ScreenCapture.create(conn, { native: false });
  });

  after(async () => {
    await native?.close();
    await js?.close();
    await display?.stop();
  });

  it("loads the addon and uses it first; the environment switch turns it off", async () => {
    assert.ok(loadNativeCapture(), "native/build/Release/glasspane_capture.node is built and loads");
    assert.equal(native.path, "native-shm");
    assert.equal(js.path, "x11-shm");
    process.env[NATIVE_CAPTURE_ENV] = "0";
    try {
      const switchedOff = await ScreenCapture.create(conn);
      assert.equal(switchedOff.path, "x11-shm");
      await switchedOff.close();
    } finally {
      delete process.env[NATIVE_CAPTURE_ENV];
    }
  });

  it("captures exactly the pixels the pure-JS path captures, full screen and regions, cursor or not", async () => {
    // the xterm is still once its listing has been drawn
    await eventually("the xterm listing to be on screen and still", async () => {
      const a = await grab(native, FULL);
      const b = await grab(js, FULL);
      return a.data.equals(b.data) && a.data.some((v, i) => v !== a.data[i % 3]); // not a blank screen
    }, 15_000, 200);
    for (const r of [
      { x: 0, y: 0, width: 1, height: 1 },
      { x: 13, y: 17, width: 401, height: 299 },
      { x: W - 7, y: H - 5, width: 7, height: 5 },
    ]) {
      const a = await grab(native, r);
      const b = await grab(js, r);
      assert.ok(a.data.equals(b.data), `region ${JSON.stringify(r)} differs between the paths`);
    }
    const near: Rect = { x: POINTER.x - 20, y: POINTER.y - 20, width: 50, height: 50 };
    assert.ok((await grab(native, near, true)).data.equals((await grab(js, near, true)).data), "the cursor blends differ");
  });

  it("captures a region equal to the crop of a full capture", async () => {
    const full = await grab(native, FULL);
    for (const r of [
      { x: 400, y: 300, width: 400, height: 300 },
      { x: 5, y: 0, width: 3, height: H },
      { x: 0, y: 401, width: W, height: 1 },
    ]) {
      const part = await grab(native, r);
      assert.deepEqual([part.width, part.height], [r.width, r.height]);
      assert.ok(part.data.equals(crop(full, r)), `region ${JSON.stringify(r)} is not the crop`);
    }
  });

  it("draws the cursor image XFixes reports, with its hot spot at the pointer", async () => {
    const at = { x: 600, y: 500 };
    await movePointer(conn, at.x, at.y);
    const fixes = await conn.ext("fixes");
    const cursor = await conn.call<any>("GetCursorImage", (cb) => fixes.GetCursorImage(cb));
    assert.deepEqual([cursor.x, cursor.y], [at.x, at.y]);
    const r: Rect = { x: at.x - 30, y: at.y - 30, width: 60, height: 60 };
    const plain = await grab(native, r);
    const drawn = await grab(native, r, true);
    const left = at.x - cursor.xhot - r.x;
    const top = at.y - cursor.yhot - r.y;
    let opaque = 0;
    for (let cy = 0; cy < cursor.height; cy++) {
      for (let cx = 0; cx < cursor.width; cx++) {
        const s = (cy * cursor.width + cx) * 4;
        const [b, g, red, a] = cursor.cursorImage.subarray(s, s + 4);
        const i = ((top + cy) * r.width + left + cx) * 3;
        const under = plain.data.subarray(i, i + 3);
        const expected = [red, g, b].map((c, k) => Math.min(255, c + Math.floor((under[k]! * (255 - a) + 127) / 255)));
        assert.deepEqual([...drawn.data.subarray(i, i + 3)], expected, `cursor pixel ${cx},${cy}`);
        if (a === 255) opaque++;
      }
    }
    assert.ok(opaque > 10, "the cursor has opaque pixels");
    assert.ok(!drawn.data.equals(plain.data), "the cursor changed the capture");
    await movePointer(conn, POINTER.x, POINTER.y);
  });
});

describe("native capture when the X server freezes or dies", { timeout: 120_000 }, () => {
  let display: TestDisplay;
  let conn: XConnection;
  let native: ScreenCapture;

  before(async () => {
    removeStaleDisplay(":521");
    display = await TestDisplay.start(":521", { width: 640, height: 480, wm: false });
    conn = await display.connect();
    native = await ScreenCapture.create(conn);
    assert.equal(native.path, "native-shm");
  });

  after(async () => {
    await native?.close();
    await display?.stop();
    removeStaleDisplay(":521");
  });

  it("gives a 504 while Xvfb is frozen, keeps the event loop running, and works again after", async () => {
    const pid = xvfbPid(":521");
    process.kill(pid, "SIGSTOP");
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const started = Date.now();
      await assert.rejects(native.capture({ x: 0, y: 0, width: 640, height: 480 }, { showCursor: true }), (err: unknown) => {
        assert.ok(err instanceof GlasspaneError);
        assert.equal(err.code, "timeout");
        assert.equal(err.status, 504);
        return true;
      });
      const waited = Date.now() - started;
      assert.ok(ticks > waited / 10 / 4, `the event loop ran while the worker waited on X (${ticks} ticks in ${waited} ms)`);
    } finally {
      clearInterval(ticker);
      process.kill(pid, "SIGCONT");
    }
    await eventually("captures to work again", async () => {
      const f = await grab(native, { x: 0, y: 0, width: 10, height: 10 }).catch(() => undefined);
      return f?.width === 10;
    }, 10_000, 100);
  });

  it("rejects with a JS error when Xvfb is killed under it, and the process lives on", async () => {
    const lost = new Promise((r) => conn.once("close", r));
    process.kill(xvfbPid(":521"), "SIGKILL");
    await lost;
    await assert.rejects(native.capture({ x: 0, y: 0, width: 640, height: 480 }, { showCursor: true }), (err: unknown) => {
      assert.ok(err instanceof GlasspaneError, `got ${err}`);
      assert.equal(err.code, "x11_error");
      assert.match(err.message, /lost/);
      return true;
    });
    // and again: a dead handle answers at once, without touching Xlib
    await assert.rejects(native.capture({ x: 0, y: 0, width: 1, height: 1 }, { showCursor: false }), /lost/);
    await native.close();
    await sleep(50);
    assert.ok(process.pid > 0, "still alive");
  });

  it("the raw addon rejects opening a display that does not exist", async () => {
    const addon = loadNativeCapture()!;
    await assert.rejects(addon.open(":522"), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, "ERR_X_CAPTURE");
      assert.match(err.message, /cannot open X display :522/);
      return true;
    });
  });
});
