import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { XConnection } from "../main/desktop/x11/connection.js";
import { TestDisplay } from "./support/display.js";
import { InputController } from "../main/desktop/input.js";
import { parseChord, resolveKeysym } from "../main/desktop/keys.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { pollUntil, sleep } from "../main/shared/deadline.js";

const DISPLAY = ":61";
// xterm placed here by -geometry (openbox honours a user-given position)
const XTERM_AT = { x: 40, y: 40 };

let display: TestDisplay;
let dir: string;
let typedPath: string;
let conn: XConnection;
let input: InputController;
let emptyKeycodesAtStart: number;
/** everything typed so far, which `cat` must have written to typedPath */
let expected = "";

async function must<T>(what: string, check: () => Promise<T | undefined>, ms: number): Promise<T> {
  const value = await pollUntil(check, ms, 25);
  if (value === undefined) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  return value;
}

async function xtermWindow(): Promise<number | undefined> {
  const list = await conn.getProperty(conn.screen.root, "_NET_CLIENT_LIST", "WINDOW");
  if (!list) return undefined;
  for (let i = 0; i + 4 <= list.data.length; i += 4) {
    const id = list.data.readUInt32LE(i);
    const cls = await conn.getProperty(id, "WM_CLASS", "STRING").catch(() => undefined);
    if (cls && cls.data.toString("latin1").toLowerCase().includes("xterm")) return id;
  }
  return undefined;
}

async function countEmptyKeycodes(): Promise<number> {
  const min: number = conn.displayInfo.min_keycode;
  const max: number = conn.displayInfo.max_keycode;
  const rows = await conn.call<number[][]>("GetKeyboardMapping", (cb) => conn.X.GetKeyboardMapping(min, max - min + 1, cb));
  return rows.filter((row) => row.every((s) => s === 0)).length;
}

/** Types through the controller, then waits until `cat` has written exactly what was typed. */
async function typeAndCheck(typing: () => Promise<void>, adds: string, ms = 10_000): Promise<void> {
  expected += adds;
  await typing();
  const seen = await pollUntil(async () => {
    const text = readFileSync(typedPath, "utf8");
    return text === expected ? text : undefined;
  }, ms, 25);
  assert.equal(seen ?? readFileSync(typedPath, "utf8"), expected);
}

/**
 * Waits for the pointer to reach (x, y). Right after many keymap changes openbox is busy
 * for seconds, and its click-to-focus grab holds pointer events back until it catches up.
 */
async function pointerReaches(x: number, y: number, ms = 10_000): Promise<void> {
  const p = await pollUntil(async () => {
    const at = await input.position();
    return at.x === x && at.y === y ? at : undefined;
  }, ms, 25);
  assert.deepEqual(p && [p.x, p.y], [x, y], `pointer did not reach ${x},${y}: at ${JSON.stringify(await input.position())}`);
}

