// The desktop API as a user sees it: a real `glasspane server`, a real Xvfb + openbox +
// xterm, and the published sandbox-agent SDK as the client.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { SandboxAgent, SandboxAgentError } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { expectProblem } from "./support/checks.js";

const TOKEN = "test-token-1234";
const W = 1280;
const H = 800;

let server: TestServer;
let sdk: SandboxAgent;
let display: string;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-desktop-"));

/** Runs an X client against the test desktop with a deadline (xclip, xwininfo). */
function xclient(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { env: { ...process.env, DISPLAY: display }, input, timeout: 5000, encoding: "utf8" });
}

/** Sets a selection with `xclip -i`, which stays alive to serve it and never closes its stdio. */
function xclipSet(selection: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xclip", ["-i", "-selection", selection], { env: { ...process.env, DISPLAY: display }, stdio: ["pipe", "ignore", "ignore"] });
    const timer = setTimeout(() => reject(new Error("xclip -i did not exit within 5 s")), 5000);
    child.once("error", reject);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end(text);
  });
}

async function raw(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}


async function xtermWindow(title: string) {
  const { windows } = await sdk.listDesktopWindows();
  return windows.find((w) => w.title === title);
}

before(async () => {
  server = await startServer({ token: TOKEN, env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  sdk = server.sdk;
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("auth, errors and the contract", () => {
  it("refuses requests without the right bearer token with a 401 problem", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }, { Authorization: `bearer ${TOKEN}` }] as Array<Record<string, string>>) {
      const res = await fetch(`${server.url}/v1/health`, { headers, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.equal((await res.json()).type, "urn:glasspane:error:token_invalid");
    }
    assert.deepEqual(await sdk.getHealth(), { status: "ok" });
  });

  it("serves an OpenAPI document generated from the route schemas", async () => {
    const doc = await (await server.fetch("/v1/openapi.json")).json();
    assert.equal(doc.openapi, "3.1.0");
    const click = doc.paths["/v1/desktop/mouse/click"].post;
    assert.ok(click.requestBody.content["application/json"].schema.properties.clickCount);
  });

  it("answers desktop calls while stopped with 409 desktop_not_active", async () => {
    assert.equal((await sdk.getDesktopStatus()).state, "inactive");
    await expectProblem(sdk.moveDesktopMouse({ x: 1, y: 1 }), 409, "desktop_not_active");
    await expectProblem(sdk.takeDesktopScreenshot(), 409, "desktop_not_active");
  });

  it("answers unknown routes with a 404 problem", async () => {
    const res = await server.fetch("/v1/nope");
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
  });
});

describe("a running desktop", () => {
  before(async () => {
    const status = await sdk.startDesktop({ width: W, height: H, displayNum: 140 });
    assert.equal(status.state, "active");
    display = status.display!;
  });

  it("reports its display, resolution and healthy processes", async () => {
    const status = await sdk.getDesktopStatus();
    assert.equal(status.state, "active");
    assert.match(status.display!, /^:\d+$/);
    assert.deepEqual(status.resolution, { width: W, height: H, dpi: 96 });
    // the native addon unless switched off (desktop-api-js-capture.test.ts runs this file that way)
    const expectedPath = process.env.GLASSPANE_NATIVE_CAPTURE === "0" ? "x11-shm" : "native-shm";
    assert.equal((status as { capturePath?: string }).capturePath, expectedPath);
    const names = status.processes!.map((p) => p.name);
    assert.ok(names.includes("Xvfb") && names.includes("openbox"), names.join(","));
    assert.ok(status.processes!.every((p) => p.running && p.pid));
    assert.deepEqual(await sdk.getDesktopDisplayInfo(), { display, resolution: { width: W, height: H, dpi: 96 } });
    // start on an active desktop is a no-op answering the current status
    assert.equal((await sdk.startDesktop({})).display, display);
    // no window yet, so nothing has the focus
    await expectProblem(sdk.getDesktopFocusedWindow(), 404, "no_focused_window");
  });

  it("launches an app, waits for its window and types any Unicode text into it exactly", async () => {
    const file = path.join(work, "typed.txt");
    const launched = await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "typing", "-e", "sh", "-c", `cat > ${file}`], wait: true });
    assert.ok(launched.windowId, "launch with wait returns the window id");
    assert.match(launched.processId, /^proc_\d+$/);
    await sdk.focusDesktopWindow(launched.windowId!);
    const text = "héllo € 漢字 ñ — Hello, World! ~`!@#$%^&*()_+-={}[]|\\:\";'<>?,./ 0123456789";
    await sdk.typeDesktopText({ text: `${text}\n` });
    await sdk.typeDesktopText({ text: "second line, Ünïcödé ☃ again 漢字\n" });
    // key names in X (xdotool) and DOM spelling
    await sdk.typeDesktopText({ text: "dom" });
    await sdk.pressDesktopKey({ key: "Enter" });
    await sdk.typeDesktopText({ text: "x11" });
    await sdk.pressDesktopKey({ key: "Return" });
    await sdk.pressDesktopKey({ key: "a", modifiers: { shift: true } });
    await sdk.typeDesktopText({ text: "bc" });
    await sdk.pressDesktopKey({ key: "Backspace" });
    await sdk.pressDesktopKey({ key: "KP_1" });
    await sdk.pressDesktopKey({ key: "KP_Add" });
    await sdk.pressDesktopKey({ key: "Enter" });
    const expected = `${text}\nsecond line, Ünïcödé ☃ again 漢字\ndom\nx11\nAb1+\n`;
    await eventually("the typed text to reach the file", () => readFileSync(file, "utf8").split("\n").length >= 6);
    assert.equal(readFileSync(file, "utf8"), expected);
    // a key press with modifiers reaches the app: ctrl+d ends cat, and xterm closes
    await sdk.pressDesktopKey({ key: "d", modifiers: { ctrl: true } });
    await eventually("xterm to close after ctrl+d", async () => !(await xtermWindow("typing")));
  });

  it("takes screenshots of the requested size, format and scale", async () => {
    const png = await sdk.takeDesktopScreenshot();
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, "png");
    assert.equal(meta.width, W);
    assert.equal(meta.height, H);
    const jpeg = await sdk.takeDesktopScreenshot({ format: "jpeg", quality: 70, scale: 0.5 });
    const jm = await sharp(jpeg).metadata();
    assert.deepEqual([jm.format, jm.width, jm.height], ["jpeg", W / 2, H / 2]);
    const webp = await server.fetch("/v1/desktop/screenshot?format=webp&scale=0.25");
    assert.equal(webp.headers.get("content-type"), "image/webp");
    const wm = await sharp(Buffer.from(await webp.arrayBuffer())).metadata();
    assert.deepEqual([wm.format, wm.width, wm.height], ["webp", W / 4, H / 4]);
  });

  it("draws the real cursor only when showCursor is set", async () => {
    await sdk.moveDesktopMouse({ x: 1200, y: 120 });
    const region = { x: 1190, y: 110, width: 40, height: 40 };
    const plain = await raw(await sdk.takeDesktopRegionScreenshot(region));
    const withCursor = await raw(await sdk.takeDesktopRegionScreenshot({ ...region, showCursor: true }));
    let differing = 0;
    for (let i = 0; i < plain.data.length; i += 3) if (plain.data.readUIntBE(i, 3) !== withCursor.data.readUIntBE(i, 3)) differing++;
    assert.ok(differing > 20, `the cursor changed ${differing} pixels`);
    // the arrow's hot spot is at the pointer: the pixel there is painted, the one up-left of it is not
    const at = (img: typeof plain, x: number, y: number) => img.data.readUIntBE(((y - region.y) * region.width + (x - region.x)) * 3, 3);
    assert.notEqual(at(withCursor, 1201, 122), at(plain, 1201, 122));
    assert.equal(at(withCursor, 1195, 115), at(plain, 1195, 115));
  });

  it("captures a region identical to the same area of a full screenshot", async () => {
    await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "region", "-e", "ls -la /usr/bin; sleep 600"], wait: true });
    const region = { x: 37, y: 51, width: 401, height: 299 };
    await eventually("a still screen with matching region and full captures", async () => {
      const full = await raw(await sdk.takeDesktopScreenshot());
      const part = await raw(await sdk.takeDesktopRegionScreenshot(region));
      assert.deepEqual([part.info.width, part.info.height], [region.width, region.height]);
      const crop = await sharp(full.data, { raw: full.info }).extract({ left: region.x, top: region.y, width: region.width, height: region.height }).raw().toBuffer();
      return crop.equals(part.data);
    }, 10_000, 200);
  });

  it("lists, focuses, moves and resizes windows, reporting the real geometry", async () => {
    const { windowId } = await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "mover", "-geometry", "80x24+10+10"], wait: true });
    assert.ok(windowId);
    const listed = await xtermWindow("mover");
    assert.ok(listed, "the xterm is listed by title");
    assert.equal(listed.id, windowId);
    // a tiny window is left out of the list unless it is the active one
    const tiny = await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "tiny", "-geometry", "4x2+900+600"], wait: true });
    assert.ok(tiny.windowId);
    await sdk.focusDesktopWindow(tiny.windowId);
    assert.ok(await xtermWindow("tiny"), "the active window is always listed");
    const focused = await sdk.focusDesktopWindow(windowId);
    assert.equal(focused.isActive, true);
    assert.equal((await sdk.getDesktopFocusedWindow()).id, windowId);
    assert.equal(await xtermWindow("tiny"), undefined, "a window under 120x80 is not listed");

    const before = await raw(await sdk.takeDesktopScreenshot());
    const moved = await sdk.moveDesktopWindow(windowId, { x: 600, y: 380 });
    assert.ok(Math.abs(moved.x - 600) <= 10 && Math.abs(moved.y - 380) <= 40, `moved to ${moved.x},${moved.y}`);
    const info = xclient("xwininfo", ["-id", windowId]);
    assert.equal(Number(/Absolute upper-left X:\s+(-?\d+)/.exec(info)![1]), moved.x);
    assert.equal(Number(/Absolute upper-left Y:\s+(-?\d+)/.exec(info)![1]), moved.y);

    const resized = await sdk.resizeDesktopWindow(windowId, { width: 500, height: 300 });
    assert.ok(Math.abs(resized.width - 500) <= 20 && Math.abs(resized.height - 300) <= 20, `resized to ${resized.width}x${resized.height}`);
    const info2 = xclient("xwininfo", ["-id", windowId]);
    assert.equal(Number(/Width:\s+(\d+)/.exec(info2)![1]), resized.width);
    assert.equal(Number(/Height:\s+(\d+)/.exec(info2)![1]), resized.height);

    // the pixels where the window was (top left) changed once it moved away
    const afterShot = await raw(await sdk.takeDesktopScreenshot());
    const at = (img: typeof before, x: number, y: number) => img.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3).toString("hex");
    let changed = 0;
    for (let y = 20; y < 200; y += 10) for (let x = 20; x < 300; x += 10) if (at(before, x, y) !== at(afterShot, x, y)) changed++;
    assert.ok(changed > 100, `only ${changed} sampled pixels changed where the window was`);
  });

  it("moves, clicks, scrolls and drags the mouse, with visible effects", async () => {
    const moved = await sdk.moveDesktopMouse({ x: 200, y: 300 });
    assert.deepEqual([moved.x, moved.y], [200, 300]);
    const pos = await sdk.getDesktopMousePosition();
    assert.deepEqual([pos.x, pos.y], [200, 300]);

    const { windowId } = await sdk.launchDesktopApp({ app: "xterm", args: ["-title", "mouse", "-geometry", "60x20+40+420", "-e", "sh", "-c", "seq 1 400; sleep 600"], wait: true });
    assert.ok(windowId);
    await eventually("seq to fill the xterm", async () => (await xtermWindow("mouse")) !== undefined);
    const w = (await xtermWindow("mouse"))!;
    const centre = { x: w.x + Math.floor(w.width / 2), y: w.y + Math.floor(w.height / 2) };

    // click: openbox gives the focus to the window clicked into
    const other = (await xtermWindow("mover"))!;
    await sdk.focusDesktopWindow(other.id);
    const clicked = await sdk.clickDesktop({ ...centre, button: "left", clickCount: 1 });
    assert.deepEqual([clicked.x, clicked.y], [centre.x, centre.y]);
    await eventually("the clicked window to get the focus", async () => (await sdk.getDesktopFocusedWindow()).id === windowId);

    // scroll: the wheel scrolls xterm's scrollback up, and back down again
    const area = { x: w.x, y: w.y, width: w.width, height: w.height };
    // the focus change repaints xterm's cursor: wait for a still picture to compare against
    let still = await raw(await sdk.takeDesktopRegionScreenshot(area));
    await eventually("the clicked xterm to stop repainting", async () => {
      const now = await raw(await sdk.takeDesktopRegionScreenshot(area));
      const same = now.data.equals(still.data);
      still = now;
      return same;
    });
    const scrolled = await sdk.scrollDesktop({ ...centre, deltaY: -5 });
    assert.deepEqual([scrolled.x, scrolled.y], [centre.x, centre.y]);
    await eventually("the scrollback to show", async () => !(await raw(await sdk.takeDesktopRegionScreenshot(area))).data.equals(still.data));
    await sdk.scrollDesktop({ ...centre, deltaY: 5 });
    await eventually("scrolling down to restore the view", async () => (await raw(await sdk.takeDesktopRegionScreenshot(area))).data.equals(still.data));

    // drag: pulling the title bar moves the window by the drag's distance (less up to
    // openbox's drag threshold, which it swallows before the move starts)
    const dragged = await sdk.dragDesktopMouse({ startX: w.x + 60, startY: w.y - 10, endX: w.x + 260, endY: w.y + 40 });
    assert.deepEqual([dragged.x, dragged.y], [w.x + 260, w.y + 40]);
    await eventually("the dragged window to move", async () => {
      const now = (await xtermWindow("mouse"))!;
      assert.ok(Math.abs(now.x - (w.x + 200)) <= 10 && Math.abs(now.y - (w.y + 50)) <= 10, `from ${w.x},${w.y} to ${now.x},${now.y}`);
      return true;
    });

    // right-click on the desktop opens openbox's menu; Escape closes it
    const menu = await sdk.clickDesktop({ x: 5, y: 790, button: "right" });
    assert.deepEqual([menu.x, menu.y], [5, 790]);
    await sdk.pressDesktopKey({ key: "Escape" });
    await sdk.mouseDownDesktop({ x: 10, y: 10, button: "left" });
    const up = await sdk.mouseUpDesktop({ button: "left" });
    assert.deepEqual([up.x, up.y], [10, 10]);
    await sdk.keyDownDesktop({ key: "Shift_L" });
    await sdk.keyUpDesktop({ key: "Shift" });
  });

  for (const selection of ["clipboard", "primary"] as const) {
    it(`shares the ${selection} selection with other X clients both ways`, async () => {
      const ours = `from glasspane ${selection} héllo € 漢字`;
      await sdk.setDesktopClipboard({ text: ours, selection });
      assert.equal(xclient("xclip", ["-o", "-selection", selection]), ours);
      assert.deepEqual(await sdk.getDesktopClipboard({ selection }), { text: ours, selection });

      const theirs = `from xclip ${selection} ñ ☃`;
      await xclipSet(selection, theirs);
      // xclip's parent exits before the child it forks owns the selection
      await eventually("xclip's text to be read through the API", async () => (await sdk.getDesktopClipboard({ selection })).text === theirs, 5000);
      assert.deepEqual(await sdk.getDesktopClipboard({ selection }), { text: theirs, selection });
    });
  }

  it("sets both selections at once", async () => {
    await sdk.setDesktopClipboard({ text: "both at once", selection: "both" });
    assert.equal(xclient("xclip", ["-o", "-selection", "clipboard"]), "both at once");
    assert.equal(xclient("xclip", ["-o", "-selection", "primary"]), "both at once");
  });

  it("answers bad input with a 4xx problem", async () => {
    const post = (p: string, body: unknown) =>
      server.fetch(p, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const cases: Array<[string, () => Promise<Response>, number]> = [
      ["negative coordinate", () => post("/v1/desktop/mouse/move", { x: -1, y: 5 }), 400],
      ["off-screen coordinate", () => post("/v1/desktop/mouse/move", { x: W, y: 5 }), 400],
      ["string coordinate", () => post("/v1/desktop/mouse/move", { x: "10", y: 5 }), 400],
      ["missing field", () => post("/v1/desktop/mouse/click", { x: 10 }), 400],
      ["unknown field", () => post("/v1/desktop/mouse/move", { x: 1, y: 1, z: 1 }), 400],
      ["malformed JSON", () => post("/v1/desktop/mouse/move", "{x:"), 400],
      ["bad button", () => post("/v1/desktop/mouse/click", { x: 1, y: 1, button: "thumb" }), 400],
      ["zero clickCount", () => post("/v1/desktop/mouse/click", { x: 1, y: 1, clickCount: 0 }), 400],
      ["zero scroll", () => post("/v1/desktop/mouse/scroll", { x: 1, y: 1 }), 400],
      ["half a point", () => post("/v1/desktop/mouse/down", { x: 1 }), 400],
      ["unknown key", () => post("/v1/desktop/keyboard/press", { key: "NotARealKey" }), 400],
      ["empty text", () => post("/v1/desktop/keyboard/type", { text: "" }), 400],
      ["bad format", () => server.fetch("/v1/desktop/screenshot?format=gif"), 400],
      ["quality 0", () => server.fetch("/v1/desktop/screenshot?format=jpeg&quality=0"), 400],
      ["scale 2", () => server.fetch("/v1/desktop/screenshot?scale=2"), 400],
      ["unknown query key", () => server.fetch("/v1/desktop/screenshot?show_cursor=true"), 400],
      ["zero-width region", () => server.fetch("/v1/desktop/screenshot/region?x=0&y=0&width=0&height=10"), 400],
      ["off-screen region", () => server.fetch(`/v1/desktop/screenshot/region?x=${W + 5}&y=0&width=10&height=10`), 400],
      ["bad selection", () => server.fetch("/v1/desktop/clipboard?selection=bogus"), 400],
      ["non-numeric window id", () => post("/v1/desktop/windows/abc/focus", {}), 404],
      ["unknown window id", () => post("/v1/desktop/windows/99999999/move", { x: 1, y: 1 }), 404],
      ["zero-size resize", () => post("/v1/desktop/windows/99999999/resize", { width: 0, height: 10 }), 400],
      ["unknown app", () => post("/v1/desktop/launch", { app: "no-such-app-glasspane" }), 404],
      ["bad start size", () => post("/v1/desktop/start", { width: 10 }), 400],
    ];
    for (const [name, call, status] of cases) {
      const res = await call();
      assert.equal(res.status, status, `${name}: ${res.status} ${await res.clone().text()}`);
      assert.equal(res.headers.get("content-type"), "application/problem+json", name);
      const body = await res.json();
      assert.equal(body.status, status, name);
      assert.match(body.type, /^urn:glasspane:error:[a-z_]+$/, name);
      assert.ok(body.detail.length > 5, name);
    }
  });

  it("answers 504 instead of hanging while the X server is frozen, and recovers when it resumes", async () => {
    const xvfb = (await sdk.getDesktopStatus()).processes!.find((p) => p.name === "Xvfb")!;
    process.kill(xvfb.pid!, "SIGSTOP");
    try {
      const started = Date.now();
      await expectProblem(sdk.takeDesktopScreenshot(), 504, "timeout");
      await expectProblem(sdk.moveDesktopMouse({ x: 3, y: 3 }), 504, "timeout");
      await expectProblem(sdk.setDesktopClipboard({ text: "frozen" }), 504, "timeout");
      assert.ok(Date.now() - started < 15_000, "each call gave up after its deadline");
      assert.equal((await sdk.getDesktopStatus()).state, "active", "status still answers");
    } finally {
      process.kill(xvfb.pid!, "SIGCONT");
    }
    await eventually("input to work again", async () => (await sdk.moveDesktopMouse({ x: 4, y: 4 })).x === 4);
  });

  it("brings Xvfb back after it is killed, and the API works again", async () => {
    const status = await sdk.getDesktopStatus();
    const xvfb = status.processes!.find((p) => p.name === "Xvfb")!;
    process.kill(xvfb.pid!, "SIGKILL");
    await eventually("Xvfb to be restarted with a new pid", async () => {
      const s = await sdk.getDesktopStatus();
      const p = s.processes!.find((q) => q.name === "Xvfb")!;
      return p.running && p.pid !== xvfb.pid;
    }, 20_000, 200);
    await eventually("screenshots to work again", async () => (await sharp(await sdk.takeDesktopScreenshot()).metadata()).width === W, 20_000, 200);
    const moved = await sdk.moveDesktopMouse({ x: 321, y: 123 });
    assert.deepEqual([moved.x, moved.y], [321, 123]);
    await sdk.setDesktopClipboard({ text: "after restart" });
    assert.equal(xclient("xclip", ["-o", "-selection", "clipboard"]), "after restart");
    await eventually("openbox to manage windows again", async () => {
      const s = await sdk.getDesktopStatus();
      return s.processes!.every((p) => p.running);
    }, 20_000, 200);
  });

  it("opens a target with xdg-open as a desktop process", async () => {
    const opened = await sdk.openDesktopTarget({ target: path.join(work, "typed.txt") });
    assert.match(opened.processId, /^proc_\d+$/);
    assert.ok(opened.pid && opened.pid > 0);
    const res = await server.fetch("/v1/desktop/open", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(res.status, 400);
  });

  it("stops, and then refuses desktop calls with 409", async () => {
    const status = await sdk.stopDesktop();
    assert.equal(status.state, "inactive");
    assert.ok(status.processes!.every((p) => !p.running), "Xvfb and openbox are stopped");
    await expectProblem(sdk.getDesktopMousePosition(), 409, "desktop_not_active");
    assert.equal((await sdk.stopDesktop()).state, "inactive");
  });
});

