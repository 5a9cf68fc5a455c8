// The web UI at /ui/ in a real Chromium, against a real server and desktop: every view
// with live data, and the human control lease as other clients see it. Screenshots of each
// view go to test-artifacts/ui/.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { eventually, repoRoot, startServer, type TestServer } from "./support/server.js";
import { launchViewerBrowser } from "./support/stream-viewer.js";

const TOKEN = "ui-token";
const artifacts = path.join(repoRoot, "test-artifacts", "ui");
let server: TestServer;
let browser: Browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  server = await startServer({ token: TOKEN, desktop: true });
  browser = await launchViewerBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page of the UI at 1280x800 that records console errors and uncaught exceptions. */
async function openUi(hash: string, query = `token=${TOKEN}`): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => void d.accept());
  await page.goto(`${server.url}/ui/?${query}#${hash}`, { timeout: 15_000 });
  return { page, context, errors };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

const move = (x: number, y: number) =>
  server.fetch("/v1/desktop/mouse/move", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ x, y }) });

async function controlStatus() {
  const s = (await (await server.fetch("/v1/desktop/status")).json()) as { control?: { holder: string; since: string } | null };
  return s.control ?? null;
}

/** Waits until the page's video shows frames, and returns where the picture is drawn. */
async function liveVideo(page: Page) {
  await page.waitForFunction(
    () => {
      const v = document.getElementById("video") as HTMLVideoElement | null;
      return !!v && v.videoWidth > 0 && v.currentTime > 0.5;
    },
    null,
    { timeout: 45_000 },
  );
  return page.locator("#video").evaluate((v: HTMLVideoElement) => {
    const r = v.getBoundingClientRect();
    const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    return { left: r.left + (r.width - v.videoWidth * scale) / 2, top: r.top + (r.height - v.videoHeight * scale) / 2, scale, videoWidth: v.videoWidth, videoHeight: v.videoHeight };
  });
}

