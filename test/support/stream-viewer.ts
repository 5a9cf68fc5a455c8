// A real WebRTC viewer for the live stream: Chromium running the published sandbox-agent
// SDK's DesktopStreamSession (bundled with esbuild), on a page served same-origin with
// the server under test. Tests and the stream benchmark share it.
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_REQUIRED_FLAGS } from "../../main/browser/flags.js";
import { XConnection } from "../../main/desktop/x11/connection.js";
import { repoRoot } from "./server.js";

let bundle: Promise<string> | undefined;

/** The SDK's browser build: its own code, not ours, speaks the signaling protocol. */
export function sdkBundle(): Promise<string> {
  bundle ??= build({
    stdin: { contents: 'export { SandboxAgent } from "sandbox-agent";', resolveDir: repoRoot, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

const PAGE = `<!doctype html>
<html><body style="margin:0;background:#000">
<video id="v" autoplay muted playsinline></video>
<canvas id="c" style="display:none"></canvas>
<script type="module">
import { SandboxAgent } from "./sdk.js";
const params = new URLSearchParams(location.search);
const sdk = new SandboxAgent({ baseUrl: location.origin, token: params.get("token") || undefined, skipHealthCheck: true });
const video = document.getElementById("v");
const canvas = document.getElementById("c");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
const w = window;
w.errors = [];
w.frames = 0;
w.watchers = [];
w.t0 = Date.now();
const session = sdk.connectDesktopStream();
w.session = session;
session.onReady((s) => (w.ready = s));
session.onTrack((stream) => { video.srcObject = stream; video.play().catch(() => {}); });
session.onConnect(() => (w.connectedAt = Date.now()));
session.onError((e) => w.errors.push(String(e && e.message || e)));
session.onDisconnect(() => (w.disconnected = true));
function sample(x, y) {
  ctx.drawImage(video, x, y, 1, 1, 0, 0, 1, 1);
  return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
}
/** largest channel difference from rgb over a w x h box */
function deviation(x, y, w, h, rgb) {
  ctx.drawImage(video, x, y, w, h, 0, 0, w, h);
  const d = ctx.getImageData(0, 0, w, h).data;
  let max = 0;
  for (let i = 0; i < d.length; i += 4) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(d[i + c] - rgb[c]));
  return max;
}
function onFrame(now, meta) {
  w.frames++;
  w.firstFrameAt ??= Date.now();
  if (canvas.width !== 64) { canvas.width = 64; canvas.height = 64; }
  const at = Date.now();
  // watchers resolve on the first presented frame whose pixel matches
  w.watchers = w.watchers.filter((watch) => {
    const dev = deviation(watch.x, watch.y, watch.w, watch.h, watch.rgb);
    if ((dev <= watch.tolerance) === !!watch.invert) return true;
    // receiveTime: when the frame's last packet arrived (performance clock)
    const received = meta && meta.receiveTime ? performance.timeOrigin + meta.receiveTime : null;
    watch.resolve({ at, dev, received });
    return false;
  });
  video.requestVideoFrameCallback(onFrame);
}
video.requestVideoFrameCallback(onFrame);
w.pixel = (x, y) => sample(x, y);
// resolves on the first presented frame where the box is within tolerance of rgb (invert: no longer is)
w.waitRegion = (x, y, wd, ht, rgb, tolerance, invert) => new Promise((resolve) => {
  w.watchers.push({ x, y, w: wd, h: ht, rgb, tolerance, invert, resolve });
});
// two steps, so a caller can arm the watch before it changes the screen
w.armed = {};
w.arm = (key, x, y, wd, ht, rgb, tolerance, invert) => { w.armed[key] = w.waitRegion(x, y, wd, ht, rgb, tolerance, invert); };
w.collect = (key, timeoutMs) => Promise.race([w.armed[key], new Promise((r) => setTimeout(() => r(null), timeoutMs))]);
// input-to-photon: send a pointer move on the data channel, time until the box shows a change
w.moveAndWatch = async (mx, my, box, rgb, tolerance) => {
  const t0 = Date.now();
  const seen = w.waitRegion(box.x, box.y, box.w, box.h, rgb, tolerance, true);
  session.moveMouse(mx, my);
  const { at, received } = await seen;
  return { ms: at - t0, inBrowser: received ? at - received : null };
};
w.inbound = async () => {
  if (!session.pc) return null;
  const report = await session.pc.getStats();
  let out = null;
  report.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") out = s; });
  return out && { framesDecoded: out.framesDecoded ?? 0, frameWidth: out.frameWidth, frameHeight: out.frameHeight,
    framesDropped: out.framesDropped ?? 0, packetsLost: out.packetsLost ?? 0, freezeCount: out.freezeCount ?? 0,
    jitterBufferDelay: out.jitterBufferDelay, jitterBufferEmittedCount: out.jitterBufferEmittedCount, codec: out.codecId };
};
w.size = () => [video.videoWidth, video.videoHeight];
</script></body></html>`;

/** Chromium as the tests launch it, with a persistent profile whose WebRTC ports stay in a range. */
export async function launchViewerBrowser(executablePath = "/usr/bin/chromium"): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      ...CHROMIUM_REQUIRED_FLAGS,
      "--autoplay-policy=no-user-gesture-required",
      "--allow-loopback-in-peer-connection",
      // the page is fulfilled by the test, which Chromium counts as a public origin reaching loopback
      "--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks",
    ],
    timeout: 30_000,
  });
}

