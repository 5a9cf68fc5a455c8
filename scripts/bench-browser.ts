// npm run bench:browser: the managed browser against a real server with a desktop and
// Debian's Chromium. Prints medians and p95; asserts nothing.
//
//   start -> first CDP answer   POST /v1/desktop/browser/start sent -> the answer to
//                               Browser.getVersion over Glasspane's /cdp socket
//   CDP round trip              Runtime.evaluate("1+1") on a page, through Glasspane's
//                               WebSocket proxy and on the browser's own loopback port,
//                               in alternating blocks; the difference is the proxy's cost
//
// BENCH_BROWSER_STARTS (5), BENCH_BROWSER_ROUNDTRIPS (1000).
import WebSocket from "ws";
import { startServer, type TestServer } from "../test/support/server.js";

const STARTS = Number(process.env.BENCH_BROWSER_STARTS ?? 5);
const ROUNDTRIPS = Number(process.env.BENCH_BROWSER_ROUNDTRIPS ?? 1000);
const TOKEN = "bench-token";

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A minimal CDP client: one socket, numbered calls. */
class Cdp {
  private next = 1;
  private readonly waiting = new Map<number, (msg: any) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (d) => {
      const msg = JSON.parse(d.toString());
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
      ws.once("open", () => resolve(new Cdp(ws)));
      ws.once("error", reject);
    });
  }

  call(method: string, params: object = {}): Promise<any> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method} got no answer within 10 s`)), 10_000);
      this.waiting.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close() {
    this.ws.close();
  }
}

async function post(server: TestServer, path: string): Promise<any> {
  const res = await server.fetch(path, { method: "POST" });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function main() {
  const server = await startServer({ token: TOKEN, desktop: true, args: ["--width", "1440", "--height", "900"] });
  const proxied = server.url.replace(/^http/, "ws");
  try {
    const starts: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      await post(server, "/v1/desktop/browser/start");
      const cdp = await Cdp.open(`${proxied}/v1/desktop/browser/cdp?access_token=${TOKEN}`);
      await cdp.call("Browser.getVersion");
      starts.push(performance.now() - t0);
      cdp.close();
      if (i < STARTS - 1) await post(server, "/v1/desktop/browser/stop");
    }

    const status = (await (await server.fetch("/v1/desktop/browser/status")).json()) as { debuggingPort: number; pages: Array<{ id: string; type: string }> };
    const page = status.pages.find((p) => p.type === "page")!;
    const through = await Cdp.open(`${proxied}/v1/desktop/browser/devtools/page/${page.id}`, { Authorization: `Bearer ${TOKEN}` });
    const direct = await Cdp.open(`ws://127.0.0.1:${status.debuggingPort}/devtools/page/${page.id}`);
    const times = { through: [] as number[], direct: [] as number[] };
    const evaluate = async (cdp: Cdp, into: number[]) => {
      const t0 = performance.now();
      const reply = await cdp.call("Runtime.evaluate", { expression: "1+1", returnByValue: true });
      into.push(performance.now() - t0);
      if (reply.result?.result?.value !== 2) throw new Error(`1+1 = ${JSON.stringify(reply)}`);
    };
    for (let i = 0; i < 50; i++) await Promise.all([evaluate(through, []), evaluate(direct, [])]); // warm up both paths
    const block = 50;
    for (let done = 0; done < ROUNDTRIPS; done += block) {
      for (let i = 0; i < block; i++) await evaluate(through, times.through);
      for (let i = 0; i < block; i++) await evaluate(direct, times.direct);
    }
    through.close();
    direct.close();

    const ms = (v: number) => v.toFixed(2);
    const rows = [
      ["browser start -> first CDP answer (via Glasspane)", starts, STARTS],
      ["CDP round trip, Runtime.evaluate 1+1, through Glasspane", times.through, times.through.length],
      ["CDP round trip, Runtime.evaluate 1+1, browser's own port", times.direct, times.direct.length],
    ] as const;
    console.log("| operation | n | median ms | p95 ms |");
    console.log("|---|---|---|---|");
    for (const [what, values, n] of rows) console.log(`| ${what} | ${n} | ${ms(quantile(values, 0.5))} | ${ms(quantile(values, 0.95))} |`);
    const addedMedian = quantile(times.through, 0.5) - quantile(times.direct, 0.5);
    const addedP95 = quantile(times.through, 0.95) - quantile(times.direct, 0.95);
    console.log(`| proxy's added latency | | ${ms(addedMedian)} | ${ms(addedP95)} |`);
  } finally {
    await post(server, "/v1/desktop/browser/stop").catch(() => undefined);
    await server.stop();
  }
}

await main();
