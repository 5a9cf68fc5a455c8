// Several desktops in one runtime (issue 14): each has its own display, input, stream,
// recordings and processes; a per-desktop token reaches only its desktop. Real Xvfb,
// openbox, xterm and ffmpeg; the published SDK for the default desktop, fetch for the others.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { ColorPatch, launchViewerBrowser, openViewer } from "./support/stream-viewer.js";
import { connectReceiver } from "./support/stream-receiver.js";

const TOKEN = "desktops-test-token";
const SIZE = { width: 640, height: 480 };
let server: TestServer;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-desktops-"));
const patches: ColorPatch[] = [];
/** a's own token */
let tokenA: string;
const displays: Record<string, string> = {};

async function json<T = any>(res: Response): Promise<T> {
  const text = await res.text();
  assert.ok(res.ok, `${res.url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

const post = (p: string, body: unknown = {}) => server.fetch(p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The centre pixel of a desktop's screenshot, through its own route. */
async function centre(prefix: string): Promise<[number, number, number]> {
  const res = await server.fetch(`${prefix}/screenshot`);
  assert.equal(res.status, 200);
  const { data, info } = await sharp(Buffer.from(await res.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

/** Launches `xterm -e sh -c 'cat > file'` on a desktop and focuses it. */
async function typingTerminal(prefix: string, file: string) {
  const launched = await json(await post(`${prefix}/launch`, { app: "xterm", args: ["-title", "typing", "-geometry", "30x5+0+0", "-e", "sh", "-c", `cat > ${file}`], wait: true }));
  assert.ok(launched.windowId);
  await json(await post(`${prefix}/windows/${launched.windowId}/focus`));
  return launched as { processId: string; windowId: string };
}

const readOr = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};

before(async () => {
  server = await startServer({ token: TOKEN, args: ["--max-desktops", "3"] });
  await server.sdk.startDesktop({ ...SIZE });
  displays.default = (await server.sdk.getDesktopStatus()).display!;
});

after(async () => {
  for (const p of patches) p.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("several desktops in one runtime", () => {
  it("creates two desktops at the same moment on different displays", async () => {
    const [a, b] = await Promise.all([post("/v1/desktops", { id: "a", ...SIZE, accessToken: true }), post("/v1/desktops", { id: "b", ...SIZE })]);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    const ca = await json(a);
    const cb = await json(b);
    assert.equal(ca.status.state, "active");
    assert.equal(cb.status.state, "active");
    assert.equal(typeof ca.accessToken, "string");
    assert.equal(cb.accessToken, undefined);
    tokenA = ca.accessToken;
    displays.a = ca.status.display;
    displays.b = cb.status.display;
    assert.equal(new Set(Object.values(displays)).size, 3, `three different displays: ${JSON.stringify(displays)}`);
    const list = await json(await server.fetch("/v1/desktops"));
    assert.deepEqual(list.desktops.map((d: { id: string }) => d.id).sort(), ["a", "b", "default"]);
    assert.ok(list.desktops.every((d: { state: string }) => d.state === "active"));
    assert.equal(list.maxDesktops, 3);
    // the metrics count every desktop, against --max-desktops
    const metrics = await (await server.fetch("/metrics")).text();
    assert.match(metrics, /^glasspane_desktops_capacity 3$/m);
    assert.match(metrics, /^glasspane_desktops_in_use 3$/m);
    assert.match(metrics, /^glasspane_desktops\{state="active"\} 3$/m);
    const one = await json(await server.fetch("/v1/desktops/a"));
    assert.equal(one.display, displays.a);
    assert.equal(one.accessToken, true);
  });

  it("answers 409 beyond --max-desktops, naming the limit and the flag, and 404 for an unknown desktop", async () => {
    const res = await post("/v1/desktops", { id: "c", ...SIZE });
    assert.equal(res.status, 409);
    const p = await res.json();
    assert.equal(p.code, "desktop_limit_reached");
    assert.match(p.detail, /3 desktops/);
    assert.match(p.detail, /--max-desktops/);
    assert.equal((await server.fetch("/v1/desktops/nope/screenshot")).status, 404);
    assert.equal((await server.fetch("/v1/desktops/nope")).status, 404);
    assert.equal((await post("/v1/desktops", { id: "a" })).status, 409, "an id that exists");
    assert.equal((await post("/v1/desktops", { id: "Bad Id" })).status, 400);
  });

  it("shows each desktop's own content in its screenshots", async () => {
    const colours: Record<string, [number, number, number]> = { default: [220, 30, 30], a: [30, 200, 40], b: [40, 60, 230] };
    for (const [id, rgb] of Object.entries(colours)) patches.push(await ColorPatch.open(displays[id]!, { x: 0, y: 0, ...SIZE }, rgb));
    for (const [id, rgb] of Object.entries(colours)) {
      const got = await centre(id === "default" ? "/v1/desktop" : `/v1/desktops/${id}`);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c]! - rgb[c]!) <= 8, `${id}: expected ${rgb}, got ${got}`);
    }
    // the default desktop is also /v1/desktops/default, and the SDK sees it unchanged
    const viaId = await centre("/v1/desktops/default");
    assert.ok(Math.abs(viaId[0] - 220) <= 8);
    const png = await server.sdk.takeDesktopScreenshot();
    assert.ok(png.byteLength > 0);
    for (const p of patches.splice(0)) p.close();
  });

  it("types only into the addressed desktop", async () => {
    const fa = path.join(work, "a.txt");
    const fb = path.join(work, "b.txt");
    await typingTerminal("/v1/desktops/a", fa);
    await typingTerminal("/v1/desktops/b", fb);
    await json(await post("/v1/desktops/a/keyboard/type", { text: "only-for-a\n" }));
    await eventually("the text typed on a to reach a's terminal", () => readOr(fa) === "only-for-a\n");
    await json(await post("/v1/desktops/b/keyboard/type", { text: "only-for-b\n" }));
    await eventually("the text typed on b to reach b's terminal", () => readOr(fb) === "only-for-b\n");
    assert.equal(readOr(fa), "only-for-a\n", "b's text did not reach a");
    // the clipboard is per desktop too
    await json(await post("/v1/desktops/a/clipboard", { text: "clip-a" }));
    await json(await post("/v1/desktops/b/clipboard", { text: "clip-b" }));
    assert.equal((await json(await server.fetch("/v1/desktops/a/clipboard"))).text, "clip-a");
    assert.equal((await json(await server.fetch("/v1/desktops/b/clipboard"))).text, "clip-b");
  });

  it("attributes processes to their desktop and filters them with ?desktopId=", async () => {
    const { processes } = await json(await server.fetch("/v1/processes"));
    const of = (id: string) => processes.filter((p: { desktopId: string | null }) => p.desktopId === id);
    for (const id of ["default", "a", "b"]) {
      assert.ok(of(id).some((p: { command: string; args: string[] }) => p.command === "Xvfb" && p.args[0] === displays[id]), `${id}'s Xvfb on ${displays[id]}`);
    }
    assert.ok(of("a").some((p: { command: string }) => p.command === "xterm"), "a's xterm is a's");
    const filtered = await json(await server.fetch("/v1/processes?desktopId=b"));
    assert.ok(filtered.processes.length >= 3);
    assert.ok(filtered.processes.every((p: { desktopId: string }) => p.desktopId === "b"));
    const started = await json(await post("/v1/processes", { command: "sleep", args: ["30"] }));
    assert.equal(started.desktopId, null, "a process started through /v1/processes belongs to no desktop");
    await post(`/v1/processes/${started.id}/kill`);
  });

  it("keeps each desktop's recordings apart", async () => {
    const rec = await json(await post("/v1/desktops/b/recording/start", { fps: 5 }));
    const { processes } = await json(await server.fetch("/v1/processes?desktopId=b"));
    assert.ok(processes.some((p: { command: string; status: string }) => p.command === "ffmpeg" && p.status === "running"), "b's recorder runs as b's");
    assert.ok(!(await json(await server.fetch("/v1/processes?desktopId=a"))).processes.some((p: { command: string }) => p.command === "ffmpeg"));
    await new Promise((r) => setTimeout(r, 1500));
    const stopped = await json(await post("/v1/desktops/b/recording/stop"));
    assert.equal(stopped.id, rec.id);
    assert.deepEqual((await json(await server.fetch("/v1/desktops/b/recordings"))).recordings.map((r: { id: string }) => r.id), [rec.id]);
    assert.deepEqual((await json(await server.fetch("/v1/desktops/a/recordings"))).recordings, []);
    assert.deepEqual((await server.sdk.listDesktopRecordings()).recordings, []);
    const file = await server.fetch(`/v1/desktops/b/recordings/${rec.id}/download`);
    assert.equal(file.status, 200);
    assert.ok((await file.arrayBuffer()).byteLength > 0);
  });

  it("streams one desktop to its viewer and no other", async () => {
    await json(await post("/v1/desktops/a/stream/start", { videoCodec: "vp8" }));
    const receiver = connectReceiver(server.url, "vp8", TOKEN, "/v1/desktops/a");
    try {
      await eventually("a's stream to deliver video", () => receiver.packets.length > 0, 30_000);
      const a = await json(await server.fetch("/v1/desktops/a/stream/status"));
      const b = await json(await server.fetch("/v1/desktops/b/stream/status"));
      const dflt = await json(await server.fetch("/v1/desktop/stream/status"));
      assert.equal(a.viewers, 1, JSON.stringify(a));
      assert.equal(b.viewers, 0);
      assert.notEqual(b.state, "active");
      assert.notEqual(dflt.state, "active");
      const { processes } = await json(await server.fetch("/v1/processes?desktopId=a"));
      assert.ok(processes.some((p: { command: string; status: string }) => p.command === "ffmpeg" && p.status === "running"), "a's encoder runs as a's");
    } finally {
      await receiver.close();
      await post("/v1/desktops/a/stream/stop");
    }
  });

  it("documents every desktop route under /v1/desktops/{desktopId} with its own operationId", async () => {
    const doc = await json(await server.fetch("/v1/openapi.json"));
    const ids: string[] = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((ops) => Object.values(ops).map((op) => op.operationId!).filter(Boolean));
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
    for (const p of ["/v1/desktops", "/v1/desktops/{desktopId}", "/v1/desktops/{desktopId}/screenshot", "/v1/desktops/{desktopId}/stream/signaling", "/v1/desktops/{desktopId}/control/ws", "/v1/desktops/{desktopId}/actions", "/v1/desktops/{desktopId}/browser/start", "/v1/desktops/{desktopId}/recordings/{id}/download"]) {
      assert.ok(doc.paths[p], `${p} is documented`);
    }
    assert.ok(doc.paths["/v1/desktop/screenshot"], "the default desktop's routes stay");
  });

  it("shows a viewer in Chromium the picture of its own desktop only", async () => {
    await json(await post("/v1/desktops/a/stream/start", {}));
    await json(await post("/v1/desktops/b/stream/start", {}));
    const browser = await launchViewerBrowser();
    const patches: ColorPatch[] = [];
    try {
      const viewer = await openViewer(browser, server.url, TOKEN, { desktopId: "b" });
      await viewer.waitForPicture(30_000);
      // the same place on both desktops, in different colours: b's viewer shows b's
      const rect = { x: 100, y: 80, width: 120, height: 80 };
      const yellow: [number, number, number] = [230, 220, 30];
      const magenta: [number, number, number] = [220, 40, 200];
      patches.push(await ColorPatch.open(displays.a!, rect, magenta));
      patches.push(await ColorPatch.open(displays.b!, rect, yellow));
      const [x, y] = [rect.x + rect.width / 2, rect.y + rect.height / 2];
      await viewer.waitPixel(x, y, yellow, { tolerance: 40, timeoutMs: 20_000 }).catch(async (err) => {
        throw new Error(`${(err as Error).message}; the viewer shows ${await viewer.pixel(x, y)} at size ${await viewer.size()}`);
      });
      const px = await viewer.pixel(x, y);
      assert.ok(Math.abs(px[1] - magenta[1]) > 60, `b's viewer shows b's yellow, not a's magenta: ${px}`);
      assert.equal((await json(await server.fetch("/v1/desktops/b/stream/status"))).viewers, 1);
      assert.equal((await json(await server.fetch("/v1/desktops/a/stream/status"))).viewers, 0);
      await viewer.close();
    } finally {
      await browser.close();
      for (const p of patches) p.close();
      await post("/v1/desktops/a/stream/stop");
      await post("/v1/desktops/b/stream/stop");
    }
  });

  it("lets a desktop's token reach that desktop only", async () => {
    const as = (p: string, token: string, method = "GET") => fetch(server.url + p, { method, headers: { authorization: `Bearer ${token}` } });
    assert.equal((await as("/v1/desktops/a/status", tokenA)).status, 200);
    assert.equal((await as("/v1/desktops/a/screenshot", tokenA)).status, 200);
    assert.equal((await as("/v1/desktops/a", tokenA)).status, 200);
    for (const p of ["/v1/desktops/b/status", "/v1/desktop/status", "/v1/desktops/default/status", "/v1/processes", "/v1/desktops", "/v1/health"]) {
      assert.equal((await as(p, tokenA)).status, 401, `${p} refuses a's token`);
    }
    assert.equal((await as("/v1/desktops/a", tokenA, "DELETE")).status, 401, "a's token cannot delete it");
    assert.equal((await as("/v1/desktops/a/status", "wrong")).status, 401);
    // the runtime's token reaches every desktop
    assert.equal((await as("/v1/desktops/a/status", TOKEN)).status, 200);
  });

  it("deletes a desktop and everything it runs, and the others keep working", async () => {
    const before = (await json(await server.fetch("/v1/processes?desktopId=a"))).processes.filter((p: { status: string }) => p.status === "running");
    assert.ok(before.length >= 3);
    const res = await server.fetch("/v1/desktops/a", { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal((await server.fetch("/v1/desktops/a")).status, 404);
    const left = (await json(await server.fetch("/v1/processes?desktopId=a"))).processes.filter((p: { status: string }) => p.status === "running");
    assert.deepEqual(left, [], "nothing of a runs");
    // the token went with it
    assert.equal((await fetch(`${server.url}/v1/desktops/a/status`, { headers: { authorization: `Bearer ${tokenA}` } })).status, 401);
    // b still types and shows its screen
    const fb = path.join(work, "b2.txt");
    await typingTerminal("/v1/desktops/b", fb);
    await json(await post("/v1/desktops/b/keyboard/type", { text: "still-here\n" }));
    await eventually("b still takes input", () => readOr(fb) === "still-here\n");
    assert.equal((await server.fetch("/v1/desktops/b/screenshot")).status, 200);
    assert.equal((await server.sdk.getDesktopStatus()).state, "active");
    // its slot is free again; the default desktop can be stopped but not deleted
    const again = await post("/v1/desktops", { id: "c", ...SIZE });
    assert.equal(again.status, 201);
    const del = await server.fetch("/v1/desktops/default", { method: "DELETE" });
    assert.equal(del.status, 409);
  });
});