describe("the web UI", () => {
  it("serves its files without the token, the API behind it only with it", async () => {
    assert.equal((await fetch(`${server.url}/ui/`)).status, 200);
    assert.equal((await fetch(`${server.url}/ui/app.js`)).status, 200);
    assert.equal((await fetch(`${server.url}/v1/desktop/status`)).status, 401);
  });

  it("Desktop: the stream decodes; a click reaches the desktop only while in control; the lease refuses other clients", async () => {
    // two xterms: B is under the page's click, A was launched last and has the focus
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-ui-"));
    const typed = path.join(dir, "typed.txt");
    const b = await server.sdk.launchDesktopApp({ app: "xterm", args: ["-geometry", "50x8+700+400", "-e", "sh", "-c", `cat > ${typed}`], wait: true });
    const a = await server.sdk.launchDesktopApp({ app: "xterm", args: ["-geometry", "40x6+60+60"], wait: true });
    await eventually("A focused", async () => (await server.sdk.getDesktopFocusedWindow()).id === a.windowId, 15_000);
    const winB = (await server.sdk.listDesktopWindows()).windows.find((w) => w.id === b.windowId)!;

    const { page, context, errors } = await openUi("desktop");
    try {
      const pic = await liveVideo(page);
      assert.deepEqual([pic.videoWidth, pic.videoHeight], [1440, 900]);
      await page.locator("#desktop-state", { hasText: "active" }).waitFor({ timeout: 10_000 });
      await page.locator("#resolution", { hasText: "1440×900" }).waitFor();
      await page.locator("#desktop-processes", { hasText: "Xvfb" }).waitFor();
      const at = (x: number, y: number) => ({ x: pic.left + (x + 0.5) * pic.scale, y: pic.top + (y + 0.5) * pic.scale });
      const target = at(winB.x + 60, winB.y + 40);

      // view only: the page's pointer does not reach the desktop
      const before = await server.sdk.getDesktopMousePosition();
      await page.mouse.click(target.x, target.y);
      await page.mouse.move(target.x + 30, target.y + 10);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await server.sdk.getDesktopFocusedWindow()).id, a.windowId, "a view-only click focused a window");
      assert.deepEqual(await server.sdk.getDesktopMousePosition().then((p) => [p.x, p.y]), [before.x, before.y]);
      await shot(page, "desktop-view-only");

      // in control: the click focuses B, typed keys reach it, other clients get 409 control_held
      await page.locator("#take-control").click();
      await page.locator("#give-back").waitFor({ timeout: 10_000 });
      await page.mouse.move(target.x, target.y);
      await page.mouse.down();
      await page.mouse.up();
      await eventually("B focused by the page's click", async () => (await server.sdk.getDesktopFocusedWindow()).id === b.windowId, 15_000);
      const p = await server.sdk.getDesktopMousePosition();
      assert.ok(Math.abs(p.x - (winB.x + 60)) <= 1 && Math.abs(p.y - (winB.y + 40)) <= 1, `the pointer at ${p.x},${p.y}, not over ${winB.x + 60},${winB.y + 40}`);
      await page.keyboard.type("hi!");
      await page.keyboard.press("Enter");
      await eventually("the typed line in B", () => existsSync(typed) && readFileSync(typed, "utf8") === "hi!\n", 15_000);

      const refused = await move(10, 10);
      assert.equal(refused.status, 409);
      const problem = (await refused.json()) as { code: string; holder: string; since: string; type: string };
      assert.equal(problem.code, "control_held");
      assert.equal(problem.holder, "the Glasspane UI");
      assert.ok(Date.parse(problem.since) <= Date.now());
      assert.equal((await controlStatus())?.holder, "the Glasspane UI");
      assert.equal((await server.fetch("/v1/desktop/keyboard/type", { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"x"}' })).status, 409);

      // clipboard from the page to the desktop
      await page.locator("#clipboard-to-desktop").fill("from the page");
      await page.locator("#send-clipboard").click();
      await eventually("the desktop clipboard set by the page", async () => (await server.sdk.getDesktopClipboard({ selection: "clipboard" } as any)).text === "from the page", 10_000);
      await page.locator("#desktop-clipboard").evaluate((t: HTMLTextAreaElement) => t.value).then(() => undefined);
      await eventually("the page shows the desktop clipboard", async () => (await page.locator("#desktop-clipboard").inputValue()) === "from the page", 10_000);
      await shot(page, "desktop-in-control");

      // Give back: other clients' input works again
      await page.locator("#give-back").click();
      await page.locator("#take-control").waitFor({ timeout: 10_000 });
      await eventually("the lease gone", async () => (await controlStatus()) === null);
      assert.equal((await move(20, 20)).status, 200);

      // take it again and close the page: the lease ends with its socket
      await page.locator("#take-control").click();
      await page.locator("#give-back").waitFor({ timeout: 10_000 });
      assert.equal((await move(30, 30)).status, 409);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
    await eventually("the lease gone with the page", async () => (await controlStatus()) === null, 10_000);
    assert.equal((await move(40, 40)).status, 200);
  });

  it("Desktop: the screenshot button downloads a PNG", async () => {
    const { page, context, errors } = await openUi("desktop");
    try {
      await page.locator("#screenshot").waitFor({ timeout: 15_000 });
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), page.locator("#screenshot").click()]);
      const file = await download.path();
      assert.deepEqual([...readFileSync(file).subarray(1, 4)], [...Buffer.from("PNG")]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("Recordings: a recording made in the page plays in the page, downloads and is deleted", async () => {
    const { page, context, errors } = await openUi("recordings");
    try {
      await page.locator("#recording-fps").fill("10");
      await page.locator("#start-recording").click();
      await page.locator("#stop-recording").waitFor({ timeout: 15_000 });
      const row = page.locator("#recordings tbody tr").first();
      await eventually("the recording growing", async () => !/^0 B$/.test((await row.locator(".size").textContent()) ?? ""), 20_000, 300);
      await eventually("two seconds recorded", async () => /0:0[2-9]/.test((await row.locator(".duration").textContent()) ?? ""), 20_000, 300);
      await page.locator("#stop-recording").click();
      await row.locator("text=completed").waitFor({ timeout: 30_000 });
      assert.match((await row.textContent()) ?? "", /10/);
      await row.locator("button.play").click();
      await page.waitForFunction(
        () => {
          const v = document.getElementById("player") as HTMLVideoElement | null;
          return !!v && v.videoWidth === 1440 && v.currentTime > 0.5;
        },
        null,
        { timeout: 30_000 },
      );
      await shot(page, "recordings");
      // the download link serves the file with ranges
      const href = (await row.locator("a", { hasText: "Download" }).getAttribute("href"))!;
      const part = await fetch(href, { headers: { range: "bytes=0-99" } });
      assert.equal(part.status, 206);
      assert.equal((await part.arrayBuffer()).byteLength, 100);
      const id = (await row.getAttribute("data-id"))!;
      await page.locator("figure button", { hasText: "Close" }).click();
      await row.locator("button.delete").click();
      await page.locator(`#recordings tr[data-id="${id}"]`).waitFor({ state: "detached", timeout: 10_000 });
      assert.equal((await server.fetch(`/v1/desktop/recordings/${id}`)).status, 404);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("Processes: logs follow live, stop ends a process, a new terminal echoes typed input", async () => {
    const started = await server.fetch("/v1/processes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "sh", args: ["-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.3; done"] }),
    });
    const proc = (await started.json()) as { id: string };
    const { page, context, errors } = await openUi("processes");
    try {
      const row = page.locator(`#processes tr[data-id="${proc.id}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.match((await row.textContent()) ?? "", /user.*running/);
      // keyboard: the row is reached and chosen with the keyboard
      await row.focus();
      await page.keyboard.press("Enter");
      await page.locator("#logs", { hasText: "tick-2" }).waitFor({ timeout: 15_000 });
      const seen = Number(/tick-(\d+)\s*$/.exec((await page.locator("#logs").textContent()) ?? "")?.[1]);
      await page.locator("#logs", { hasText: `tick-${seen + 3}` }).waitFor({ timeout: 15_000 });
      await shot(page, "processes-logs");
      await page.locator("#stop-process").click();
      await row.locator(".state", { hasText: "exited" }).waitFor({ timeout: 15_000 });

      await page.locator("#new-terminal").click();
      const term = page.locator(".term-pane");
      await term.waitFor({ timeout: 10_000 });
      await term.locator(".xterm-rows", { hasText: /[#$]/ }).waitFor({ timeout: 15_000 });
      await term.click();
      await page.keyboard.type("echo hello-$((6*7))");
      await page.keyboard.press("Enter");
      await term.locator(".xterm-rows", { hasText: "hello-42" }).waitFor({ timeout: 15_000 });
      await shot(page, "processes-terminal");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("Agent sessions: a mock-agent session streams its reply and a permission request is answered from the page", async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), "glasspane-ui-session-"));
    const { page, context, errors } = await openUi("sessions");
    try {
      await page.locator('#agents tr[data-id="mock"]', { hasText: "yes" }).waitFor({ timeout: 15_000 });
      await page.locator('#agents tr[data-id="claude"]').waitFor();
      await page.locator("#session-agent").selectOption("mock");
      await page.locator("#session-cwd").fill(cwd);
      await page.locator("#start-session").click();
      await page.locator("#send-prompt:not([disabled])").waitFor({ timeout: 30_000 });
      await page.locator("#prompt").fill("hello, may I have permission");
      await page.keyboard.press("Enter");
      const transcript = page.locator("#transcript");
      await transcript.locator(".msg.agent", { hasText: "mock: hello, may I have permission" }).waitFor({ timeout: 20_000 });
      const ask = transcript.locator(".msg.permission");
      await ask.locator("button[data-option=allow_once]").waitFor({ timeout: 20_000 });
      await shot(page, "sessions-permission");
      await ask.locator("button[data-option=allow_once]").click();
      await transcript.locator(".msg.agent", { hasText: "allowed" }).waitFor({ timeout: 20_000 });
      await transcript.locator(".msg.tool", { hasText: "completed" }).waitFor({ timeout: 20_000 });
      await transcript.locator(".msg.end", { hasText: "end turn" }).waitFor({ timeout: 20_000 });
      await ask.locator("text=answered: Allow").waitFor();
      assert.equal(await page.locator(".session .error").count(), 0, (await page.locator(".session .error").first().textContent().catch(() => "")) ?? "");
      await shot(page, "sessions-transcript");
      const servers = (await (await server.fetch("/v1/acp")).json()) as { servers: Array<{ serverId: string; agent: string }> };
      assert.ok(servers.servers.some((s) => s.agent === "mock" && s.serverId.startsWith("ui-")));
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("Connection: a server that is away is said so, and connecting to the right one works", async () => {
    const { page, context } = await openUi("connection", "server=http://127.0.0.1:9&token=nope");
    try {
      await page.locator(".banner", { hasText: "is away" }).waitFor({ timeout: 15_000 });
      await shot(page, "connection-away");
      await page.locator("input[name=server]").fill(server.url);
      await page.locator("input[name=token]").fill("wrong");
      await page.locator("button[type=submit]").click();
      await page.locator(".banner", { hasText: "refused the token" }).waitFor({ timeout: 15_000 });
      await page.locator("input[name=token]").fill(TOKEN);
      await page.locator("button[type=submit]").click();
      await page.locator("#connection-state", { hasText: "Connected to" }).waitFor({ timeout: 15_000 });
      // kept for the tab: a reload without the query stays connected
      await page.goto(`${server.url}/ui/#desktop`);
      await page.locator("#reach", { hasText: "connected" }).waitFor({ timeout: 15_000 });
      await shot(page, "connection-desktop");
    } finally {
      await context.close();
    }
  });
});
