// The MCP server as MCP clients use it: the official SDK client over streamable HTTP at
// /v1/mcp and over `glasspane mcp` (spawned, stdio), and the MCP Inspector's CLI, against a
// real desktop (Xvfb 1440x900, openbox, xterm) behind a token.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import * as D from "../main/http/schemas/desktop.js";
import * as P from "../main/http/schemas/processes.js";
import { DesktopWaitRequest } from "../main/http/schemas/actions.js";
import type { WindowInfo } from "../main/desktop/types.js";
import { eventually, repoRoot, startServer, type TestServer } from "./support/server.js";

const TOKEN = "mcp-test-token";
const DISPLAY_SIZE = { width: 1440, height: 900 };
const TOOL_NAMES = [
  "screenshot", "computer", "click", "move", "drag", "scroll", "type", "key", "wait", "list_windows", "focus_window",
  "launch", "open", "clipboard_get", "clipboard_set", "run_command", "read_file", "write_file",
];
const bin = path.join(repoRoot, "bin", "glasspane.js");
const inspector = path.join(repoRoot, "node_modules", ".bin", "mcp-inspector");

let server: TestServer;
let display: string;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-mcp-"));
const children: ChildProcess[] = [];
const clients: Client[] = [];

type Win = WindowInfo;

async function http<T>(p: string): Promise<T> {
  const res = await server.fetch(p);
  assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}
const windows = () => http<{ windows: Win[] }>("/v1/desktop/windows").then((r) => r.windows);
const focused = () => http<Win>("/v1/desktop/windows/focused");
async function windowTitled(title: string): Promise<Win> {
  let found: Win | undefined;
  await eventually(`a window titled ${title}`, async () => !!(found = (await windows()).find((w) => w.title === title)), 20_000);
  return found!;
}

