// The browser as agents use it: a real `glasspane server` with a desktop, Debian's Chromium
// started through the API, Playwright and agent-browser driving it over CDP through
// Glasspane's port and token, a page served by the test, screenshots of the desktop.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser as PwBrowser } from "playwright-core";
import sharp from "sharp";
import WebSocket from "ws";
import { eventually, repoRoot, startServer, type TestServer } from "./support/server.js";
import { alive } from "./support/checks.js";
import { processGroupAlive } from "../main/shared/process.js";

const TOKEN = "browser-test-token";
const W = 1280;
const H = 800;
/** The page's background: a colour nothing else on the desktop has. */
const PAGE_RGB = [20, 160, 220] as const;

interface BrowserStatus {
  state: string;
  processId: string | null;
  pid: number | null;
  restarts: number;
  version: { browser: string; protocolVersion: string } | null;
  debuggingPort: number | null;
  cdp?: { webSocketDebuggerUrl: string; httpUrl: string } | null;
  cdpClients: number;
  pages: Array<{ id: string; type: string; title: string; url: string }>;
  windows: Array<{ id: string; title: string; width: number; height: number }>;
  profile: string | null;
  profileDir: string | null;
  downloadsDir: string | null;
}

let server: TestServer;
let site: Server;
let siteUrl: string;
/** absolute-form request targets the site saw: requests that came to it as a proxy */
const proxied: string[] = [];
const abHome = mkdtempSync(path.join(os.tmpdir(), "glasspane-agent-browser-"));

const PAGE = `<!doctype html><html><head><title>Signup</title></head>
<body style="margin:0;background:rgb(${PAGE_RGB.join(",")});height:100vh;font:20px sans-serif">
<form id="signup" onsubmit="event.preventDefault(); document.getElementById('out').textContent = 'Hello ' + this.name.value">
  <label>Name <input name="name" id="name"></label>
  <button type="submit" id="go">Sign up</button>
</form>
<p id="out"></p>
<button id="count" onclick="this.textContent = 'Clicked ' + (++window.clicks) + ' times'">Count clicks</button>
<script>window.clicks = 0</script>
<a id="dl" href="/download" download>Get the report</a>
</body></html>`;

async function status(): Promise<BrowserStatus> {
  const res = await server.fetch("/v1/desktop/browser/status");
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as BrowserStatus;
}