export interface StreamViewer {
  page: Page;
  /** waits for a decoded picture; resolves with the page's timings (epoch ms) */
  waitForPicture(ms?: number): Promise<{ t0: number; connectedAt: number; firstFrameAt: number }>;
  inbound(): Promise<{ framesDecoded: number; frameWidth?: number; frameHeight?: number; framesDropped: number; packetsLost: number; freezeCount: number; jitterBufferDelay?: number; jitterBufferEmittedCount?: number } | null>;
  size(): Promise<[number, number]>;
  pixel(x: number, y: number): Promise<[number, number, number]>;
  /** epoch ms of the first presented frame where the pixel is (or, inverted, stops being) within tolerance of rgb */
  waitPixel(x: number, y: number, rgb: [number, number, number], opts?: { tolerance?: number; invert?: boolean; timeoutMs?: number; size?: [number, number] }): Promise<number>;
  /** waitPixel in two steps: arm() before changing the screen, then collect() the epoch ms */
  arm(x: number, y: number, rgb: [number, number, number], opts?: { tolerance?: number; invert?: boolean; size?: [number, number] }): Promise<() => Promise<{ at: number; received: number | null }>>;
  errors(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Opens a viewer page for `serverUrl`: the SDK connects to the signaling socket at once.
 * `desktopId` points the SDK's viewer at `/v1/desktops/{id}/stream/signaling` (the SDK itself
 * knows only the default desktop's `/v1/desktop/...`).
 */
export async function openViewer(browser: Browser, serverUrl: string, token?: string, opts: { desktopId?: string } = {}): Promise<StreamViewer> {
  const bundle = await sdkBundle();
  const js = opts.desktopId ? bundle.replaceAll("/desktop/stream/signaling", `/desktops/${encodeURIComponent(opts.desktopId)}/stream/signaling`) : bundle;
  if (opts.desktopId && js === bundle) throw new Error("the SDK bundle has no /desktop/stream/signaling path to point at another desktop");
  const context = await browser.newContext();
  const page = await context.newPage();
  const prefix = `${serverUrl}/__stream-viewer/`;
  await page.route(`${prefix}**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.endsWith("/sdk.js")) return route.fulfill({ contentType: "text/javascript", body: js });
    return route.fulfill({ contentType: "text/html", body: PAGE });
  });
  await page.goto(`${prefix}index.html${token ? `?token=${encodeURIComponent(token)}` : ""}`, { timeout: 15_000 });
  return {
    page,
    async waitForPicture(ms = 20_000) {
      await page.waitForFunction(() => (window as any).frames > 0, null, { timeout: ms });
      return page.evaluate(() => {
        const w = window as any;
        return { t0: w.t0, connectedAt: w.connectedAt, firstFrameAt: w.firstFrameAt };
      });
    },
    inbound: () => page.evaluate(() => (window as any).inbound()),
    size: () => page.evaluate(() => (window as any).size()),
    pixel: (x, y) => page.evaluate(([x, y]) => (window as any).pixel(x, y), [x, y]),
    async waitPixel(x, y, rgb, opts = {}) {
      const [w, h] = opts.size ?? [1, 1];
      const result = await page.evaluate(
        ([x, y, w, h, rgb, tolerance, invert, timeoutMs]) =>
          Promise.race([
            (window as any).waitRegion(x, y, w, h, rgb, tolerance, invert),
            new Promise((r) => setTimeout(() => r(null), timeoutMs as number)),
          ]),
        [x, y, w, h, rgb, opts.tolerance ?? 40, opts.invert ?? false, opts.timeoutMs ?? 10_000] as const,
      );
      if (!result) throw new Error(`pixel (${x},${y}) did not ${opts.invert ? "leave" : "reach"} rgb(${rgb}) within ${opts.timeoutMs ?? 10_000} ms`);
      return (result as { at: number }).at;
    },
    async arm(x, y, rgb, opts = {}) {
      const key = `k${Math.random()}`;
      const [w, h] = opts.size ?? [1, 1];
      await page.evaluate(([key, x, y, w, h, rgb, tol, inv]) => (window as any).arm(key, x, y, w, h, rgb, tol, inv), [key, x, y, w, h, rgb, opts.tolerance ?? 40, opts.invert ?? false] as const);
      return async () => {
        const seen = await page.evaluate(([key]) => (window as any).collect(key, 10_000), [key] as const);
        if (seen === null) throw new Error(`pixel (${x},${y}) did not reach rgb(${rgb}) within 10 s`);
        return seen as { at: number; received: number | null };
      };
    },
    errors: () => page.evaluate(() => (window as any).errors),
    async close() {
      await context.close().catch(() => undefined);
    },
  };
}

/** A solid window drawn straight on the X display, whose colour the test changes. */
export class ColorPatch {
  private constructor(
    private readonly conn: XConnection,
    private readonly wid: number,
  ) {}

  static async open(display: string, rect: { x: number; y: number; width: number; height: number }, rgb: [number, number, number]): Promise<ColorPatch> {
    const conn = await XConnection.open(display, 5000);
    const X = conn.X;
    const wid = X.AllocID();
    X.CreateWindow(wid, conn.screen.root, rect.x, rect.y, rect.width, rect.height, 0, 0, 0, 0, { backgroundPixel: pixelOf(rgb), overrideRedirect: 1 });
    X.MapWindow(wid);
    await conn.fence();
    return new ColorPatch(conn, wid);
  }

  /** Repaints; resolves with the epoch ms at which the X server has applied it. */
  async set(rgb: [number, number, number]): Promise<number> {
    this.conn.X.ChangeWindowAttributes(this.wid, { backgroundPixel: pixelOf(rgb) });
    this.conn.X.ClearArea(this.wid, 0, 0, 0, 0, 0);
    await this.conn.fence();
    return Date.now();
  }

  close() {
    try {
      this.conn.X.DestroyWindow(this.wid);
    } catch {
      /* display gone */
    }
    this.conn.close();
  }
}

function pixelOf([r, g, b]: [number, number, number]): number {
  return (r << 16) | (g << 8) | b;
}

/** Median and 95th percentile of a list of numbers. */
export function summary(values: number[]): { median: number; p95: number; n: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), n: s.length };
}

