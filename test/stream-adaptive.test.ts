// The stream as a watched desktop costs it: nothing encoded while the screen is still,
// a keyframe as soon as a receiver asks for one, a bitrate that follows a throttled link
// (tc in a network namespace this test creates), and the WebSocket transport for browsers
// without WebRTC. Real server, real Chromium with the SDK's viewer, real ffmpeg.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { connectReceiver } from "./support/stream-receiver.js";
import { ColorPatch, launchViewerBrowser, openViewer, type StreamViewer } from "./support/stream-viewer.js";

const TOKEN = "adaptive-token";
const W = 1280;
const H = 720;
const NS = `gp-stream-${process.pid}`;
const HOST_IF = `gps${process.pid % 10000}h`;
const NS_IF = `gps${process.pid % 10000}n`;
const HOST_IP = "198.18.77.1";
const NS_IP = "198.18.77.2";

let server: TestServer;
let browser: Browser;
let display: string;
const closers: Array<() => Promise<void> | void> = [];

type Status = {
  active: boolean;
  processId: string | null;
  viewers: number;
  websocketViewers: number;
  videoCodec: string;
  frameRate: number;
  bitrateKbps: number | null;
  minBitrateKbps: number | null;
  maxBitrateKbps: number | null;
  currentFrameRate: number | null;
  keyframesOnDemand: number;
  lastError: { code: string; message: string } | null;
};

async function streamStatus(s = server): Promise<Status> {
  return (await s.fetch("/v1/desktop/stream/status")).json() as Promise<Status>;
}