async function post(p: string, body?: unknown): Promise<Response> {
  return server.fetch(p, body === undefined ? { method: "POST" } : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

function wsBase(): string {
  return server.url.replace(/^http/, "ws");
}

/** The status code of a WebSocket upgrade that the server refused (or 101 if it did not). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once("error", (err) => reject(err));
  });
}

/** Share of the screenshot's pixels that have the page's colour. */
async function pageColourShare(): Promise<number> {
  const res = await server.fetch("/v1/desktop/screenshot?format=png");
  assert.equal(res.status, 200);
  const { data, info } = await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
  let hits = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (Math.abs(data[i]! - PAGE_RGB[0]) < 6 && Math.abs(data[i + 1]! - PAGE_RGB[1]) < 6 && Math.abs(data[i + 2]! - PAGE_RGB[2]) < 6) hits++;
  }
  return hits / (info.width * info.height);
}

/** Pids whose command line names `needle` (a profile directory): the browser and its helpers. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle) && alive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Listening sockets on `port` from /proc/net/tcp{,6}: their local addresses in hex. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [addr, p] = f[1]!.split(":");
      if (p === hexPort && f[3] === "0A") out.push(addr!);
    }
  }
  return out;
}

/** Runs the published agent-browser CLI (its own Linux binary from the npm package) against `cdp`. */
function agentBrowser(args: string[]): Promise<string> {
  const bin = path.join(repoRoot, "node_modules", ".bin", "agent-browser");
  return new Promise((resolve, reject) => {
    execFile(bin, ["--session", "glasspane-test", ...args], { env: { ...process.env, HOME: abHome, AGENT_BROWSER_IDLE_TIMEOUT_MS: "120000" }, timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`agent-browser ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

before(async () => {
  site = createServer((req, res) => {
    if (req.url?.startsWith("http://")) proxied.push(req.url);
    if (req.url === "/download") {
      res.writeHead(200, { "content-type": "text/plain", "content-disposition": 'attachment; filename="report.txt"' });
      return res.end("quarterly numbers\n");
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end(PAGE);
  });
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
  server = await startServer({ token: TOKEN, desktop: true, args: ["--width", String(W), "--height", String(H)] });
});

after(async () => {
  // the agent-browser daemon of this test, if a failure left it running
  const pidFile = path.join(abHome, ".agent-browser", "glasspane-test.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (pid > 0 && alive(pid)) process.kill(pid, "SIGTERM");
  }
  await server?.stop();
  await new Promise((r) => site?.close(r));
  rmSync(abHome, { recursive: true, force: true });
});

describe("the browser", () => {
  let pw: PwBrowser;
  let first: BrowserStatus;

  it("starts Chromium on the desktop under the process manager, its DevTools port on loopback only", async () => {
    const res = await post("/v1/desktop/browser/start", { url: siteUrl });
    assert.equal(res.status, 200, await res.clone().text());
    first = (await res.json()) as BrowserStatus;
    assert.equal(first.state, "running");
    assert.match(first.version!.browser, /^(Headless)?Chrome\/\d+/);
    assert.ok(first.pid && alive(first.pid));
    assert.equal(first.cdp!.webSocketDebuggerUrl, `${wsBase()}/v1/desktop/browser/cdp`);
    assert.equal(first.profile, "default");
    assert.ok(first.downloadsDir!.startsWith(server.stateDir));

    // 127.0.0.1 only: 0100007F in /proc/net/tcp; never 0.0.0.0 or ::
    const port = first.debuggingPort!;
    assert.deepEqual(listeners(port), ["0100007F"]);

    const cmdline = readFileSync(`/proc/${first.pid}/cmdline`, "utf8").split("\0");
    for (const flag of ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]) {
      assert.ok(cmdline.includes(flag), `Chromium runs with ${flag}: ${cmdline.join(" ")}`);
    }

    const procs = (await (await server.fetch("/v1/processes")).json()) as { processes: Array<{ id: string; owner: string; status: string }> };
    const proc = procs.processes.find((p) => p.id === first.processId);
    assert.equal(proc?.owner, "desktop");
    assert.equal(proc?.status, "running");

    // a second start without options is the running browser
    const again = (await (await post("/v1/desktop/browser/start")).json()) as BrowserStatus;
    assert.equal(again.pid, first.pid);
    const changed = await post("/v1/desktop/browser/start", { url: "about:blank", freshProfile: true });
    assert.equal(changed.status, 409);
  });

  it("is driven by Playwright over CDP through Glasspane: fills a form and reads the DOM; the desktop shows the page", async () => {
    pw = await chromium.connectOverCDP(first.cdp!.httpUrl, { headers: { Authorization: `Bearer ${TOKEN}` }, timeout: 30_000 });
    const page = pw.contexts()[0]!.pages().find((p) => p.url() === siteUrl);
    assert.ok(page, `the start page is open: ${pw.contexts()[0]!.pages().map((p) => p.url())}`);
    await page.fill("#name", "Ada");
    await page.click("#go");
    assert.equal(await page.textContent("#out"), "Hello Ada");
    assert.equal(await page.evaluate(() => document.title), "Signup");
    await page.bringToFront();
    // a maximized window: the page's colour covers most of the screen
    await eventually("the page's colour on the desktop screenshot", async () => (await pageColourShare()) > 0.5, 30_000, 250);

    const st = await status();
    assert.ok(st.cdpClients >= 1);
    assert.ok(st.pages.some((p) => p.type === "page" && p.url === siteUrl && p.title === "Signup"));
    // its window, by pid, for the window and action endpoints: maximized on the screen
    await eventually("the browser's window in the status", async () => (await status()).windows.some((w) => w.title.includes("Signup") && w.width > W * 0.9), 15_000, 200);
  });

  it("rewrites the discovery documents to point back through Glasspane, and needs the token for them", async () => {
    const version = (await (await server.fetch("/v1/desktop/browser/json/version")).json()) as Record<string, string>;
    assert.equal(version.webSocketDebuggerUrl, `${wsBase()}/v1/desktop/browser/cdp`);
    assert.match(version.Browser!, /Chrome\//);
    const list = (await (await server.fetch("/v1/desktop/browser/json/list")).json()) as Array<Record<string, string>>;
    const target = list.find((t) => t.url === siteUrl)!;
    assert.equal(target.webSocketDebuggerUrl, `${wsBase()}/v1/desktop/browser/devtools/page/${target.id}`);
    assert.ok(!JSON.stringify(list).includes(`:${first.debuggingPort}`), "no URL names the browser's own port");

    // a page target's socket, through Glasspane, with the token in the query
    const ws = new WebSocket(`${target.webSocketDebuggerUrl}?access_token=${TOKEN}`);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    ws.send(JSON.stringify({ id: 1, method: "Runtime.evaluate", params: { expression: "document.querySelector('#out').textContent", returnByValue: true } }));
    const [reply] = (await new Promise((r) => ws.once("message", (d) => r([JSON.parse(d.toString())])))) as [{ result: { result: { value: string } } }];
    assert.equal(reply.result.result.value, "Hello Ada");
    ws.close();

    const noToken = await fetch(`${server.url}/v1/desktop/browser/json/version`);
    assert.equal(noToken.status, 401);
  });

  it("refuses a missing or wrong token and a foreign Origin", async () => {
    const cdp = `${wsBase()}/v1/desktop/browser/cdp`;
    assert.equal(await upgradeStatus(cdp), 401);
    assert.equal(await upgradeStatus(`${cdp}?access_token=wrong`), 401);
    assert.equal(await upgradeStatus(cdp, { Authorization: "Bearer wrong" }), 401);
    await assert.rejects(chromium.connectOverCDP(cdp, { timeout: 15_000 }), /401/);
    await assert.rejects(chromium.connectOverCDP(first.cdp!.httpUrl, { headers: { Authorization: "Bearer wrong" }, timeout: 15_000 }), /401/);

    assert.equal(await upgradeStatus(`${cdp}?access_token=${TOKEN}`, { Origin: "http://evil.example" }), 403);
    assert.equal(await upgradeStatus(`${cdp}?access_token=${TOKEN}`, { Origin: "null" }), 403);
    // the server's own origin (its UI) may
    assert.equal(await upgradeStatus(`${cdp}?access_token=${TOKEN}`, { Origin: server.url }), 101);
  });

  it("is driven by agent-browser --cdp through Glasspane at the same time as Playwright", async () => {
    const cdp = `${wsBase()}/v1/desktop/browser/cdp?access_token=${TOKEN}`;
    const opened = await agentBrowser(["--cdp", cdp, "open", siteUrl]);
    assert.match(opened, /127\.0\.0\.1/);
    const snapshot = await agentBrowser(["--cdp", cdp, "snapshot", "-i"]);
    const ref = /button "Count clicks" \[ref=(e\d+)\]/.exec(snapshot)?.[1];
    assert.ok(ref, `the snapshot lists the button with a ref:\n${snapshot}`);
    await agentBrowser(["--cdp", cdp, "click", `@${ref}`]);

    // Playwright, still connected, sees the click on the page agent-browser drives
    assert.ok(pw.isConnected());
    await eventually("Playwright sees the clicked page", async () => {
      for (const p of pw.contexts()[0]!.pages()) if ((await p.textContent("#count").catch(() => "")) === "Clicked 1 times") return true;
      return false;
    }, 15_000, 200);
    assert.equal(await agentBrowser(["--cdp", cdp, "get", "text", `@${ref}`]).then((s) => s.trim()), "Clicked 1 times");

    // agent-browser's close ends its session; the browser keeps running for everyone else
    await agentBrowser(["close"]);
    assert.ok(pw.isConnected());
    assert.equal((await status()).pid, first.pid);
  });

  it("comes back after Chromium is SIGKILLed while wanted; a new CDP connection works; a client leaving keeps it running", async () => {
    const before = await status();
    const oldPid = before.pid!;
    const disconnected = new Promise<void>((r) => pw.once("disconnected", () => r()));
    process.kill(oldPid, "SIGKILL");
    await disconnected;
    let now = before;
    await eventually("a new Chromium answering on its DevTools port", async () => {
      now = await status();
      return now.state === "running" && now.pid !== null && now.pid !== oldPid;
    }, 60_000, 250);
    assert.equal(now.processId, before.processId);
    assert.ok(now.restarts >= 1);
    // the killed browser's zygote and renderers went with it
    await eventually("the killed browser's process group is gone", () => !processGroupAlive(oldPid), 10_000);

    const again = await chromium.connectOverCDP(`${wsBase()}/v1/desktop/browser/cdp?access_token=${TOKEN}`, { timeout: 30_000 });
    const page = again.contexts()[0]!.pages()[0] ?? (await again.contexts()[0]!.newPage());
    assert.equal(await page.evaluate(() => 1 + 1), 2);
    await again.close(); // a client that leaves does not take the browser along
    await eventually("no CDP clients", async () => (await status()).cdpClients === 0, 10_000);
    assert.equal((await status()).pid, now.pid);
  });

  it("stops: no Chromium process is left, by pid and by process group", async () => {
    const st = await status();
    const pid = st.pid!;
    const res = await post("/v1/desktop/browser/stop");
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as BrowserStatus).state, "stopped");
    assert.ok(!alive(pid), "the browser process is gone");
    await eventually("the browser's process group is gone", () => !processGroupAlive(pid), 10_000);
    assert.deepEqual(processesMentioning(st.profileDir!), []);
    const refused = await upgradeStatus(`${wsBase()}/v1/desktop/browser/cdp?access_token=${TOKEN}`);
    assert.equal(refused, 409);
  });

  it("a fresh profile with a window size: downloads land where status says, readable through /v1/fs; the profile goes at stop", async () => {
    const res = await post("/v1/desktop/browser/start", { url: siteUrl, freshProfile: true, windowSize: { width: 800, height: 600 } });
    assert.equal(res.status, 200, await res.clone().text());
    const st = (await res.json()) as BrowserStatus;
    assert.match(st.profile!, /^fresh-/);
    // a CDP client clicks the download link (Playwright would redirect downloads to its own folder)
    const target = st.pages.find((p) => p.type === "page")!;
    const ws = new WebSocket(`${wsBase()}/v1/desktop/browser/devtools/page/${target.id}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    await eventually("the page loaded", async () => {
      ws.send(JSON.stringify({ id: 1, method: "Runtime.evaluate", params: { expression: "document.getElementById('dl') ? (document.getElementById('dl').click(), true) : false", returnByValue: true } }));
      const reply = (await new Promise((r) => ws.once("message", (d) => r(JSON.parse(d.toString()))))) as { result?: { result?: { value?: boolean } } };
      return reply.result?.result?.value === true;
    }, 20_000, 250);
    ws.close();
    const file = path.join(st.downloadsDir!, "report.txt");
    await eventually("the download in the downloads folder", () => existsSync(file), 20_000, 100);
    const read = await server.fetch(`/v1/fs/file?path=${encodeURIComponent(file)}`);
    assert.equal(await read.text(), "quarterly numbers\n");

    // the window has the asked size: the page colour covers much less than the screen
    await eventually("the smaller window on the desktop", async () => {
      const share = await pageColourShare();
      return share > 0.15 && share < 0.5;
    }, 20_000, 250);

    const [win] = (await status()).windows;
    assert.ok(win && Math.abs(win.width - 800) < 40 && Math.abs(win.height - 600) < 80, `an 800x600 window: ${JSON.stringify(win)}`);

    await post("/v1/desktop/browser/stop");
    assert.ok(!existsSync(st.profileDir!), "the fresh profile is deleted");
  });

  it("refuses flags Glasspane owns and bad input", async () => {
    const bad = [
      { args: ["--remote-debugging-address=0.0.0.0"] },
      { args: ["--user-data-dir=/tmp/x"] },
      { args: ["not-a-flag"] },
      { profile: "../escape" },
      { windowSize: { width: 800, height: 600 }, maximized: true },
      { unknown: 1 },
    ];
    for (const body of bad) {
      const res = await post("/v1/desktop/browser/start", body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${await res.clone().text()}`);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
    }
    assert.equal((await status()).state, "stopped");
  });

  it("keeps a named profile's state across starts; a proxy carries the browser's traffic", async () => {
    const first = await post("/v1/desktop/browser/start", { profile: "work", url: siteUrl });
    assert.equal(first.status, 200, await first.clone().text());
    const cdp = `${wsBase()}/v1/desktop/browser/cdp?access_token=${TOKEN}`;
    let pwWork = await chromium.connectOverCDP(cdp, { timeout: 30_000 });
    const page = pwWork.contexts()[0]!.pages().find((p) => p.url() === siteUrl)!;
    await page.evaluate(() => localStorage.setItem("remembered", "yes"));
    await pwWork.close();
    assert.equal((await post("/v1/desktop/browser/stop")).status, 200);

    const res = await post("/v1/desktop/browser/start", { profile: "work", url: "http://through-the-proxy.invalid/", proxy: { server: siteUrl.replace(/\/$/, "") } });
    assert.equal(res.status, 200, await res.clone().text());
    const st = (await res.json()) as BrowserStatus;
    assert.equal(st.profileDir, path.join(server.stateDir, "browser", "profiles", "work"));
    await eventually("the page came through the proxy", async () => (await status()).pages.some((p) => p.url === "http://through-the-proxy.invalid/" && p.title === "Signup"), 30_000, 200);
    assert.ok(proxied.includes("http://through-the-proxy.invalid/"), `the proxy saw the request: ${proxied}`);

    pwWork = await chromium.connectOverCDP(cdp, { timeout: 30_000 });
    const again = await pwWork.contexts()[0]!.newPage();
    await again.goto(siteUrl); // loopback bypasses the proxy
    assert.equal(await again.evaluate(() => localStorage.getItem("remembered")), "yes");
    await pwWork.close();
    await post("/v1/desktop/browser/stop");
    assert.ok(existsSync(st.profileDir!), "a named profile stays");
  });

  it("stops with the desktop, and needs one to start", async () => {
    const res = await post("/v1/desktop/browser/start", { url: siteUrl });
    assert.equal(res.status, 200, await res.clone().text());
    const { pid } = (await res.json()) as BrowserStatus;
    assert.equal((await post("/v1/desktop/stop")).status, 200);
    assert.equal((await status()).state, "stopped");
    assert.ok(!alive(pid!));
    await eventually("the browser's process group is gone", () => !processGroupAlive(pid!), 10_000);
    const refused = await post("/v1/desktop/browser/start");
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { code: string }).code, "desktop_not_active");
  });
});
