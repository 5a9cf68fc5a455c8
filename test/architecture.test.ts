// Which folder of main/ may import which (DESIGN.md: http -> services -> processes;
// services never import http; only app wires things together). A newcomer reads the
// rules here; the test fails when code reaches elsewhere.
import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./support/server.js";

/** folder -> the folders, subfolders (e.g. "http/schemas") or single files of main/ it may import from. */
const ALLOWED: Record<string, string[]> = {
  shared: [],
  processes: ["shared"],
  desktop: ["shared", "processes"],
  fs: ["shared"],
  stream: ["shared", "processes", "desktop/types.ts"],
  browser: ["shared", "processes", "desktop/types.ts"],
  sessions: ["shared", "processes"],
  // named folders, each with its own confined file system
  volumes: ["shared", "fs"],
  // git runs under the process manager in folders the volumes (or the default file system) resolve
  git: ["shared", "processes", "volumes/types.ts", "fs/types.ts"],
  // the HTTP layer sees the services only through their interfaces and types
  // the action executor works over the Desktop interface; key names come from the one table
  actions: ["shared", "desktop/types.ts", "desktop/keys.ts"],
  // (and the data channel's input decoder, which the control socket speaks too)
  http: ["shared", "desktop/types.ts", "fs/types.ts", "processes/types.ts", "desktop/recording/types.ts", "stream/types.ts", "stream/input.ts", "sessions/types.ts", "actions/types.ts", "actions/schema.ts", "mcp/types.ts", "browser/types.ts", "volumes/types.ts", "git/types.ts"],
  // MCP is a second front door beside http: the same services through their interfaces,
  // the same TypeBox schemas as the routes (so a tool's input is never written twice)
  mcp: ["shared", "http/schemas", "desktop/types.ts", "fs/types.ts", "processes/types.ts", "actions/types.ts", "actions/schema.ts"],
  app: ["shared", "processes", "desktop", "fs", "stream", "sessions", "browser", "actions", "http", "mcp", "volumes", "git"],
  cli: ["shared", "app", "desktop/dependencies.ts", "mcp/bridge.ts"],
  electron: ["shared", "app"],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

test("main/ folders import only what their rule allows", () => {
  const mainDir = path.join(repoRoot, "main");
  const violations: string[] = [];
  let checked = 0;
  for (const file of tsFiles(mainDir)) {
    const folder = path.relative(mainDir, file).split(path.sep)[0]!;
    const allowed = ALLOWED[folder];
    assert.ok(allowed, `main/${folder} has no dependency rule in test/architecture.test.ts`);
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) {
      const target = path.relative(mainDir, path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")));
      const targetFolder = target.split(path.sep)[0]!;
      checked++;
      if (targetFolder === folder) continue;
      const ok = allowed.some((a) => target === a || targetFolder === a || target.startsWith(a + path.sep));
      if (!ok) violations.push(`${path.relative(repoRoot, file)} imports main/${target}`);
    }
  }
  assert.ok(checked > 20, `only ${checked} imports were checked; is the pattern still right?`);
  assert.deepEqual(violations, []);
});