async function rejectsWith400(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof GlasspaneError, `expected a GlasspaneError, got ${err}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_request");
    assert.match(err.message, message);
    return true;
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gp-input-"));
  typedPath = join(dir, "typed.txt");
  display = await TestDisplay.start(DISPLAY, { width: 1280, height: 800 });
  conn = await display.connect();
  emptyKeycodesAtStart = await countEmptyKeycodes();
  display.spawn("xterm", ["-u8", "-geometry", `80x24+${XTERM_AT.x}+${XTERM_AT.y}`, "-e", "sh", "-c", `cat > '${typedPath}'`]);
  await must("xterm's window", xtermWindow, 10_000);
  await must("cat to open its output file", async () => (existsSync(typedPath) ? true : undefined), 10_000);

  input = await InputController.create(conn);
  // openbox focuses new windows; the click makes sure even if it did not
  await input.click(XTERM_AT.x + 100, XTERM_AT.y + 80, "left", 1);
});

after(async () => {
  await input?.close().catch(() => undefined);
  await display?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("key names resolve from X keysym names, DOM names, aliases and characters", () => {
  const cases: Array<[string, number]> = [
    ["Return", 0xff0d],
    ["Enter", 0xff0d],
    ["return", 0xff0d],
    ["BackSpace", 0xff08],
    ["Backspace", 0xff08],
    ["Page_Up", 0xff55],
    ["PageDown", 0xff56],
    ["KP_0", 0xffb0],
    ["F5", 0xffc2],
    ["f24", 0xffd5],
    ["ArrowLeft", 0xff51],
    ["Escape", 0xff1b],
    ["Delete", 0xffff],
    ["Tab", 0xff09],
    ["Space", 0x20],
    [" ", 0x20],
    ["CapsLock", 0xffe5],
    ["ctrl", 0xffe3],
    ["Control", 0xffe3],
    ["Shift_L", 0xffe1],
    ["Meta", 0xffeb],
    ["super", 0xffeb],
    ["a", 0x61],
    ["A", 0x41],
    ["é", 0xe9],
    ["€", 0x010020ac],
    ["漢", 0x01006f22],
    ["Eacute", 0xc9],
    ["eacute", 0xe9],
  ];
  for (const [name, keysym] of cases) assert.equal(resolveKeysym(name), keysym, name);
  assert.deepEqual(parseChord("ctrl+shift+t"), [0xffe3, 0xffe1, 0x74]);
  assert.deepEqual(parseChord("cmd+Space"), [0xffeb, 0x20]);
  assert.deepEqual(parseChord("ctrl++"), [0xffe3, 0x2b]);
  for (const bad of ["NoSuchKey", "EACUTE", "ctrl+", ""]) {
    assert.throws(() => parseChord(bad), (err: unknown) => err instanceof GlasspaneError && err.status === 400, bad);
  }
});

test("typing Unicode and ASCII text reaches the focused xterm exactly", async () => {
  await typeAndCheck(() => input.typeText("héllo € 漢字 ñ\n"), "héllo € 漢字 ñ\n");
  const ascii = "The quick brown fox jumps over the lazy dog 123456 ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./\n";
  await typeAndCheck(() => input.typeText(ascii), ascii);
  // bindings are cached now: the same characters again, plus Tab
  await typeAndCheck(() => input.typeText("ñ € 漢字 é\tend\n"), "ñ € 漢字 é\tend\n");
});

test("typing more distinct non-keymap characters than there are spare keycodes", async () => {
  let cjk = "";
  for (let cp = 0x4e00; cjk.length < 40; cp += 7) cjk += String.fromCodePoint(cp);
  await typeAndCheck(() => input.typeText(`${cjk}\n`), `${cjk}\n`, 20_000);
  await typeAndCheck(() => input.typeText("ÆØÅ Ωμ ✓\n", 5), "ÆØÅ Ωμ ✓\n");
});

test("keys, chords, modifiers and held keys", async () => {
  await typeAndCheck(async () => {
    await input.pressKey("a", { shift: true });
    await input.pressChord("shift+b");
    await input.keyDown("Shift_L");
    await input.typeText("c");
    await input.keyUp("shift");
    await input.pressKey("d");
    await input.keyDown("e");
    await input.keyUp("e");
    await input.pressKey("Enter");
  }, "ABCde\n");
});

test("invalid keys and text are rejected with 400", async () => {
  await rejectsWith400(input.pressKey("NoSuchKey"), /unknown key name "NoSuchKey"/);
  await rejectsWith400(input.keyDown("ctrl+nope"), /unknown key name/);
  await rejectsWith400(input.typeText("bad\u0001"), /control character/);
  // nothing of the rejected text was typed
  await typeAndCheck(() => input.pressKey("Return"), "\n");
});

test("mouse moves land exactly and are clamped to the screen", async () => {
  await input.move(300, 200);
  await pointerReaches(300, 200);
  const p = await input.position();
  assert.equal(p.screen, 0);
  assert.match(String(p.window), /^\d+$/, "the pointer is over the xterm");
  await input.move(5000, 5000);
  await pointerReaches(1279, 799);
  assert.equal((await input.position()).window, null, "the corner is bare desktop");
  await rejectsWith400(input.move(-1, 10), /Desktop coordinates must be non-negative/);
  await rejectsWith400(input.move(1.5, 10), /Desktop coordinates must be non-negative/);
});

test("clicks, drags and scrolls over the xterm", async () => {
  const x = XTERM_AT.x + 120;
  const y = XTERM_AT.y + 100;
  await input.click(x, y, "left", 2);
  await input.mouseDown("left", x, y);
  await input.mouseUp("left");
  await input.drag(x, y, x + 80, y + 20, "left");
  await pointerReaches(x + 80, y + 20);
  await input.scroll(x, y, 0, -3);
  await input.scroll(x, y, 2, 1);
  await input.button(1, true);
  await input.button(1, false);
  await rejectsWith400(input.button(10, true), /X button/);
  // the xterm still takes keys after all that
  await typeAndCheck(() => input.typeText("after mouse ü\n"), "after mouse ü\n");
});

test("close restores the keycodes it bound", async () => {
  assert.ok((await countEmptyKeycodes()) < emptyKeycodesAtStart, "spare keycodes were bound while typing");
  await input.close();
  assert.equal(await countEmptyKeycodes(), emptyKeycodesAtStart);
});
