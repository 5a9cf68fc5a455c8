import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import x11 from "x11";
import type { XConnection } from "../main/desktop/x11/connection.js";
import { TestDisplay } from "./support/display.js";
import { Clipboard } from "../main/desktop/clipboard.js";
import { WindowManager } from "../main/desktop/windows.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { pollUntil, sleep } from "../main/shared/deadline.js";
import type { WindowInfo } from "../main/desktop/types.js";

const DISPLAY = ":62";
const UNICODE = "héllo € 漢字";

let display: TestDisplay;
let conn: XConnection;
let clipboard: Clipboard;
let wm: WindowManager;
let xterm: ChildProcess;

/** Runs a short-lived X client and returns its stdout; rejects on a non-zero exit or after `ms`. */
function run(cmd: string, args: string[], ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: display.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} took longer than ${ms} ms`));
    }, ms);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString()}`));
    });
  });
}

const selectionOwner = async (selection: "clipboard" | "primary") => {
  const atom = await conn.atom(selection.toUpperCase());
  return conn.call<number>("GetSelectionOwner", (cb) => conn.X.GetSelectionOwner(atom, cb));
};

/**
 * `xclip -i` forks a daemon that keeps serving the selection and inherits stdout/stderr,
 * so only stdin is a pipe and we wait for the parent's 'exit', never for 'close'. The
 * parent may exit before the daemon owns the selection, so we also wait for the owner change.
 */
async function xclipSet(text: string, selection: "clipboard" | "primary", ms = 5000): Promise<void> {
  const before = await selectionOwner(selection);
  await xclipSpawn(text, selection, ms);
  const changed = await pollUntil(async () => ((await selectionOwner(selection)) !== before ? true : undefined), ms, 10);
  assert.ok(changed, `xclip did not take the ${selection} selection within ${ms} ms`);
}

function xclipSpawn(text: string, selection: "clipboard" | "primary", ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xclip", ["-i", "-selection", selection], { env: display.env, stdio: ["pipe", "ignore", "ignore"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`xclip -i took longer than ${ms} ms`));
    }, ms);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`xclip -i exited ${code}`));
    });
    child.stdin!.end(text);
  });
}

const xclipGet = async (selection: "clipboard" | "primary", target?: string) =>
  (await run("xclip", ["-o", "-selection", selection, ...(target ? ["-t", target] : [])])).toString("utf8");

async function xwininfo(id: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const text = (await run("xwininfo", ["-id", id])).toString();
  const num = (label: string) => {
    const m = new RegExp(`${label}:\\s+(-?\\d+)`).exec(text);
    assert.ok(m, `xwininfo has no "${label}"`);
    return Number(m[1]);
  };
  return { x: num("Absolute upper-left X"), y: num("Absolute upper-left Y"), width: num("Width"), height: num("Height") };
}

const open = () => display.connect();

async function waitForWindow(title: string): Promise<WindowInfo> {
  const w = await pollUntil(async () => (await wm.listAll()).find((w) => w.title === title), 10_000, 50);
  assert.ok(w, `no window titled ${title} appeared within 10 s`);
  return w;
}

