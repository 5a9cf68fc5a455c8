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
  // the built-in computer-use agent runs as its own process: it reaches the desktop only
  // through the HTTP action endpoint, and shares the action model's types and scaling
  "computer-use": ["shared", "actions/types.ts", "actions/schema.ts", "actions/scale.ts", "actions/anthropic.ts", "actions/openai.ts"],
  // named folders, each with its own confined file system
  volumes: ["shared", "fs"],
  // git runs under the process manager in folders the volumes (or the default file system) resolve
  git: ["shared", "processes", "volumes/types.ts", "fs/types.ts"],
  // the metrics read plain functions the composition root hands in; they import no service
  metrics: ["shared"],
  // the HTTP layer sees the services only through their interfaces and types
  // the action executor works over the Desktop interface; key names come from the one table
  actions: ["shared", "desktop/types.ts", "desktop/keys.ts"],
  // (and the data channel's input decoder, which the control socket speaks too)
  http: ["shared", "desktop/types.ts", "fs/types.ts", "processes/types.ts", "desktop/recording/types.ts", "stream/types.ts", "stream/input.ts", "sessions/types.ts", "actions/types.ts", "actions/schema.ts", "mcp/types.ts", "browser/types.ts", "volumes/types.ts", "git/types.ts", "desktops/types.ts", "metrics/types.ts"],
  // MCP is a second front door beside http: the same services through their interfaces,
  // the same TypeBox schemas as the routes (so a tool's input is never written twice)
  mcp: ["shared", "http/schemas", "desktop/types.ts", "fs/types.ts", "processes/types.ts", "actions/types.ts", "actions/schema.ts"],
  // several desktops: each a unit of its own desktop, recorder, stream, actions and browser
  desktops: ["shared", "processes", "desktop", "stream", "actions", "browser", "metrics/types.ts"],
  app: ["shared", "processes", "desktop", "desktops", "fs", "stream", "sessions", "browser", "actions", "http", "mcp", "volumes", "git", "metrics"],
  // the CLI installs the desktop's packages in the foreground of its terminal
  cli: ["shared", "app", "desktop/dependencies.ts", "mcp/bridge.ts", "processes/foreground.ts"],
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

/** Every import of a file: what it names, and whether only types come through it. */
function importsOf(source: string): Array<{ spec: string; typeOnly: boolean }> {
  const found: Array<{ spec: string; typeOnly: boolean }> = [];
  // import x from "y"; import type { x } from "y"; export { x } from "y"; import "y"
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/gms)) {
    const names = m[3]!;
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    const allTypes = !!braces && braces[1]!.split(",").map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith("type "));
    found.push({ spec: m[4]!, typeOnly: !!m[2] || allTypes });
  }
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push({ spec: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push({ spec: m[1]!, typeOnly: false });
  return found;
}

/** Which files of main/ may use a package, by the package name's start. */
const PACKAGE_HOMES: Array<{ packages: RegExp; allowed: (file: string) => boolean; rule: string }> = [
  {
    packages: /^(node:)?child_process$|^execa$|^node-pty$/,
    allowed: (f) => f.startsWith("processes/") || f === "cli/daemon.ts",
    rule: "child processes are spawned only by main/processes (and the CLI's daemon, which outlives the CLI)",
  },
  { packages: /^fastify$|^@fastify\//, allowed: (f) => f.startsWith("http/"), rule: "fastify is used only by main/http" },
];

test("child_process, execa, node-pty and fastify are used only where DESIGN.md puts them", () => {
  const mainDir = path.join(repoRoot, "main");
  const violations: string[] = [];
  let seen = 0;
  for (const file of tsFiles(mainDir)) {
    const rel = path.relative(mainDir, file).split(path.sep).join("/");
    for (const { spec } of importsOf(readFileSync(file, "utf8"))) {
      for (const home of PACKAGE_HOMES) {
        if (!home.packages.test(spec)) continue;
        seen++;
        if (!home.allowed(rel)) violations.push(`main/${rel} imports ${spec}: ${home.rule}`);
      }
    }
  }
  assert.ok(seen >= 4, `only ${seen} imports of the guarded packages were found; is the pattern still right?`);
  assert.deepEqual(violations, []);
});

test("no import cycles between files of main/ (type-only cycles only inside one folder)", () => {
  const mainDir = path.join(repoRoot, "main");
  const edges = new Map<string, Array<{ to: string; typeOnly: boolean }>>();
  for (const file of tsFiles(mainDir)) {
    const from = path.relative(mainDir, file).split(path.sep).join("/");
    const out = edges.get(from) ?? [];
    edges.set(from, out);
    for (const { spec, typeOnly } of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const to = path.relative(mainDir, path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts"))).split(path.sep).join("/");
      out.push({ to, typeOnly });
    }
  }
  // Tarjan's strongly connected components: every edge inside one lies on a cycle
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!order.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, order.get(to)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of edges.keys()) if (!order.has(v)) visit(v);
  const folderOf = (f: string) => f.split("/").slice(0, -1).join("/");
  const violations: string[] = [];
  for (const component of components) {
    const members = new Set(component);
    const inside = component.flatMap((from) => (edges.get(from) ?? []).filter((e) => members.has(e.to)).map((e) => ({ from, ...e })));
    const valueEdges = inside.filter((e) => !e.typeOnly);
    const folders = new Set(component.map(folderOf));
    if (valueEdges.length > 0 || folders.size > 1) {
      violations.push(`cycle among ${component.sort().join(", ")}: ${inside.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? " (types)" : ""}`).join("; ")}`);
    }
  }
  assert.ok(edges.size > 50, `only ${edges.size} files were read`);
  assert.deepEqual(violations, []);
});
