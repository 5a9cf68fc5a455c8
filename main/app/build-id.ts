import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { version } from "./version.js";

/**
 * Identifies this build of the runtime: the version plus a hash of the compiled files
 * under dist/main, so any rebuild with changed code gets a new id and an older daemon
 * is recognised as outdated. `GLASSPANE_BUILD_ID` overrides it (tests simulate upgrades).
 */
export function buildId(): string {
  const override = process.env.GLASSPANE_BUILD_ID;
  if (override) return override;
  const mainDir = fileURLToPath(new URL("../", import.meta.url));
  const hash = createHash("sha256");
  for (const file of jsFiles(mainDir).sort()) {
    hash.update(path.relative(mainDir, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return `${version}-${hash.digest("hex").slice(0, 10)}`;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith(".js") ? [path.join(dir, e.name)] : [],
  );
}
