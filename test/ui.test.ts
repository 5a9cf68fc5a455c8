// The web UI at /ui/ in a real Chromium: a person opens it, starts the desktop, sees it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium, type Browser } from "playwright-core";
import { startServer, type TestServer } from "./support/server.js";

let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startServer({ token: "ui-token" });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the UI offers to start a stopped desktop, then shows it live", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/ui/?token=ui-token`, { timeout: 15_000 });
  const start = page.locator("#start");
  await start.waitFor({ state: "visible", timeout: 10_000 });
  assert.match((await page.locator("#state").textContent()) ?? "", /start it/);

  await start.click();
  await page.waitForFunction(() => document.getElementById("state")?.textContent === "live", null, { timeout: 30_000 });
  const size = await page.locator("#screen").evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
  assert.deepEqual(size, [1440, 900]);
  assert.equal(await start.isVisible(), false);
  await server.sdk.stopDesktop();
});

test("the UI's files are served without the token, the API behind it is not", async () => {
  assert.equal((await fetch(`${server.url}/ui/viewer.js`)).status, 200);
  assert.equal((await fetch(`${server.url}/ui/index.html`)).status, 200);
  assert.equal((await fetch(`${server.url}/v1/desktop/status`)).status, 401);
});
