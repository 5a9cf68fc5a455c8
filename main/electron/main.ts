// The Electron shell: a window and a tray around the same runtime `glasspane server` runs,
// in this process, with its own state directory and a fresh token. What it decides lives
// in the modules beside it (tested under plain Node); this file only wires them to Electron.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, BrowserWindow, clipboard, Menu, nativeImage, screen, shell, Tray, type MenuItemConstructorOptions } from "electron";
import { startRuntime, type Runtime } from "../app/runtime.js";
import { deepLinkFromArgv, routeFor, SCHEME, type DeepLink } from "./deep-link.js";
import { connectionArg, handleSecondInstance } from "./instance.js";
import { createShutdown } from "./shutdown.js";
import { appStateDir } from "./state-dir.js";
import { connectionText, trayMenu, type TrayAction, type TrayState } from "./tray-menu.js";
import { loadBounds, saveBounds } from "./window-bounds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..", "..");
const stateDir = appStateDir();
const boundsFile = path.join(stateDir, "window.json");
const token = randomBytes(18).toString("base64url");
let runtime: Runtime | undefined;
let win: BrowserWindow | undefined;
let tray: Tray | undefined;
let pending: DeepLink | undefined = deepLinkFromArgv(process.argv);

// one app per user: a second launch focuses this one (and passes its deep link on)
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setAsDefaultProtocolClient(SCHEME);
  app.on("second-instance", (_event, argv) => handleSecondInstance(argv, { focus: showWindow, open: openLink }));
  app.whenReady().then(boot, (err) => fail(err));
}

function fail(err: unknown) {
  console.error(err);
  app.exit(1);
}

async function boot() {
  runtime = await startRuntime({ host: "127.0.0.1", port: 0, token, stateDir }).catch((err) => {
    fail(err);
    throw err;
  });
  createWindow();
  // the desktop starts with the app; if it cannot (programs missing), the window says why
  runtime.desktop.start({}).catch((err) => console.error(`the desktop did not start: ${(err as Error).message}`));
  const icon = nativeImage.createFromPath(path.join(root, "assets", "tray.png"));
  tray = new Tray(icon);
  tray.setToolTip(`Glasspane on ${runtime.url}`);
  tray.on("click", () => void refreshTray());
  await refreshTray();
  // the menu follows the desktop's and recorder's state
  setInterval(() => void refreshTray(), 3000).unref();
}

function createWindow() {
  const bounds = loadBounds(boundsFile, screen.getPrimaryDisplay().workArea);
  win = new BrowserWindow({
    ...bounds,
    title: "Glasspane",
    icon: path.join(root, "assets", "icon.png"),
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      preload: path.join(here, "preload.cjs"),
      additionalArguments: [connectionArg(runtime!.url, token)],
    },
  });
  win.once("ready-to-show", () => win?.show());
  const remember = () => win && !win.isMinimized() && !win.isMaximized() && saveBounds(boundsFile, win.getBounds());
  win.on("resized", remember);
  win.on("moved", remember);
  // closing the window hides it; the tray's Quit ends the app
  win.on("close", (e) => {
    if (!quitting) {
      e.preventDefault();
      win?.hide();
    }
  });
  void win.loadURL(`${runtime!.url}/ui/${pending ? routeFor(pending) : "#desktop"}`);
  pending = undefined;
}

function showWindow() {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function openLink(link: DeepLink) {
  if (!win || !runtime) {
    pending = link;
    return;
  }
  void win.loadURL(`${runtime.url}/ui/${routeFor(link)}`);
  showWindow();
}

async function trayState(): Promise<TrayState> {
  const r = runtime!;
  const status = await r.desktop.status();
  const recordings = await r.recordings.list().catch(() => []);
  return {
    windowVisible: !!win?.isVisible(),
    desktop: status.state === "active" ? "active" : status.state === "starting" || status.state === "stopping" ? "busy" : "inactive",
    recording: recordings.some((rec) => rec.status === "recording"),
  };
}

async function refreshTray() {
  if (!tray || !runtime) return;
  const items = trayMenu(await trayState());
  const template: MenuItemConstructorOptions[] = items.map((i) =>
    i.type === "separator" ? { type: "separator" } : { label: i.label, enabled: i.enabled ?? true, click: () => void act(i.action!) },
  );
  tray.setContextMenu(Menu.buildFromTemplate(template));
}

async function act(action: TrayAction) {
  const r = runtime!;
  try {
    switch (action) {
      case "toggleWindow":
        if (win?.isVisible()) win.hide();
        else showWindow();
        break;
      case "startDesktop":
        await r.desktop.start({});
        break;
      case "stopDesktop":
        await r.desktop.stop();
        break;
      case "startRecording":
        await r.recordings.start({});
        break;
      case "stopRecording":
        await r.recordings.stop();
        break;
      case "copyConnection":
        clipboard.writeText(connectionText(r.url, token));
        break;
      case "openStateFolder":
        await shell.openPath(stateDir);
        break;
      case "quit":
        app.quit();
        break;
    }
  } catch (err) {
    console.error(`${action}: ${(err as Error).message}`);
  }
  await refreshTray();
}

let quitting = false;
const shutdown = createShutdown(
  [
    { name: "save the window's place", run: () => win && !win.isDestroyed() && saveBounds(boundsFile, win.getBounds()), deadlineMs: 1000 },
    { name: "close the window", run: () => win?.destroy(), deadlineMs: 1000 },
    { name: "remove the tray", run: () => tray?.destroy(), deadlineMs: 1000 },
    // the runtime ends its children in order: HTTP, recorder, stream, desktop, processes
    { name: "stop the runtime", run: () => runtime?.close(), deadlineMs: 20_000 },
  ],
  (step, err) => console.error(`quitting: ${step}: ${err.message}`),
);

app.on("window-all-closed", () => undefined);
app.on("before-quit", (event) => {
  if (quitting) return;
  quitting = true;
  event.preventDefault();
  void shutdown().finally(() => app.exit(0));
});
