// The Electron shell: a window and a tray around the same runtime `glasspane server` runs.
// It adds no logic of its own; everything it calls is tested under plain Node.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, BrowserWindow, Menu, Tray, nativeImage } from "electron";
import { startRuntime, type Runtime } from "../app/runtime.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let runtime: Runtime | undefined;
let tray: Tray | undefined;

async function boot() {
  const token = randomBytes(18).toString("base64url");
  runtime = await startRuntime({ host: "127.0.0.1", port: 0, token, desktop: {} });
  const win = new BrowserWindow({ width: 1480, height: 980, title: "Glasspane", webPreferences: { contextIsolation: true, sandbox: true } });
  const page = path.join(here, "..", "..", "..", "renderer", "index.html");
  await win.loadFile(page, { query: { server: runtime.url, token } });
  tray = new Tray(nativeImage.createEmpty());
  tray.setToolTip(`Glasspane on ${runtime.url}`);
  tray.setContextMenu(Menu.buildFromTemplate([{ label: "Quit Glasspane", click: () => app.quit() }]));
}

app.whenReady().then(boot, (err) => {
  console.error(err);
  app.exit(1);
});
app.on("window-all-closed", () => app.quit());
app.on("before-quit", (event) => {
  if (!runtime) return;
  event.preventDefault();
  const r = runtime;
  runtime = undefined;
  void r.close().finally(() => app.exit(0));
});
