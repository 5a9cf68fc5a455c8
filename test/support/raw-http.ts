import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request with exactly the headers given (fetch forbids setting Host, and adds its own):
 * what a browser page, a rebinding attacker or a broken client would send.
 */
export function rawRequest(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers };
    if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length" || h.toLowerCase() === "transfer-encoding")) {
      headers["content-length"] = String(Buffer.byteLength(opts.body));
    }
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: opts.method ?? "GET", headers, agent: false, setHost: !Object.keys(opts.headers ?? {}).some((h) => h.toLowerCase() === "host") },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer to ${opts.method ?? "GET"} ${path} in time`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Bytes written straight to a socket; resolves with everything read until the server closes it. */
export function rawExchange(base: string, bytes: string, timeoutMs = 15_000): Promise<{ text: string; closedByServer: boolean }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, timeoutMs);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(bytes);
  });
}

/** Asserts a problem+json answer of this status (and code). */
export function assertProblem(res: RawResponse, status: number, code?: string): Record<string, unknown> {
  assert.equal(res.status, status, `status (body ${res.body.slice(0, 300)})`);
  assert.equal(res.headers["content-type"], "application/problem+json", `content type of a ${res.status}: ${res.body.slice(0, 200)}`);
  const p = JSON.parse(res.body) as Record<string, unknown>;
  assert.equal(p.status, status);
  if (code) assert.equal(p.code, code, `code of ${res.body.slice(0, 300)}`);
  return p;
}