async function startStream(body: unknown) {
  const res = await server.fetch("/v1/desktop/stream/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json() as Promise<Status>;
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function encoderPid(): Promise<number> {
  const { processId } = await streamStatus();
  assert.ok(processId, "no encoder runs");
  const info = (await (await server.fetch(`/v1/processes/${processId}`)).json()) as { pid: number };
  return info.pid;
}

function sh(cmd: string, args: string[]) {
  return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).toString();
}

before(async () => {
  // listens on every address so the namespace's browser can reach it over the veth pair
  server = await startServer({ token: TOKEN, args: ["--host", "0.0.0.0"] });
  server.url = server.url.replace("0.0.0.0", "127.0.0.1");
  // the desktop's stream options are the stream's defaults
  const status = await server.sdk.startDesktop({ width: W, height: H, displayNum: 480, streamVideoCodec: "vp8", streamFrameRate: 20 } as any);
  display = status.display!;
  browser = await launchViewerBrowser();
});

after(async () => {
  for (const c of closers.reverse()) await c();
  await browser?.close();
  await server?.stop();
});

describe("stream costs and adapts", { timeout: 540_000 }, () => {
  it("takes desktop start's stream options as its defaults", async () => {
    const started = (await (await server.fetch("/v1/desktop/stream/start", { method: "POST" })).json()) as Status;
    assert.deepEqual([started.videoCodec, started.frameRate], ["vp8", 20]);
    assert.equal(started.maxBitrateKbps, 3000);
    assert.equal(started.lastError, null);
  });

  it("a still desktop costs the encoder (almost) nothing, and its first change decodes", async () => {
    await startStream({ videoCodec: "h264", frameRate: 30 });
    const v = await openViewer(browser, server.url, TOKEN);
    closers.push(() => v.close());
    await v.waitForPicture();
    const patch = await ColorPatch.open(display, { x: 100, y: 100, width: 200, height: 150 }, [200, 30, 30]);
    closers.push(() => patch.close());
    await v.waitPixel(200, 175, [200, 30, 30], { timeoutMs: 15_000 });
    // 10 s of a still screen; a keyframe the join asked for may still switch encoders on
    // a loaded machine, so a period in which the encoder changed is measured again
    let share = NaN;
    for (let attempt = 0; attempt < 4 && Number.isNaN(share); attempt++) {
      await new Promise((r) => setTimeout(r, 2000));
      const pid = await encoderPid();
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 10_000));
      if ((await encoderPid()) !== pid) continue;
      share = ((cpuSeconds(pid) - c0) * 1000) / (performance.now() - t0);
    }
    assert.ok(!Number.isNaN(share), "the encoder kept changing on a still desktop");
    assert.ok(share < 0.03, `the encoder used ${(share * 100).toFixed(1)} % of a core on a still desktop`);
    await patch.set([30, 200, 60]);
    await v.waitPixel(200, 175, [30, 200, 60], { timeoutMs: 10_000 });
  });

  it("a PLI from the receiver is answered by a keyframe", async () => {
    await startStream({ videoCodec: "h264", frameRate: 30, keyframeIntervalMs: 60_000 });
    // a werift receiver, so the test itself sends the PLI and sees each packet arrive
    const receiver = connectReceiver(server.url, "h264", TOKEN);
    closers.push(() => receiver.close());
    const packets = receiver.packets;
    await eventually("the first keyframe at the receiver", () => packets.some((p) => p.key), 20_000);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      // a still screen sends nothing: any keyframe after the PLI is the answer to it
      await new Promise((r) => setTimeout(r, 2500));
      const sent = performance.now();
      await receiver.sendPli();
      await eventually("a keyframe after the PLI", () => packets.some((p) => p.key && p.at > sent), 5000, 5);
      delays.push(packets.find((p) => p.key && p.at > sent)!.at - sent);
    }
    // every PLI is answered by a keyframe; the 100 ms is measured by the bench, and a
    // loaded 2-core machine (load average above 10 while this was written) gets a generous margin
    assert.equal(delays.length, 3);
    assert.ok(Math.min(...delays) < 1500, `keyframes came ${delays.map((d) => d.toFixed(0)).join(", ")} ms after the PLI`);
    await receiver.close();
  });

  it("a throttled receiver makes the bitrate drop and recover, within the start's bounds", async () => {
    // a namespace with its own end of a veth pair; the browser runs inside it
    sh("ip", ["netns", "add", NS]);
    closers.push(() => void sh("ip", ["netns", "del", NS]));
    sh("ip", ["link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF]);
    closers.push(() => void execFileSync("ip", ["link", "del", HOST_IF], { stdio: "ignore" }));
    sh("ip", ["link", "set", NS_IF, "netns", NS]);
    sh("ip", ["addr", "add", `${HOST_IP}/24`, "dev", HOST_IF]);
    sh("ip", ["link", "set", HOST_IF, "up"]);
    sh("ip", ["netns", "exec", NS, "ip", "addr", "add", `${NS_IP}/24`, "dev", NS_IF]);
    sh("ip", ["netns", "exec", NS, "ip", "link", "set", NS_IF, "up"]);
    sh("ip", ["netns", "exec", NS, "ip", "link", "set", "lo", "up"]);
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-netns-"));
    const wrapper = path.join(dir, "chromium");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    const nsBrowser = await launchViewerBrowser(wrapper);
    closers.push(() => nsBrowser.close());

    await startStream({ videoCodec: "h264", frameRate: 30, bitrateKbps: 3000, minBitrateKbps: 200, iceHostAddresses: [HOST_IP] });
    // a busy screen: a terminal scrolling as fast as it can needs more than the cap
    const term: ChildProcess = spawn("xterm", ["-geometry", "160x45+0+0", "-e", "sh", "-c", "while :; do ls -la /usr/bin /usr/lib; done"], {
      env: { ...process.env, DISPLAY: display },
      stdio: "ignore",
    });
    closers.push(() => void term.kill());
    const port = new URL(server.url).port;
    const v: StreamViewer = await openViewer(nsBrowser, `http://${HOST_IP}:${port}`, TOKEN);
    closers.push(() => v.close());
    await v.waitForPicture(30_000);
    // unthrottled, the estimate settles somewhere high
    await new Promise((r) => setTimeout(r, 8000));
    const free = (await streamStatus()).bitrateKbps!;
    // 400 kbit/s from the server to the browser
    sh("tc", ["qdisc", "add", "dev", HOST_IF, "root", "tbf", "rate", "400kbit", "burst", "16kb", "latency", "300ms"]);
    let low = Infinity;
    await eventually("the bitrate to drop under the throttle", async () => {
      low = (await streamStatus()).bitrateKbps!;
      return low <= Math.min(free * 0.6, 1000);
    }, 60_000, 500);
    const status = await streamStatus();
    assert.ok(status.bitrateKbps! >= status.minBitrateKbps!, "below the start's lowest bitrate");
    sh("tc", ["qdisc", "del", "dev", HOST_IF, "root"]);
    // the link is free again: the sender probes upwards (the receiver's estimate alone
    // follows only what arrives) and climbs back
    let high = 0;
    await eventually("the bitrate to recover once the throttle is gone", async () => {
      high = (await streamStatus()).bitrateKbps!;
      return high >= Math.max(low * 2, free * 0.5);
    }, 150_000, 500);
    assert.ok(high <= status.maxBitrateKbps!, "above the start's highest bitrate");
    term.kill();
    await v.close();
  });

  it("the WebSocket transport plays in Chromium without WebRTC, and its input moves the pointer", async () => {
    await startStream({ videoCodec: "h264", frameRate: 30 });
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    closers.push(() => context.close());
    // this browser has no WebRTC at all: the UI must use the fallback by itself
    await context.addInitScript(() => {
      delete (window as any).RTCPeerConnection;
      delete (window as any).webkitRTCPeerConnection;
      // which socket each binary (input) frame goes over
      const w = window as any;
      w.binarySent = {};
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data: any) {
        if (typeof data !== "string") {
          const where = new URL(this.url).pathname;
          w.binarySent[where] = (w.binarySent[where] ?? 0) + 1;
        }
        return send.call(this, data);
      };
    });
    const page = await context.newPage();
    const patch = await ColorPatch.open(display, { x: 300, y: 200, width: 200, height: 150 }, [240, 200, 20]);
    closers.push(() => patch.close());
    await page.goto(`${server.url}/ui/?token=${TOKEN}#desktop`, { timeout: 15_000 });
    await page.locator("#stream-state", { hasText: "live (WebSocket)" }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#canvas").isVisible(), true);
    assert.equal(await page.locator("#video").isVisible(), false);
    assert.equal((await streamStatus()).websocketViewers, 1);
    const pixel = () =>
      page.evaluate(() => {
        const c = document.getElementById("canvas") as HTMLCanvasElement;
        return Array.from(c.getContext("2d")!.getImageData(400, 275, 1, 1).data.slice(0, 3));
      });
    await eventually("the patch on the canvas", async () => {
      const [r, g, b] = await pixel();
      return Math.abs(r! - 240) < 40 && Math.abs(g! - 200) < 40 && b! < 60;
    }, 15_000);
    await patch.set([20, 60, 240]);
    await eventually("the new colour on the canvas", async () => {
      const [r, g, b] = await pixel();
      return r! < 60 && Math.abs(g! - 60) < 40 && Math.abs(b! - 240) < 40;
    }, 15_000);
    // input goes only while the page holds control
    await page.locator("#take-control").click();
    await page.locator("#give-back").waitFor({ timeout: 15_000 });
    // where the fitted picture (object-fit: contain) is drawn inside the canvas element
    const pic = await page.locator("#canvas").evaluate((c: HTMLCanvasElement) => {
      const r = c.getBoundingClientRect();
      const scale = Math.min(r.width / c.width, r.height / c.height);
      return { left: r.left + (r.width - c.width * scale) / 2, top: r.top + (r.height - c.height * scale) / 2, width: c.width * scale, height: c.height * scale };
    });
    await page.mouse.move(pic.left + pic.width / 4, pic.top + pic.height / 4);
    await eventually("the pointer a quarter into the desktop", async () => {
      const p = await server.sdk.getDesktopMousePosition();
      return Math.abs(p.x - W / 4) <= 3 && Math.abs(p.y - H / 4) <= 3;
    });
    // it went over the stream's own socket, as the holder of the page's lease
    const sent = (await page.evaluate(() => (window as any).binarySent)) as Record<string, number>;
    assert.ok((sent["/v1/desktop/stream/ws"] ?? 0) > 0, `input frames per socket: ${JSON.stringify(sent)}`);
    assert.equal(sent["/v1/desktop/control/ws"] ?? 0, 0, `input frames per socket: ${JSON.stringify(sent)}`);
    // the lease is still the page's: input from anyone else is refused meanwhile
    const other = await server.fetch("/v1/desktop/mouse/move", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ x: 5, y: 5 }) });
    assert.equal(other.status, 409);
    await context.close();
  });

  it("the UI switches to the WebSocket when WebRTC does not connect, and ?transport=websocket picks it", async () => {
    await startStream({ videoCodec: "h264", frameRate: 30 });
    const blocked = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    closers.push(() => blocked.close());
    // WebRTC exists but can never connect: neither side learns the other's ICE candidates
    await blocked.addInitScript(() => {
      const Real = window.RTCPeerConnection;
      class Unreachable extends Real {
        override setRemoteDescription(d: RTCSessionDescriptionInit) {
          return super.setRemoteDescription({ type: d.type, sdp: d.sdp!.split("\r\n").filter((l) => !l.startsWith("a=candidate")).join("\r\n") });
        }
        override addIceCandidate() {
          return Promise.resolve();
        }
      }
      Object.defineProperty(Unreachable.prototype, "onicecandidate", { get: () => null, set: () => undefined });
      (window as any).RTCPeerConnection = Unreachable;
    });
    const page = await blocked.newPage();
    const seen: string[] = [];
    await page.exposeFunction("__state", (t: string) => seen.push(t));
    await page.goto(`${server.url}/ui/?token=${TOKEN}#desktop`, { timeout: 15_000 });
    await page.evaluate(() => {
      const el = () => document.getElementById("stream-state");
      new MutationObserver(() => (window as any).__state(el()?.textContent ?? "")).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.locator("#stream-state", { hasText: "live (WebSocket)" }).waitFor({ timeout: 45_000 });
    assert.ok(seen.some((t) => /WebRTC did not connect/.test(t)), `it tried WebRTC first: ${JSON.stringify(seen)}`);
    assert.equal(await page.locator("#canvas").isVisible(), true);
    await blocked.close();

    // asked for explicitly, in a browser whose WebRTC works
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    closers.push(() => context.close());
    const asked = await context.newPage();
    await asked.goto(`${server.url}/ui/?token=${TOKEN}&transport=websocket#desktop`, { timeout: 15_000 });
    await asked.locator("#stream-state", { hasText: "live (WebSocket)" }).waitFor({ timeout: 30_000 });
    // viewers counts both transports: the one viewer is the WebSocket's
    await eventually("one viewer, on the WebSocket", async () => {
      const st = await streamStatus();
      return st.websocketViewers === 1 && st.viewers === 1;
    });
    assert.equal(await asked.locator("#video").isVisible(), false);
    await context.close();
  });
});

describe("stream without ffmpeg", { timeout: 120_000 }, () => {
  it("start fails at once and the status says why", async () => {
    // every program of /usr/bin but ffmpeg
    const bin = mkdtempSync(path.join(os.tmpdir(), "glasspane-noffmpeg-"));
    for (const name of readdirSync("/usr/bin")) if (name !== "ffmpeg") symlinkSync(path.join("/usr/bin", name), path.join(bin, name));
    const s = await startServer({ env: { PATH: bin } });
    try {
      await s.sdk.startDesktop({ width: 640, height: 480, displayNum: 486 });
      const res = await s.fetch("/v1/desktop/stream/start", { method: "POST" });
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { detail: string }).detail, /ffmpeg/);
      const status = await streamStatus(s);
      assert.equal(status.active, false);
      assert.match(status.lastError?.message ?? "", /ffmpeg/);
    } finally {
      await s.stop();
    }
  });
});