describe("a machine without the desktop's programs", () => {
  let bare: TestServer;
  before(async () => {
    bare = await startServer({ env: { PATH: "/nonexistent" } });
  });
  after(async () => {
    await bare?.stop();
  });

  it("reports install_required with the missing programs and the command that installs them", async () => {
    const status = await bare.sdk.getDesktopStatus();
    assert.equal(status.state, "install_required");
    assert.deepEqual(status.missingDependencies, ["Xvfb", "openbox"]);
    assert.match(status.installCommand!, /xvfb.*openbox/);
    try {
      await bare.sdk.startDesktop({});
      assert.fail("start succeeded without Xvfb");
    } catch (err) {
      assert.ok(err instanceof SandboxAgentError);
      assert.equal(err.status, 503);
      assert.equal(err.problem?.type, "urn:glasspane:error:desktop_dependencies_missing");
      assert.match(err.problem!.detail!, /Xvfb/);
    }
  });
});

describe("starting with a taken display and an own state directory", () => {
  const stateDir = path.join(work, "state");
  let squatter: ReturnType<typeof spawn> | undefined;

  after(async () => {
    await sdk.stopDesktop().catch(() => undefined);
    squatter?.kill("SIGTERM");
  });

  it("probes upward past a display in use, and runs openbox autostart from the state directory's HOME", async () => {
    squatter = spawn("Xvfb", [":150", "-nolisten", "tcp"], { stdio: "ignore" });
    const lock = "/tmp/.X150-lock";
    await eventually("the squatting Xvfb to own :150", () => existsSync(lock) && Number(readFileSync(lock, "utf8").trim()) === squatter!.pid);
    const autostart = path.join(stateDir, "home", ".config", "openbox", "autostart");
    mkdirSync(path.dirname(autostart), { recursive: true });
    writeFileSync(autostart, 'echo "$DISPLAY" > "$HOME/autostart-ran" &\n');

    const status = await sdk.startDesktop({ displayNum: 150, stateDir, width: 800, height: 600 });
    assert.equal(status.state, "active");
    assert.notEqual(status.display, ":150", "a display in use is skipped");
    assert.ok(Number(status.display!.slice(1)) > 150);
    assert.deepEqual(status.resolution, { width: 800, height: 600, dpi: 96 });
    const marker = path.join(stateDir, "home", "autostart-ran");
    await eventually("openbox's autostart to run", () => existsSync(marker));
    assert.equal(readFileSync(marker, "utf8").trim(), status.display);
    assert.equal((await sharp(await sdk.takeDesktopScreenshot()).metadata()).width, 800);
  });

  it("stopping the desktop also ends what autostart launched", async () => {
    const home = path.join(stateDir, "home");
    const autostart = path.join(home, ".config", "openbox", "autostart");
    // a detached, TERM-ignoring grandchild: only the group reap can end it
    writeFileSync(autostart, `(trap "" TERM; exec sleep 300) &\n`);
    await sdk.stopDesktop();
    await sdk.startDesktop({ displayNum: 150, stateDir, width: 800, height: 600 });
    const inHome = () => processesWithHome(home).filter((p) => p.cmd.startsWith("sleep"));
    await eventually("autostart's sleep to run", () => inHome().length > 0);
    await sdk.stopDesktop();
    await eventually("no process of the desktop's session left", () => processesWithHome(home).length === 0);
  });
});

/** Live processes whose environment has HOME=home, with their command lines. */
function processesWithHome(home: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!env.includes(`HOME=${home}`)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (cmd) found.push({ pid: Number(pid), cmd }); // zombies have no command line
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