async function rejectsWith(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof GlasspaneError, `expected a GlasspaneError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    return true;
  });
}

before(async () => {
  display = await TestDisplay.start(DISPLAY, { width: 1280, height: 800 });
  conn = await open();
  clipboard = await Clipboard.create(conn);
  wm = new WindowManager(conn);
  xterm = display.spawn("xterm", ["-title", "gp-test", "-geometry", "80x24+40+40"]);
  await waitForWindow("gp-test");
});

after(async () => {
  clipboard?.close();
  await display?.stop();
});

// ---- clipboard ----

test("clipboard: set in-process, read by xclip (clipboard and primary)", { timeout: 30_000 }, async () => {
  await clipboard.set(UNICODE, "clipboard");
  assert.equal(await xclipGet("clipboard"), UNICODE);

  await clipboard.set("primary " + UNICODE, "primary");
  assert.equal(await xclipGet("primary"), "primary " + UNICODE);
  assert.equal(await xclipGet("clipboard"), UNICODE, "setting primary must not touch clipboard");

  await clipboard.set("both " + UNICODE, "both");
  assert.equal(await xclipGet("clipboard"), "both " + UNICODE);
  assert.equal(await xclipGet("primary"), "both " + UNICODE);
  assert.equal(await clipboard.get("clipboard"), "both " + UNICODE);
});

test("clipboard: targets TARGETS, STRING, TEXT, text/plain;charset=utf-8", { timeout: 30_000 }, async () => {
  await clipboard.set(UNICODE, "clipboard");
  const targets = (await xclipGet("clipboard", "TARGETS")).split("\n").map((t) => t.trim());
  for (const t of ["TARGETS", "UTF8_STRING", "STRING", "TEXT", "text/plain;charset=utf-8"]) assert.ok(targets.includes(t), `TARGETS lacks ${t}`);
  assert.equal((await run("xclip", ["-o", "-selection", "clipboard", "-t", "STRING"])).toString("latin1"), "héllo ? ??");
  assert.equal(await xclipGet("clipboard", "TEXT"), UNICODE);
  assert.equal(await xclipGet("clipboard", "text/plain;charset=utf-8"), UNICODE);
  await assert.rejects(xclipGet("clipboard", "image/png"), "an unsupported target must be refused");
});

test("clipboard: set by xclip, read in-process (clipboard and primary)", { timeout: 30_000 }, async () => {
  await clipboard.set("ours", "both");
  await xclipSet(UNICODE, "clipboard");
  assert.equal(await clipboard.get("clipboard"), UNICODE);
  await xclipSet("sel " + UNICODE, "primary");
  assert.equal(await clipboard.get("primary"), "sel " + UNICODE);
  assert.equal(await clipboard.get("clipboard"), UNICODE);
  // taking it back after losing it
  await clipboard.set("again", "clipboard");
  assert.equal(await clipboard.get("clipboard"), "again");
  assert.equal(await xclipGet("clipboard"), "again");
});

test("clipboard: large texts go through INCR in both directions", { timeout: 60_000 }, async () => {
  const big = ("0123456789abcdef€漢" + "x".repeat(45)).repeat(20_000) + "END"; // ~1.3 MB of UTF-8
  await clipboard.set(big, "clipboard");
  const viaXclip = await run("xclip", ["-o", "-selection", "clipboard"], 20_000);
  assert.equal(viaXclip.length, Buffer.byteLength(big));
  assert.ok(viaXclip.toString("utf8") === big, "xclip read a different text");

  const other = big.replaceAll("x", "y");
  await xclipSet(other, "clipboard", 20_000);
  const back = await clipboard.get("clipboard");
  assert.equal(back.length, other.length);
  assert.ok(back === other, "read a different text from xclip");
});

test("clipboard: no owner gives an empty string, a silent owner times out", { timeout: 30_000 }, async () => {
  // A second Clipboard takes PRIMARY and closes: destroying its window leaves no owner.
  const other = await Clipboard.create(await open());
  await other.set("short-lived", "primary");
  assert.equal(await clipboard.get("primary"), "short-lived");
  other.close();
  await sleep(50);
  assert.equal(await clipboard.get("primary"), "");

  // An owner that never answers SelectionRequest.
  const mute = await open();
  const wid = mute.X.AllocID();
  mute.X.CreateWindow(wid, mute.screen.root, 0, 0, 1, 1, 0, 0, x11.InputOnly, 0, {});
  mute.X.SetSelectionOwner(wid, await mute.atom("CLIPBOARD"), 0);
  await mute.fence();
  const t0 = Date.now();
  await rejectsWith(clipboard.get("clipboard"), 504, "timeout");
  assert.ok(Date.now() - t0 < 6000, "the timeout took too long");
  mute.X.DestroyWindow(wid);
  await mute.fence();
  assert.equal(await clipboard.get("clipboard"), "");
});

test("clipboard: rejects texts above the size limit", async () => {
  await rejectsWith(clipboard.set("x".repeat(17 * 1024 * 1024), "clipboard"), 400, "invalid_request");
});

// ---- windows ----

test("windows: list has the xterm with its title, geometry and pid", { timeout: 30_000 }, async () => {
  const listed = await wm.list();
  const w = listed.find((w) => w.title === "gp-test");
  assert.ok(w, `xterm missing from ${JSON.stringify(listed)}`);
  assert.match(w.id, /^\d+$/);
  assert.ok(w.width >= 120 && w.height >= 80);
  const real = await xwininfo(w.id);
  assert.deepEqual({ x: w.x, y: w.y, width: w.width, height: w.height }, real);
  assert.deepEqual(await wm.get(w.id), w);
  assert.ok((await wm.windowsOfPid(xterm.pid!)).includes(w.id));
  assert.deepEqual(await wm.windowsOfPid(1), []);
});

test("windows: move and resize report the real geometry", { timeout: 30_000 }, async () => {
  const w = await waitForWindow("gp-test");

  const moved = await wm.move(w.id, 200, 150);
  assert.equal(moved.x, 200);
  assert.equal(moved.y, 150);
  assert.equal(moved.width, w.width);
  assert.equal(moved.height, w.height);
  assert.deepEqual(await xwininfo(w.id), { x: moved.x, y: moved.y, width: moved.width, height: moved.height });

  const resized = await wm.resize(w.id, 640, 400);
  // xterm's size hints round to whole character cells
  assert.ok(Math.abs(resized.width - 640) < 20, `width ${resized.width}`);
  assert.ok(Math.abs(resized.height - 400) < 30, `height ${resized.height}`);
  assert.equal(resized.x, 200, "resizing must keep the client origin");
  assert.equal(resized.y, 150, "resizing must keep the client origin");
  assert.deepEqual(await xwininfo(w.id), { x: resized.x, y: resized.y, width: resized.width, height: resized.height });

  const negative = await wm.move(w.id, -20, 60);
  assert.deepEqual(await xwininfo(w.id), { x: negative.x, y: negative.y, width: negative.width, height: negative.height });

  await rejectsWith(wm.resize(w.id, 0, 100), 400, "invalid_request");
  await rejectsWith(wm.move(w.id, 1.5, 2), 400, "invalid_request");
});

test("windows: focus switches the active window", { timeout: 30_000 }, async () => {
  display.spawn("xterm", ["-title", "gp-test-2", "-geometry", "60x20+500+300"]);
  const second = await waitForWindow("gp-test-2");
  const first = await waitForWindow("gp-test");
  // openbox gives a newly mapped window the focus a moment after it is listed; let that
  // happen first, or it lands after our focus call and takes the focus back
  await pollUntil(async () => ((await wm.focused())?.id === second.id ? true : undefined), 2000, 25);

  const a = await wm.focus(first.id);
  assert.equal(a.isActive, true);
  assert.equal((await wm.focused())?.id, first.id);
  const b = await wm.focus(second.id);
  assert.equal(b.isActive, true);
  assert.equal((await wm.focused())?.id, second.id);
  const all = await wm.listAll();
  assert.deepEqual(
    all.filter((w) => w.isActive).map((w) => w.id),
    [second.id],
  );
  // stacking order is bottom to top, and focus raised the second xterm
  assert.equal(all.at(-1)?.id, second.id);
});

test("windows: unknown or malformed ids are 404 window_not_found", async () => {
  for (const id of ["notanumber", "0x123", "999999999", "0", "", "-1", "12abc", String(conn.screen.root)]) {
    await rejectsWith(wm.get(id), 404, "window_not_found");
  }
  await rejectsWith(wm.focus("123456789"), 404, "window_not_found");
  await rejectsWith(wm.move("abc", 1, 1), 404, "window_not_found");
});
