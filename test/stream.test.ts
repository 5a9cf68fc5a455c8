// The live desktop stream as a user sees it: a real `glasspane server` with a desktop,
// and real Chromium viewers running the published sandbox-agent SDK's
// DesktopStreamSession (a client we did not write) over WebRTC.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import type { Browser } from "playwright-core";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { ColorPatch, launchViewerBrowser, openViewer, type StreamViewer } from "./support/stream-viewer.js";

const TOKEN = "stream-token";
const W = 1280;
const H = 720;

let server: TestServer;
let browser: Browser;
let display: string;
const viewers: StreamViewer[] = [];

async function viewer(): Promise<StreamViewer> {
  const v = await openViewer(browser, server.url, TOKEN);
  viewers.push(v);
  return v;
}

async function streamStatus() {
  return (await server.fetch("/v1/desktop/stream/status")).json() as Promise<{ active: boolean; processId: string | null; viewers: number; videoCodec: string; frameRate: number }>;
}

/** framesDecoded over `ms`, in frames per second. */
async function decodeRate(v: StreamViewer, ms: number): Promise<number> {
  const a = await v.inbound();
  await new Promise((r) => setTimeout(r, ms));
  const b = await v.inbound();
  return ((b!.framesDecoded - a!.framesDecoded) * 1000) / ms;
}

/** The pid of the server's active ffmpeg stream encoder (the one the status names), if one runs. */
async function encoderPidOrNone(): Promise<number | undefined> {
  const { processId } = await streamStatus();
  if (!processId) return undefined;
  const res = await server.fetch(`/v1/processes/${processId}`);
  if (!res.ok) return undefined;
  const info = (await res.json()) as { pid: number | null; status: string };
  return info.status === "running" && info.pid ? info.pid : undefined;
}

async function encoderPid(): Promise<number> {
  const pid = await encoderPidOrNone();
  assert.ok(pid, "no encoder process is running");
  return pid;
}