function xterm(title: string, geometry: string, command: string) {
  const child = spawn("xterm", ["-u8", "-T", title, "-geometry", geometry, "-e", "sh", "-c", command], {
    env: { ...process.env, DISPLAY: display, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
    stdio: "ignore",
  });
  child.on("error", (err) => assert.fail(`cannot start xterm: ${err.message}`));
  children.push(child);
}

async function httpClient(token: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/v1/mcp`), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
  });
  const client = new Client({ name: "glasspane-test", version: "1.0.0" });
  clients.push(client);
  await client.connect(transport);
  return client;
}

/** `glasspane mcp` spawned as MCP clients spawn it: a command with arguments and an environment. */
async function bridgeClient(args: string[], env: Record<string, string> = {}, url = server.url): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "mcp", "--url", url, ...args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? work, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "glasspane-test-stdio", version: "1.0.0" });
  clients.push(client);
  await client.connect(transport);
  return client;
}

const call = (client: Client, name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;

function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}
function imagesOf(r: CallToolResult): Array<{ data: Buffer; mimeType: string }> {
  return r.content.flatMap((c) => (c.type === "image" ? [{ data: Buffer.from(c.data, "base64"), mimeType: c.mimeType }] : []));
}

/** A screenshot through the tool: one PNG of the display's size. */
async function checkScreenshot(client: Client) {
  const r = await call(client, "screenshot");
  assert.equal(r.isError, undefined, textOf(r));
  const [img] = imagesOf(r);
  assert.ok(img, "an image content block");
  assert.equal(img.mimeType, "image/png");
  assert.deepEqual(img.data.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), "PNG signature");
  const meta = await sharp(img.data).metadata();
  assert.equal(meta.format, "png");
  assert.deepEqual([meta.width, meta.height], [DISPLAY_SIZE.width, DISPLAY_SIZE.height]);
}

/** Clicks into the window titled `title` and sees the window manager focus it. */
async function clickFocuses(client: Client, title: string) {
  const target = await windowTitled(title);
  if ((await focused()).id === target.id) {
    const other = (await windows()).find((w) => w.id !== target.id && w.title.startsWith("mcp-"))!;
    await call(client, "focus_window", { id: other.id });
    await eventually("the other window focused", async () => (await focused()).id === other.id);
  }
  const r = await call(client, "click", { x: target.x + 40, y: target.y + 30 });
  assert.equal(r.isError, undefined, textOf(r));
  assert.deepEqual(r.structuredContent && { x: r.structuredContent.x, y: r.structuredContent.y }, { x: target.x + 40, y: target.y + 30 });
  await eventually(`${title} focused by the click`, async () => (await focused()).id === target.id);
}

const typedPath = path.join(work, "typed.txt");
const shellOut = path.join(work, "shell-out.txt");

before(async () => {
  server = await startServer({ token: TOKEN, desktop: true, env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  const info = await http<{ display: string; resolution: { width: number; height: number } }>("/v1/desktop/display/info");
  assert.deepEqual({ width: info.resolution.width, height: info.resolution.height }, DISPLAY_SIZE);
  display = info.display;
  xterm("mcp-typing", "60x8+0+0", `cat > '${typedPath}'`);
  xterm("mcp-shell", "80x16+0+300", "sh");
  await windowTitled("mcp-typing");
  await windowTitled("mcp-shell");
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const c of children) c.kill("SIGKILL");
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("MCP over streamable HTTP (/v1/mcp)", () => {
  let client: Client;
  before(async () => {
    client = await httpClient(TOKEN);
  });

  it("lists every tool, each with the route's own schema as its input schema", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOL_NAMES].sort());
    const byName = new Map(tools.map((t) => [t.name, t]));
    const same = (name: string, schema: object) => assert.deepEqual(byName.get(name)!.inputSchema, JSON.parse(JSON.stringify(schema)), name);
    same("click", D.DesktopMouseClickRequest);
    same("screenshot", D.DesktopScreenshotQuery);
    same("type", D.DesktopKeyboardTypeRequest);
    same("run_command", P.ProcessRunRequest);
    same("wait", DesktopWaitRequest);
    assert.deepEqual(byName.get("click")!.outputSchema, JSON.parse(JSON.stringify(D.DesktopMousePositionResponse)));
    const computer = byName.get("computer")!.inputSchema as { properties: Record<string, unknown>; required?: string[] };
    assert.ok(computer.properties.actions, "the computer tool takes native actions");
    assert.equal(computer.properties.dialect, undefined);
    assert.equal(byName.get("screenshot")!.annotations?.readOnlyHint, true);
  });

  it("takes a screenshot: a PNG of the display's size", async () => {
    await checkScreenshot(client);
  });

  it("clicks into a window (the window manager focuses it) and types text that arrives in a file", async () => {
    await clickFocuses(client, "mcp-typing");
    assert.equal((await call(client, "type", { text: "héllo from mcp ✓" })).isError, undefined);
    assert.equal((await call(client, "key", { key: "Return" })).isError, undefined);
    await eventually("typed text in the file", () => readFileSync(typedPath, "utf8") === "héllo from mcp ✓\n");
  });

  it("runs native batches through the computer tool and answers with the settled screenshot", async () => {
    const shell = await windowTitled("mcp-shell");
    const clicked = await call(client, "computer", { actions: [{ type: "click", x: shell.x + 60, y: shell.y + 40 }, { type: "cursor_position" }] });
    assert.equal(clicked.isError, undefined, textOf(clicked));
    const summary = JSON.parse(textOf(clicked)) as { results: Array<{ status: string; position?: { x: number; y: number } }>; scale: { display: object } };
    assert.deepEqual(summary.results.map((x) => x.status), ["ok", "ok"]);
    assert.deepEqual(summary.results[1]!.position, { x: shell.x + 60, y: shell.y + 40 });
    assert.deepEqual(summary.scale.display, DISPLAY_SIZE);
    const images = imagesOf(clicked);
    assert.equal(images.length, 1, "one screenshot per batch");
    const meta = await sharp(images[0]!.data).metadata();
    assert.deepEqual([meta.width, meta.height], [DISPLAY_SIZE.width, DISPLAY_SIZE.height]);
    await eventually("the clicked shell focused", async () => (await focused()).id === shell.id);

    const typed = await call(client, "computer", { actions: [{ type: "type", text: `echo batch-ok > '${shellOut}'` }, { type: "key", keys: "Return" }] });
    assert.equal(typed.isError, undefined, textOf(typed));
    await eventually("the command the batch typed ran", () => {
      try {
        return readFileSync(shellOut, "utf8") === "batch-ok\n";
      } catch {
        return false;
      }
    });
  });

  it("stops a batch at its first failure: later actions are answered as not executed and do not run", async () => {
    const before = await http<{ x: number; y: number }>("/v1/desktop/mouse/position");
    const r = await call(client, "computer", {
      screenshotSize: { width: 1024, height: 768 },
      actions: [
        { type: "click", x: 1100, y: 10 }, // outside the 1024x768 screenshot
        { type: "move", x: 10, y: 10 },
      ],
    });
    assert.equal(r.isError, true);
    const summary = JSON.parse(textOf(r)) as { results: Array<{ status: string; error?: string }> };
    assert.deepEqual(summary.results.map((x) => x.status), ["error", "skipped"]);
    assert.match(summary.results[1]!.error ?? "", /not executed/);
    assert.deepEqual(await http("/v1/desktop/mouse/position").then((p: any) => [p.x, p.y]), [before.x, before.y]);
  });

  it("serves the everyday tools over the services", async () => {
    const moved = await call(client, "move", { x: 700, y: 650 });
    assert.deepEqual([moved.structuredContent?.x, moved.structuredContent?.y], [700, 650]);
    const pos = await http<{ x: number; y: number }>("/v1/desktop/mouse/position");
    assert.deepEqual([pos.x, pos.y], [700, 650]);

    const list = await call(client, "list_windows");
    const titles = (list.structuredContent as { windows: Win[] }).windows.map((w) => w.title);
    assert.ok(titles.includes("mcp-typing") && titles.includes("mcp-shell"), titles.join(", "));

    const typing = await windowTitled("mcp-typing");
    const focus = await call(client, "focus_window", { id: typing.id });
    assert.equal((focus.structuredContent as unknown as Win).id, typing.id);
    await eventually("focus_window focused it", async () => (await focused()).id === typing.id);

    assert.equal((await call(client, "clipboard_set", { text: "clip ✓ board" })).isError, undefined);
    const clip = await call(client, "clipboard_get");
    assert.deepEqual(clip.structuredContent, { text: "clip ✓ board", selection: "clipboard" });

    const run = await call(client, "run_command", { command: "sh", args: ["-c", "echo out; echo err >&2; exit 3"] });
    assert.equal(run.isError, undefined, textOf(run));
    assert.deepEqual([run.structuredContent?.exitCode, run.structuredContent?.stdout, run.structuredContent?.stderr], [3, "out\n", "err\n"]);

    const file = path.join(work, "sub", "note.txt");
    const written = await call(client, "write_file", { path: file, content: "ünïcode\nline 2\n" });
    assert.deepEqual(written.structuredContent, { path: file, bytesWritten: Buffer.byteLength("ünïcode\nline 2\n") });
    assert.equal(readFileSync(file, "utf8"), "ünïcode\nline 2\n");
    assert.equal(textOf(await call(client, "read_file", { path: file })), "ünïcode\nline 2\n");
    const binary = path.join(work, "blob.bin");
    writeFileSync(binary, Buffer.from([0, 0xff, 0xfe, 1, 2]));
    const blob = await call(client, "read_file", { path: binary });
    const res = blob.content[0];
    assert.ok(res?.type === "resource" && "blob" in res.resource, "binary content comes back as a blob");
    assert.deepEqual(Buffer.from((res.resource as { blob: string }).blob, "base64"), Buffer.from([0, 0xff, 0xfe, 1, 2]));

    const waited = await call(client, "wait", { until: "still", quietMs: 100, timeoutMs: 5000 });
    assert.equal(waited.isError, undefined, textOf(waited));
    assert.equal(typeof waited.structuredContent?.timedOut, "boolean");

    const launched = await call(client, "launch", { app: "xterm", args: ["-T", "mcp-launched"], wait: true });
    assert.equal(launched.isError, undefined, textOf(launched));
    assert.match(String(launched.structuredContent?.processId), /^proc_/);
    const win = await windowTitled("mcp-launched");
    assert.equal(launched.structuredContent?.windowId, win.id);
    await server.fetch(`/v1/processes/${launched.structuredContent?.processId}/kill`, { method: "POST" });
  });

  it("answers wrong arguments and service errors with an error result the model can read", async () => {
    const bad = await call(client, "click", { x: "10", y: 10 });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /^invalid_request: click: arguments\/x must be integer/);
    const extra = await call(client, "move", { x: 1, y: 1, z: 3 });
    assert.equal(extra.isError, true);
    assert.match(textOf(extra), /^invalid_request/);
    const missing = await call(client, "focus_window", { id: "123456789" });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /^window_not_found: /);
    const nofile = await call(client, "read_file", { path: path.join(work, "nope") });
    assert.match(textOf(nofile), /^not_found: /);
    await assert.rejects(call(client, "no_such_tool"), /unknown tool/);
  });
});

describe("token rules on /v1/mcp", () => {
  it("refuses a client without a token or with a wrong one", async () => {
    await assert.rejects(httpClient(undefined), /401|token_invalid/);
    await assert.rejects(httpClient("wrong-token"), /401|token_invalid/);
  });

  it("answers a raw request without the token with a 401 problem", async () => {
    const res = await fetch(`${server.url}/v1/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(((await res.json()) as { type: string }).type, "urn:glasspane:error:token_invalid");
  });

  it("offers no GET stream or session to delete (stateless) and says so", async () => {
    const res = await server.fetch("/v1/mcp", { headers: { accept: "text/event-stream" } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
  });
});

