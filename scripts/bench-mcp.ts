// npm run bench:mcp: what the MCP front door costs on top of the HTTP route it mirrors, on a
// real desktop (1440x900): the same call as a plain HTTP request, as an MCP tool call over
// streamable HTTP (the official SDK client), and through `glasspane mcp` (stdio bridge).
// Prints median and p95; asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { repoRoot, startGlasspane } from "./bench-server.js";

const N = Number(process.env.BENCH_N ?? 40);
const WARMUP = 3;

async function time(fn: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, p95: ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.95) - 1)]! };
}

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-mcp-"));
  const { server, base } = await startGlasspane(stateDir, { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" });
  const clients: Client[] = [];
  try {
    const post = async (p: string, body: unknown) => {
      const res = await fetch(base + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      return res.arrayBuffer();
    };
    await post("/v1/desktop/start", { width: 1440, height: 900 });

    const overHttp = new Client({ name: "bench", version: "1" });
    await overHttp.connect(new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`)));
    const overStdio = new Client({ name: "bench-stdio", version: "1" });
    await overStdio.connect(
      new StdioClientTransport({ command: process.execPath, args: [path.join(repoRoot, "bin", "glasspane.js"), "mcp", "--url", base], stderr: "inherit" }),
    );
    clients.push(overHttp, overStdio);
    const tool = (c: Client, name: string, args: Record<string, unknown>) => async () => {
      const r = await c.callTool({ name, arguments: args });
      if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    };

    let x = 100;
    const next = () => ({ x: (x = x >= 1300 ? 100 : x + 7), y: 450 });
    const rows: Array<[string, { median: number; p95: number }]> = [
      ["mouse move: HTTP route", await time(() => post("/v1/desktop/mouse/move", next()))],
      ["mouse move: MCP tool over /v1/mcp", await time(() => tool(overHttp, "move", next())())],
      ["mouse move: MCP tool via glasspane mcp", await time(() => tool(overStdio, "move", next())())],
      ["screenshot PNG: HTTP route", await time(async () => (await fetch(`${base}/v1/desktop/screenshot?format=png`)).arrayBuffer())],
      ["screenshot PNG: MCP tool over /v1/mcp", await time(tool(overHttp, "screenshot", {}))],
      ["screenshot PNG: MCP tool via glasspane mcp", await time(tool(overStdio, "screenshot", {}))],
      ["computer batch (move + settled screenshot): MCP over /v1/mcp", await time(() => tool(overHttp, "computer", { actions: [{ type: "move", ...next() }] })())],
    ];
    console.log(`MCP overhead, ${N} calls each (median / p95, ms):`);
    for (const [name, r] of rows) console.log(`  ${name.padEnd(62)} ${r.median.toFixed(2).padStart(8)} / ${r.p95.toFixed(2)}`);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