/** Keeps a patch of the desktop changing colour (frames are only encoded when the screen changes). */
async function animate<T>(run: () => Promise<T>): Promise<T> {
  const patch = await ColorPatch.open(display, { x: 1000, y: 600, width: 60, height: 40 }, [0, 0, 0]);
  let on = true;
  let i = 0;
  const loop = (async () => {
    while (on) {
      await patch.set([(i * 37) & 255, (i * 91) & 255, 128]);
      i++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  try {
    return await run();
  } finally {
    on = false;
    await loop;
    patch.close();
  }
}

async function codecOf(v: StreamViewer): Promise<string> {
  return v.page.evaluate(async () => {
    const report = await (window as any).session.pc.getStats();
    let mime = "";
    report.forEach((s: any) => {
      if (s.type === "codec") mime = s.mimeType;
    });
    return mime;
  });
}

/** A signaling socket driven by hand, collecting the server's events. */
async function rawSignaling(query = `access_token=${TOKEN}`) {
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/v1/desktop/stream/signaling?${query}`);
  const events: Array<{ event: string; payload: any }> = [];
  ws.on("message", (m) => events.push(JSON.parse(String(m))));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
  const next = async (event: string, ms = 10_000) => {
    let found: { event: string; payload: any } | undefined;
    await eventually(`signaling event ${event}`, () => {
      const i = events.findIndex((e) => e.event === event);
      if (i >= 0) found = events.splice(i, 1)[0];
      return i >= 0;
    }, ms);
    return found!.payload;
  };
  return { ws, events, next, send: (event: string, payload?: unknown) => ws.send(JSON.stringify({ event, payload })) };
}

before(async () => {
  // apps on the desktop inherit the server's locale; xterm needs UTF-8 for "é"
  server = await startServer({ token: TOKEN, env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  const status = await server.sdk.startDesktop({ width: W, height: H, displayNum: 450 });
  display = status.display!;
  browser = await launchViewerBrowser();
});

after(async () => {
  for (const v of viewers) await v.close();
  await browser?.close();
  await server?.stop();
});

describe("live stream", { timeout: 180_000 }, () => {
  it("refuses the signaling socket until the stream is started", async () => {
    assert.deepEqual((await server.sdk.getDesktopStreamStatus()).active, false);
    await assert.rejects(rawSignaling(), (err: Error & { status?: number }) => err.status === 409);
  });

  it("a viewer with the SDK sees the desktop at its size and keeps decoding", async () => {
    const started = await server.sdk.startDesktopStream();
    assert.equal(started.active, true);
    const v = await viewer();
    await v.waitForPicture();
    await eventually("the video to reach the desktop's size", async () => {
      const [w, h] = await v.size();
      return w === W && h === H;
    });
    const status = await streamStatus();
    assert.equal(status.viewers, 1);
    assert.equal(status.videoCodec, "h264");
    assert.match(status.processId ?? "", /^proc_/);

    const fps = await animate(() => decodeRate(v, 10_000));
    assert.ok(fps >= 12, `decoded ${fps.toFixed(1)} frames per second over 10 s of a changing desktop`);
    const stats = await v.inbound();
    assert.equal(stats!.frameWidth, W);
    assert.deepEqual(await v.errors(), []);
  });

  it("a colour change on the desktop appears in the decoded frame", async () => {
    const v = viewers[0]!;
    const patch = await ColorPatch.open(display, { x: 100, y: 120, width: 240, height: 160 }, [220, 30, 30]);
    try {
      await v.waitPixel(220, 200, [220, 30, 30]);
      await patch.set([30, 60, 230]);
      await v.waitPixel(220, 200, [30, 60, 230]);
    } finally {
      patch.close();
    }
  });

  it("mouse moves sent on the SDK's data channel move the desktop pointer", async () => {
    const v = viewers[0]!;
    for (const [x, y] of [[321, 234], [700, 500], [5, 6]] as const) {
      await v.page.evaluate(([x, y]) => (window as any).session.moveMouse(x, y), [x, y]);
      await eventually(`the pointer at ${x},${y}`, async () => {
        const p = await server.sdk.getDesktopMousePosition();
        return p.x === x && p.y === y;
      });
    }
  });

  it("clicks and keys sent on the SDK's data channel reach an app", async () => {
    const v = viewers[0]!;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "glasspane-stream-")), "keys.txt");
    const { windowId } = await server.sdk.launchDesktopApp({ app: "xterm", args: ["-geometry", "60x10+600+300", "-e", "sh", "-c", `cat > ${file}`], wait: true });
    const win = (await server.sdk.listDesktopWindows()).windows.find((w) => w.id === windowId)!;
    // a click inside the window focuses it (openbox click-to-focus)
    await v.page.evaluate(([x, y]) => {
      const s = (window as any).session;
      s.mouseDown("left", x, y);
      s.mouseUp("left", x, y);
    }, [win.x + 50, win.y + 40]);
    await eventually("the xterm focused", async () => (await server.sdk.getDesktopFocusedWindow()).id === windowId);
    await v.page.evaluate(() => {
      const s = (window as any).session;
      for (const key of ["h", "i", "Shift", "!", "Shift", "Enter", "é", "Enter"]) {
        if (key === "Shift") continue;
        s.keyDown(key);
        s.keyUp(key);
      }
      // a held modifier: Shift + a is "A"
      s.keyDown("Shift");
      s.keyDown("a");
      s.keyUp("a");
      s.keyUp("Shift");
      s.keyDown("Enter");
      s.keyUp("Enter");
    });
    await eventually("the keys to reach the app", () => existsSync(file) && readFileSync(file, "utf8").split("\n").length >= 4);
    assert.equal(readFileSync(file, "utf8"), "hi!\né\nA\n");
  });

  it("two viewers decode at once; one leaving does not stop the other", async () => {
    const second = await viewer();
    await second.waitForPicture();
    await eventually("two viewers in the status", async () => (await streamStatus()).viewers === 2);
    const encoder = (await streamStatus()).processId;
    await animate(async () => {
      assert.ok((await decodeRate(viewers[0]!, 2000)) > 0, "the first viewer stopped decoding");
      assert.ok((await decodeRate(second, 2000)) > 0, "the second viewer does not decode");
    });
    assert.ok(encoder, "no encoder");

    await viewers.shift()!.close();
    await eventually("one viewer in the status", async () => (await streamStatus()).viewers === 1);
    assert.ok((await animate(() => decodeRate(second, 3000))) > 0, "the remaining viewer stopped decoding");
  });

  it("a killed encoder is restarted and the viewer keeps decoding", async () => {
    const v = viewers[0]!;
    const pid = await encoderPid();
    process.kill(pid, "SIGKILL");
    await eventually("a new encoder", async () => {
      const now = await encoderPidOrNone();
      return now !== undefined && now !== pid;
    }, 15_000, 100);
    const before = (await v.inbound())!.framesDecoded;
    await animate(() => eventually("frames decoded after the restart", async () => (await v.inbound())!.framesDecoded > before + 30, 15_000, 200));
    const patch = await ColorPatch.open(display, { x: 500, y: 300, width: 200, height: 100 }, [20, 200, 60]);
    try {
      await v.waitPixel(600, 350, [20, 200, 60]);
    } finally {
      patch.close();
    }
  });

  it("the encoder stops a few seconds after the last viewer leaves and starts again for the next", async () => {
    await viewers.shift()!.close();
    await eventually("no viewers", async () => (await streamStatus()).viewers === 0);
    await eventually("the encoder to stop", async () => (await streamStatus()).processId === null, 15_000, 200);
    assert.equal((await streamStatus()).active, true);
    const v = await viewer();
    await v.waitForPicture();
    assert.match((await streamStatus()).processId ?? "", /^proc_/);
  });

  it("bad signaling messages get a system/error and the socket keeps working", async () => {
    const s = await rawSignaling();
    const init = await s.next("system/init");
    assert.deepEqual([init.screen_size.width, init.screen_size.height], [W, H]);
    s.ws.send("this is not json");
    assert.match((await s.next("system/error")).message, /JSON/);
    s.send("signal/bogus", {});
    assert.match((await s.next("system/error")).message, /unknown event/);
    s.send("signal/answer", { nope: 1 });
    assert.match((await s.next("system/error")).message, /sdp/);
    s.send("signal/answer", { sdp: "v=0 garbage" });
    assert.ok((await s.next("system/error")).message);
    s.send("signal/request", { video: {}, audio: {} });
    const offer = await s.next("signal/provide");
    assert.match(offer.sdp, /m=video/);
    assert.match(offer.sdp, /m=application/);
    assert.ok(Array.isArray(offer.iceservers));
    s.ws.close();
  });

  it("bad start options are 400s that say what is wrong", async () => {
    const post = (body: unknown) =>
      server.fetch("/v1/desktop/stream/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    for (const body of [{ videoCodec: "h265" }, { frameRate: 0 }, { frameRate: 61 }, { webrtcPortRange: "9000-8000" }, { webrtcPortRange: "80-90" }, { bogus: true }, { iceServers: [{ urls: "http://x" }] }]) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get("content-type") ?? "", /problem\+json/);
      assert.ok(((await res.json()) as { detail: string }).detail.length > 0);
    }
    assert.equal((await streamStatus()).active, true, "a refused start must not stop the running stream");
  });

  it("start options are honoured: codec, frame rate, port range and ICE servers", async () => {
    const ice = [{ urls: "turn:turn.example.invalid:3478", username: "u", credential: "p" }];
    const res = await server.fetch("/v1/desktop/stream/start", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ videoCodec: "vp8", frameRate: 15, webrtcPortRange: "45100-45120", iceServers: ice }),
    });
    assert.equal(res.status, 200);
    const status = await streamStatus();
    assert.deepEqual([status.videoCodec, status.frameRate], ["vp8", 15]);
    // the viewers of the old stream were told why they were cut off
    await eventually("the old viewer disconnected", () => viewers[0]!.page.evaluate(() => (window as any).disconnected === true));
    await viewers.shift()!.close();

    const s = await rawSignaling();
    assert.equal((await s.next("system/init")).screen_size.rate, 15);
    s.send("signal/request", { video: {}, audio: {} });
    const offer = await s.next("signal/provide");
    assert.deepEqual(offer.iceservers, ice);
    assert.match(offer.sdp, /VP8\/90000/);
    const ports = [...offer.sdp.matchAll(/a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/g)].map((m: RegExpMatchArray) => Number(m[1]));
    assert.ok(ports.length > 0 && ports.every((p) => p >= 45100 && p <= 45120), `candidate ports ${ports}`);
    s.ws.close();

    const v = await viewer();
    await v.waitForPicture();
    assert.equal(await codecOf(v), "video/VP8");
  });

  it("VP9 streams too", async () => {
    const res = await server.fetch("/v1/desktop/stream/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ videoCodec: "vp9" }) });
    assert.equal(res.status, 200);
    await viewers.shift()!.close();
    const v = await viewer();
    await v.waitForPicture();
    assert.equal(await codecOf(v), "video/VP9");
    assert.deepEqual(await v.size(), [W, H]);
  });

  it("stop disconnects the viewers with a reason; the socket is refused again", async () => {
    const s = await rawSignaling();
    await s.next("system/init");
    const stopped = await server.sdk.stopDesktopStream();
    assert.equal(stopped.active, false);
    assert.match((await s.next("system/disconnect")).message, /stopped/);
    await eventually("the SDK viewer disconnected", () => viewers[0]!.page.evaluate(() => (window as any).disconnected === true));
    const after = await streamStatus();
    assert.deepEqual([after.active, after.processId, after.viewers, after.videoCodec, after.frameRate], [false, null, 0, null, null]);
    await assert.rejects(rawSignaling(), (err: Error & { status?: number }) => err.status === 409);
  });

  it("stopping the desktop ends the stream; starting it needs an active desktop", async () => {
    await server.sdk.startDesktopStream();
    const s = await rawSignaling();
    await s.next("system/init");
    await eventually("the encoder running", async () => (await streamStatus()).processId !== null);
    await server.sdk.stopDesktop();
    assert.match((await s.next("system/disconnect", 15_000)).message, /desktop/);
    assert.equal((await streamStatus()).active, false);
    const res = await server.fetch("/v1/desktop/stream/start", { method: "POST" });
    assert.equal(res.status, 409);
  });
});
