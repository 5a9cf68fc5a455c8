import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import type { XConnection } from "../main/desktop/x11/connection.js";
import { TestDisplay } from "./support/display.js";
import { DamageFeed, DamageMonitor } from "../main/desktop/damage.js";
import { InputController } from "../main/desktop/input.js";
import type { ScreenChange } from "../main/desktop/types.js";
import { pollUntil, sleep } from "../main/shared/deadline.js";

const DISPLAY = ":63";
const XTERM = { x: 40, y: 40 };

let display: TestDisplay;
let conn: XConnection;
let feed: DamageFeed;
let monitor: DamageMonitor;
let input: InputController;

/** Waits until nothing has changed on the screen for `quietMs` (bounded), so a test starts from stillness. */
async function untilStill(quietMs: number, ms = 20_000) {
  const still = await pollUntil(async () => {
    const last = feed.lastChangeAt() ?? 0;
    return performance.now() - last >= quietMs ? true : undefined;
  }, ms, 20);
  assert.ok(still, `the screen did not stay still for ${quietMs} ms within ${ms} ms`);
}

before(async () => {
  display = await TestDisplay.start(DISPLAY, { width: 800, height: 600 });
  conn = await display.connect();
  feed = new DamageFeed();
  monitor = await DamageMonitor.create(conn, feed);
  input = await InputController.create(conn);
});

after(async () => {
  monitor?.close();
  await input?.close();
  await display?.stop();
});

test("a window appearing is a change, reported with its area", async () => {
  const seen: ScreenChange[] = [];
  const off = feed.onChange((c) => seen.push(c));
  const started = performance.now();
  // cat, not a shell: no prompt that could draw late, while typing still echoes
  display.spawn("xterm", ["-geometry", `40x10+${XTERM.x}+${XTERM.y}`, "-e", "cat"]);
  const change = await pollUntil(async () => seen.find((c) => c.rect.x >= XTERM.x - 10 && c.rect.y >= XTERM.y - 40), 15_000, 20);
  off();
  assert.ok(change, `no change reported where xterm opened (saw ${seen.length} changes)`);
  assert.ok(change.at >= started);
  assert.ok(feed.lastChangeAt()! >= change.at);
  assert.ok(feed.lastChangeAt({ x: XTERM.x, y: XTERM.y, width: 50, height: 50 })! >= started);
});

test("pointer-only motion is not a change (the cursor sprite is not in the framebuffer)", async () => {
  await untilStill(500);
  const seen: ScreenChange[] = [];
  const off = feed.onChange((c) => seen.push(c));
  // over the empty root window only: an app under the pointer may redraw on enter/leave
  // (xterm highlights its text cursor), which is a real change of its own
  for (const [x, y] of [[700, 500], [600, 550], [450, 400], [750, 80], [700, 100]] as const) {
    await input.move(x, y);
    await conn.fence();
    await sleep(30);
  }
  await sleep(300);
  off();
  assert.deepEqual(seen.map((c) => c.rect), [], "motion produced damage");
});

test("typing into xterm is a change inside its window and not in a region elsewhere", async () => {
  await untilStill(300);
  const inXterm: ScreenChange[] = [];
  const elsewhere: ScreenChange[] = [];
  const offA = feed.onChange((c) => inXterm.push(c), { x: XTERM.x, y: XTERM.y, width: 300, height: 160 });
  const offB = feed.onChange((c) => elsewhere.push(c), { x: 600, y: 450, width: 200, height: 150 });
  await input.click(XTERM.x + 60, XTERM.y + 60, "left", 1);
  await input.typeText("echo hi", 0);
  const got = await pollUntil(async () => (inXterm.length > 0 ? true : undefined), 10_000, 20);
  await sleep(200);
  offA();
  offB();
  assert.ok(got, "typing into xterm produced no change in its area");
  assert.deepEqual(elsewhere, []);
});
