// npm run bench: medians of the desktop calls over HTTP against a real server with a
// 1440x900 desktop. Prints numbers and the ratio to the targets in DESIGN.md; asserts nothing.
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const N = Number(process.env.BENCH_N ?? 60);
const WARMUP = 5;

interface Row {
  op: string;
  target: number;
  samples: number[];
  failures: number;
}

async function main() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-bench-"));
  const server = spawn(process.execPath, [path.join(root, "bin", "glasspane.js"), "server", "--port", "0", "--no-token", "--desktop", "--state-dir", stateDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    server.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });

  // node:http with one keep-alive socket: the client's own overhead stays small (fetch adds ~0.5 ms)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(base);
  const call = (method: string, p: string, body?: unknown): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        { host: hostname, port, method, path: p, agent, timeout: 10_000, headers: data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const out = Buffer.concat(chunks);
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${p}: ${res.statusCode} ${out}`));
            else resolve(out);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${p}: no answer within 10 s`)));
      req.on("error", reject);
      req.end(data);
    });
  const json = async (method: string, p: string, body?: unknown) => JSON.parse((await call(method, p, body)).toString());

  try {
    const typed = path.join(stateDir, "typed.txt");
    writeFileSync(typed, "");
    await json("POST", "/v1/desktop/launch", {
      app: "xterm",
      args: ["-title", "listing", "-geometry", "100x30+700+80", "-e", "sh", "-c", "ls -la /usr/bin; sleep 3600"],
      wait: true,
    });
    const typing = await json("POST", "/v1/desktop/launch", { app: "xterm", args: ["-title", "bench", "-geometry", "80x20+40+80", "-e", "sh", "-c", `cat > ${typed}`], wait: true });
    await new Promise((r) => setTimeout(r, 500)); // let openbox settle, then give the typing xterm the focus
    await call("POST", `/v1/desktop/windows/${typing.windowId}/focus`);

    let line = 0;
    const rows: Row[] = [
      { op: "screenshot PNG", target: 15, samples: [], failures: 0 },
      { op: "screenshot JPEG q70", target: 20, samples: [], failures: 0 },
      { op: "screenshot region 400x300", target: 15, samples: [], failures: 0 },
      { op: "mouse move", target: 1.5, samples: [], failures: 0 },
      { op: "mouse click", target: 2, samples: [], failures: 0 },
      { op: "type 16 chars (arrived)", target: 10, samples: [], failures: 0 },
      { op: "key press", target: 2, samples: [], failures: 0 },
      { op: "window list", target: 3, samples: [], failures: 0 },
      { op: "clipboard set", target: 2, samples: [], failures: 0 },
      { op: "clipboard get", target: 2, samples: [], failures: 0 },
      { op: "mouse position", target: 1.5, samples: [], failures: 0 },
    ];
    const ops: Record<string, () => Promise<unknown>> = {
      "screenshot PNG": () => call("GET", "/v1/desktop/screenshot"),
      "screenshot JPEG q70": () => call("GET", "/v1/desktop/screenshot?format=jpeg&quality=70"),
      "screenshot region 400x300": () => call("GET", "/v1/desktop/screenshot/region?x=100&y=100&width=400&height=300"),
      "mouse move": () => call("POST", "/v1/desktop/mouse/move", { x: 100 + (line % 50), y: 850 }),
      "mouse click": () => call("POST", "/v1/desktop/mouse/click", { x: 300, y: 300 }), // inside the typing xterm
      "type 16 chars (arrived)": async () => {
        // 15 characters + Enter; timed until the line is in the file (the app has it)
        const text = `line${String(++line).padStart(5, "0")}abcdef`.slice(0, 15);
        await call("POST", "/v1/desktop/keyboard/type", { text: `${text}\n` });
        const deadline = Date.now() + 5000;
        while (!readFileSync(typed, "utf8").endsWith(`${text}\n`)) {
          if (Date.now() > deadline) throw new Error(`typed text "${text}" did not arrive`);
          await new Promise((r) => setImmediate(r));
        }
      },
      "key press": () => call("POST", "/v1/desktop/keyboard/press", { key: "Shift_L" }),
      "window list": () => call("GET", "/v1/desktop/windows"),
      "clipboard set": () => call("POST", "/v1/desktop/clipboard", { text: `bench ${line} héllo` }),
      "clipboard get": () => call("GET", "/v1/desktop/clipboard"),
      "mouse position": () => call("GET", "/v1/desktop/mouse/position"),
    };
    // Interleave the operations, so machine noise spreads evenly over all of them.
    for (let i = 0; i < N + WARMUP; i++) {
      for (const row of rows) {
        const t0 = performance.now();
        try {
          await ops[row.op]!();
          if (i >= WARMUP) row.samples.push(performance.now() - t0);
        } catch (err) {
          row.failures++;
          if (row.failures === 1) console.error(`${row.op}: ${(err as Error).message}`);
        }
      }
    }
    printTable(rows);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function printTable(rows: Row[]) {
  const fmt = (n: number) => (Number.isNaN(n) ? "-" : n < 10 ? n.toFixed(2) : n.toFixed(1));
  console.log(`\nGlasspane desktop calls over HTTP, 1440x900, n=${N} each (ms)`);
  console.log(`${"operation".padEnd(28)}${"median".padStart(9)}${"p95".padStart(9)}${"min".padStart(9)}${"target".padStart(9)}  ratio  fail`);
  for (const r of rows) {
    const s = [...r.samples].sort((a, b) => a - b);
    const med = quantile(s, 0.5);
    const ratio = med / r.target;
    console.log(
      `${r.op.padEnd(28)}${fmt(med).padStart(9)}${fmt(quantile(s, 0.95)).padStart(9)}${fmt(s[0] ?? NaN).padStart(9)}${fmt(r.target).padStart(9)}  ${ratio.toFixed(2).padStart(5)}  ${r.failures}`,
    );
  }
  const worst = rows.reduce((a, b) => (quantile([...a.samples].sort((x, y) => x - y), 0.5) / a.target > quantile([...b.samples].sort((x, y) => x - y), 0.5) / b.target ? a : b));
  console.log(`(ratio = median / DESIGN.md target; worst: ${worst.op})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