describe("the MCP front door beside the routes", () => {
  it("is documented in the OpenAPI document", async () => {
    const doc = (await (await server.fetch("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    assert.deepEqual(doc.paths["/v1/mcp"]?.post?.tags, ["mcp"]);
  });

  it("answers tool calls on a stopped desktop with the API's desktop_not_active", async () => {
    const bare = await startServer({ token: TOKEN });
    try {
      const transport = new StreamableHTTPClientTransport(new URL(`${bare.url}/v1/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
      const client = new Client({ name: "glasspane-test-bare", version: "1.0.0" });
      await client.connect(transport);
      const r = (await client.callTool({ name: "screenshot", arguments: {} })) as CallToolResult;
      assert.equal(r.isError, true);
      assert.match(textOf(r), /^desktop_not_active: /);
      const run = (await client.callTool({ name: "run_command", arguments: { command: "echo", args: ["no desktop needed"] } })) as CallToolResult;
      assert.equal(run.structuredContent?.stdout, "no desktop needed\n");
      await client.close();
    } finally {
      await bare.stop();
    }
  });
});

describe("glasspane mcp (stdio bridge)", () => {
  it("lists the tools, takes a screenshot and clicks with a visible effect (token from GLASSPANE_TOKEN)", async () => {
    const client = await bridgeClient([], { GLASSPANE_TOKEN: TOKEN });
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOL_NAMES].sort());
    await checkScreenshot(client);
    await clickFocuses(client, "mcp-shell");
    await clickFocuses(client, "mcp-typing");
    await client.close();
  });

  it("takes the token from --token", async () => {
    const client = await bridgeClient(["--token", TOKEN]);
    const r = await call(client, "list_windows");
    assert.ok((r.structuredContent as { windows: Win[] }).windows.some((w) => w.title === "mcp-shell"));
    await client.close();
  });

  it("is refused with a wrong token or none, and says why", async () => {
    await assert.rejects(bridgeClient(["--token", "wrong-token"]), /token_invalid/);
    await assert.rejects(bridgeClient([]), /token_invalid/);
  });

  it("answers at once when no server listens at --url", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    await assert.rejects(bridgeClient(["--token", TOKEN], {}, `http://127.0.0.1:${closed}`), /could not reach the server/);
  });
});

describe("MCP Inspector CLI", () => {
  const inspectorHome = mkdtempSync(path.join(os.tmpdir(), "glasspane-inspector-"));
  after(() => rmSync(inspectorHome, { recursive: true, force: true }));

  function runInspector(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [inspector, "--cli", ...args],
        { env: { ...process.env, HOME: inspectorHome, MCP_CATALOG_PATH: path.join(inspectorHome, "mcp.json") }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }
  const names = (stdout: string) => ((JSON.parse(stdout) as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).sort();

  it("lists the tools over streamable HTTP", async () => {
    const r = await runInspector([`${server.url}/v1/mcp`, "--transport", "http", "--method", "tools/list", "--header", `Authorization: Bearer ${TOKEN}`]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(names(r.stdout), [...TOOL_NAMES].sort());
  });

  it("lists the tools through glasspane mcp", async () => {
    const r = await runInspector([process.execPath, bin, "mcp", "--url", server.url, "-e", `GLASSPANE_TOKEN=${TOKEN}`, "--method", "tools/list"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(names(r.stdout), [...TOOL_NAMES].sort());
  });

  it("is refused with a wrong token", async () => {
    const r = await runInspector([`${server.url}/v1/mcp`, "--transport", "http", "--method", "tools/list", "--header", "Authorization: Bearer wrong-token", "--stored-auth-only"]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /"screenshot"/);
  });
});
