// npm run bench:processes: round trips of the process API against a real server (no
// desktop). Prints medians; asserts nothing. A spawn itself costs several ms of CPU, so
// these numbers move with the machine's load.
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { startGlasspane } from "./bench-server.js";

const N = Number(process.env.BENCH_N ?? 40);
const WARMUP = 3;

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-proc-"));
  const { server, base } = await startGlasspane(stateDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(base);
  const json = (method: string, p: string, body?: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({ host: hostname, port, method, path: p, agent, timeout: 10_000, headers: data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${p}: no answer within 10 s`)));
      req.on("error", reject);
      req.end(data);
    });

  try {
    // a shell on a terminal: the time from an input frame to its echo in an output frame
    const shell = await json("POST", "/v1/processes", { command: "cat", tty: true });
    const ws = new WebSocket(`${base.replace("http", "ws")}/v1/processes/${shell.id}/terminal/ws`);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    let echoed = "";
    ws.on("message", (d, binary) => binary && (echoed += d.toString()));
    // a pipe process whose output arrives over a follow (SSE) stream
    const cat = await json("POST", "/v1/processes", { command: "cat" });
    let followed = "";
    http.get({ host: hostname, port, path: `/v1/processes/${cat.id}/logs?follow=true`, headers: { accept: "text/event-stream" } }, (res) =>
      res.on("data", (d: Buffer) => (followed += d.toString())),
    );
    const until = async (check: () => boolean) => {
      const end = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > end) throw new Error("no answer within 5 s");
        await new Promise((r) => setImmediate(r));
      }
    };

    let i = 0;
    const ops: Record<string, () => Promise<unknown>> = {
      "run `true` (HTTP round trip)": () => json("POST", "/v1/processes/run", { command: "true" }),
      "run `sh -c 'echo hi'`": () => json("POST", "/v1/processes/run", { command: "sh", args: ["-c", "echo hi"] }),
      "create + stop + delete `sleep`": async () => {
        const p = await json("POST", "/v1/processes", { command: "sleep", args: ["60"] });
        await json("POST", `/v1/processes/${p.id}/kill?waitMs=5000`);
        await json("DELETE", `/v1/processes/${p.id}`);
      },
      "list processes": () => json("GET", "/v1/processes"),
      "terminal input -> echo (WS)": async () => {
        const mark = `k${++i}z`;
        ws.send(JSON.stringify({ type: "input", data: mark }));
        await until(() => echoed.includes(mark));
      },
      "stdin input -> SSE log line": async () => {
        const mark = `line${++i}`;
        await json("POST", `/v1/processes/${cat.id}/input`, { data: `${mark}\n`, encoding: "utf8" });
        const b64 = Buffer.from(`${mark}\n`).toString("base64");
        await until(() => followed.includes(b64));
      },
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
    for (let n = 0; n < N + WARMUP; n++) {
      for (const [name, op] of Object.entries(ops)) {
        const t0 = performance.now();
        await op();
        if (n >= WARMUP) samples[name]!.push(performance.now() - t0);
      }
    }
    console.log(`\nGlasspane process API over HTTP/WS, n=${N} each (ms), load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
    console.log(`${"operation".padEnd(34)}${"median".padStart(9)}${"p95".padStart(9)}${"min".padStart(9)}`);
    for (const [name, s] of Object.entries(samples)) {
      s.sort((a, b) => a - b);
      const q = (x: number) => s[Math.min(s.length - 1, Math.floor(x * s.length))]!;
      console.log(`${name.padEnd(34)}${q(0.5).toFixed(2).padStart(9)}${q(0.95).toFixed(2).padStart(9)}${s[0]!.toFixed(2).padStart(9)}`);
    }
    ws.close();
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(stateDir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
