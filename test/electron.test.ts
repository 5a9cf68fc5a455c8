// The Electron shell without Electron (its binary cannot be downloaded here): the shell is
// typechecked against electron's types, its build config validated against
// electron-builder's own schema, and its logic modules run under plain Node.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { deepLinkFromArgv, parseDeepLink, routeFor } from "../main/electron/deep-link.js";
import { connectionArg, CONNECTION_ARG, handleSecondInstance } from "../main/electron/instance.js";
import { createShutdown } from "../main/electron/shutdown.js";
import { appStateDir } from "../main/electron/state-dir.js";
import { connectionText, trayMenu } from "../main/electron/tray-menu.js";
import { DEFAULT_BOUNDS, loadBounds, saveBounds } from "../main/electron/window-bounds.js";
import { defaultStateDir } from "../main/shared/paths.js";
import { repoRoot } from "./support/server.js";

const at = (...p: string[]) => path.join(repoRoot, ...p);

describe("the shell's build", () => {
  it("typechecks against electron's own types", () => {
    assert.ok(existsSync(at("node_modules", "electron", "electron.d.ts")), "electron's types are missing: npm ci");
    const r = spawnSync(process.execPath, [at("node_modules", "typescript", "bin", "tsc"), "-p", at("main", "electron", "tsconfig.json")], { encoding: "utf8" });
    assert.equal(r.status, 0, `tsc over main/electron failed:\n${r.stdout}${r.stderr}`);
  });

  function builderSchema() {
    const file = at("node_modules", "app-builder-lib", "scheme.json");
    assert.ok(existsSync(file), "electron-builder's schema is missing: npm ci");
    const ajv = new Ajv({ strict: false, allErrors: true });
    return ajv.compile<any>(JSON.parse(readFileSync(file, "utf8")));
  }

  it("electron-builder.yml is valid against electron-builder's schema and builds AppImage and deb with an icon", () => {
    const validate = builderSchema();
    const config = parse(readFileSync(at("electron-builder.yml"), "utf8")) as any;
    assert.ok(validate(config), JSON.stringify(validate.errors, null, 2));
    assert.deepEqual(config.linux.target, ["AppImage", "deb"]);
    assert.ok(existsSync(at(config.linux.icon)), "the icon file is missing");
    assert.ok(config.files.includes("renderer/dist/**"), "the bundled UI is not packaged");
    assert.ok(config.files.includes("native/build/Release/*.node"), "the native addon is not packaged");
    assert.equal(config.extraMetadata.main, "dist/main/electron/main.js");
    assert.ok(existsSync(at("dist", "main", "electron", "main.js")) && existsSync(at("dist", "main", "electron", "preload.cjs")));
    assert.ok(existsSync(at("renderer", "dist", "index.html")) && existsSync(at("renderer", "dist", "app.js")), "the UI is not built: npm run build");
    // the check can fail: a misspelt key is refused
    assert.equal(validate({ ...config, linux: { ...config.linux, tagret: ["deb"] } }), false);
  });

  it("the window is isolated and sandboxed, and the preload exposes only the connection", () => {
    const main = readFileSync(at("main", "electron", "main.ts"), "utf8");
    assert.match(main, /contextIsolation: true/);
    assert.match(main, /sandbox: true/);
    assert.match(main, /nodeIntegration: false/);
    const preload = readFileSync(at("main", "electron", "preload.cts"), "utf8");
    assert.equal([...preload.matchAll(/exposeInMainWorld\(/g)].length, 1);
    assert.match(preload, /exposeInMainWorld\("glasspane", Object\.freeze\(\{ server: String\(server\), token: String\(token\) \}\)\)/);
    assert.ok(preload.includes(JSON.stringify(CONNECTION_ARG)), "the preload reads another argument than the shell passes");
  });
});

describe("the shell's logic", () => {
  it("uses its own state directory, never the server's default", () => {
    const env = { XDG_STATE_HOME: "/tmp/xdg" };
    assert.equal(appStateDir(env, "/home/u"), "/tmp/xdg/glasspane-app");
    assert.equal(appStateDir({}, "/home/u"), "/home/u/.local/state/glasspane-app");
    assert.equal(appStateDir({ GLASSPANE_APP_STATE_DIR: "rel/dir" }, "/home/u"), path.resolve("rel/dir"));
    const saved = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = "/tmp/xdg";
    try {
      assert.notEqual(appStateDir(env), defaultStateDir());
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = saved;
    }
  });

  it("tray menu: show/hide, desktop and recording follow the state; copy, folder and quit are always there", () => {
    const labels = (s: Parameters<typeof trayMenu>[0]) => trayMenu(s).filter((i) => i.label).map((i) => `${i.label}${i.enabled === false ? " (off)" : ""}`);
    assert.deepEqual(labels({ windowVisible: true, desktop: "inactive", recording: false }), [
      "Hide window",
      "Start desktop",
      "Start recording (off)",
      "Copy API URL and token",
      "Open state folder",
      "Quit Glasspane",
    ]);
    assert.deepEqual(labels({ windowVisible: false, desktop: "active", recording: true }).slice(0, 3), ["Show window", "Stop desktop", "Stop recording"]);
    assert.deepEqual(labels({ windowVisible: false, desktop: "busy", recording: false }).slice(1, 3), ["Desktop starting… (off)", "Start recording (off)"]);
    const actions = trayMenu({ windowVisible: true, desktop: "active", recording: false }).map((i) => i.action).filter(Boolean);
    assert.deepEqual(actions, ["toggleWindow", "stopDesktop", "startRecording", "copyConnection", "openStateFolder", "quit"]);
    assert.equal(connectionText("http://127.0.0.1:4000", "tok"), "GLASSPANE_URL=http://127.0.0.1:4000\nGLASSPANE_TOKEN=tok\n");
  });

  it("deep links open a session or a recording; anything else is ignored", () => {
    assert.deepEqual(parseDeepLink("glasspane://recording/rec_12"), { kind: "recording", id: "rec_12" });
    assert.deepEqual(parseDeepLink("glasspane://session/abc-1"), { kind: "session", id: "abc-1" });
    assert.deepEqual(parseDeepLink("glasspane:recording/rec_3"), { kind: "recording", id: "rec_3" });
    for (const bad of ["glasspane://file/x", "glasspane://recording/", "glasspane://recording/a/b", "http://recording/rec_1", "glasspane://recording/..%2Fetc", "not a url"]) {
      assert.equal(parseDeepLink(bad), undefined, bad);
    }
    assert.equal(routeFor({ kind: "recording", id: "rec_1" }), "#recordings?play=rec_1");
    assert.equal(routeFor({ kind: "session", id: "s 1" }), "#sessions/s%201");
    assert.deepEqual(deepLinkFromArgv(["/opt/Glasspane/glasspane", "--no-sandbox", "glasspane://session/x1"]), { kind: "session", id: "x1" });
    assert.equal(deepLinkFromArgv(["/opt/Glasspane/glasspane"]), undefined);
  });

  it("a second launch focuses the first instance and hands it its deep link", () => {
    const calls: string[] = [];
    const hooks = { focus: () => calls.push("focus"), open: (l: { kind: string; id: string }) => calls.push(`open ${l.kind} ${l.id}`) };
    handleSecondInstance(["glasspane"], hooks);
    handleSecondInstance(["glasspane", "glasspane://recording/rec_2"], hooks);
    assert.deepEqual(calls, ["focus", "focus", "open recording rec_2"]);
    const arg = connectionArg("http://127.0.0.1:5", "t0k");
    assert.deepEqual(JSON.parse(atob(arg.slice(CONNECTION_ARG.length))), { server: "http://127.0.0.1:5", token: "t0k" });
  });

  it("window bounds are remembered, and fitted to the screen there is now", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bounds-"));
    const file = path.join(dir, "state", "window.json");
    const area = { x: 0, y: 0, width: 1920, height: 1080 };
    assert.deepEqual(loadBounds(file, area), DEFAULT_BOUNDS);
    saveBounds(file, { x: 100, y: 80, width: 1000, height: 700 });
    assert.deepEqual(loadBounds(file, area), { x: 100, y: 80, width: 1000, height: 700 });
    // a smaller screen: the size shrinks to it; a position off it is dropped
    assert.deepEqual(loadBounds(file, { x: 0, y: 0, width: 800, height: 600 }), { x: 100, y: 80, width: 800, height: 600 });
    saveBounds(file, { x: 5000, y: 80, width: 1000, height: 700 });
    assert.deepEqual(loadBounds(file, area), { width: 1000, height: 700 });
    writeFileSync(file, "{not json");
    assert.deepEqual(loadBounds(file, area), DEFAULT_BOUNDS);
  });

  it("quitting runs every step once, in order, past one that fails or hangs", async () => {
    const ran: string[] = [];
    const reported: string[] = [];
    const shutdown = createShutdown(
      [
        { name: "window", run: () => ran.push("window"), deadlineMs: 1000 },
        { name: "tray", run: () => Promise.reject(new Error("gone")), deadlineMs: 1000 },
        { name: "hangs", run: () => new Promise(() => undefined), deadlineMs: 100 },
        { name: "runtime", run: async () => ran.push("runtime"), deadlineMs: 1000 },
      ],
      (step, err) => reported.push(`${step}: ${err.message}`),
    );
    await Promise.all([shutdown(), shutdown()]);
    await shutdown();
    assert.deepEqual(ran, ["window", "runtime"]);
    assert.equal(reported.length, 2);
    assert.match(reported[0]!, /^tray: gone/);
    assert.match(reported[1]!, /^hangs: /);
  });
});
