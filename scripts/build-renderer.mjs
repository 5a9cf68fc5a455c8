// Bundles the web UI (renderer/src) into renderer/dist, which the runtime serves at /ui/.
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "renderer", "dist");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: path.join(root, "renderer", "src", "main.ts") },
  bundle: true,
  format: "esm",
  target: ["chrome120"],
  outdir: out,
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync(path.join(root, "renderer", "index.html"), path.join(out, "index.html"));
copyFileSync(path.join(root, "assets", "icon.svg"), path.join(out, "icon.svg"));
