// Issue 13, items 5, 7 and 9: no web page can drive the runtime (Host and Origin checks,
// JSON only where JSON is taken), and HTTP answers mean what they say (405, OPTIONS, 415,
// unknown query keys, bodies, framework errors, WebSocket routes).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { WebSocket } from "ws";
import { repoRoot, startServer } from "./support/server.js";
import { assertProblem, rawExchange, rawRequest } from "./support/raw-http.js";

const TOKEN = "tok-http-rules";
const EVIL = "http://evil.example";

/** Connects a WebSocket; resolves with the HTTP status it was refused with, or 101 when it opened. */
function wsStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 15_000 });
    ws.once("open", () => resolve({ status: 101, socket: ws }));
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once("error", (err) => reject(err));
  });
}

for (const token of [undefined, TOKEN]) {
  const mode = token ? "with a token" : "with --no-token";
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};

  test(`Host and Origin checks (${mode})`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-origin-"));
    const s = await startServer({ token, args: ["--allowed-host", "glasspane.test", "--cors-allow-origin", "http://app.example"] });
    try {
      // DNS rebinding: the page's own name arrives as Host
      assertProblem(await rawRequest(s.url, "/v1/health", { headers: { Host: "evil.example", ...auth } }), 421, "host_not_allowed");
      assertProblem(await rawRequest(s.url, "/v1/desktop/status", { headers: { Host: "evil.example:2468", ...auth } }), 421);
      assert.equal((await rawRequest(s.url, "/v1/health", { headers: { Host: "localhost:1", ...auth } })).status, 200);
      assert.equal((await rawRequest(s.url, "/v1/health", { headers: { Host: "glasspane.test", ...auth } })).status, 200, "an --allowed-host name is served");

      // a cross-site POST without a preflight: refused before it does anything
      const target = path.join(dir, "made-by-evil");
      const q = `/v1/fs/mkdir?path=${encodeURIComponent(target)}`;
      assertProblem(await rawRequest(s.url, q, { method: "POST", headers: { Origin: EVIL, ...auth } }), 403, "origin_not_allowed");
      assertProblem(await rawRequest(s.url, "/v1/desktop/stop", { method: "POST", headers: { Origin: "null", ...auth } }), 403, "origin_not_allowed");
      assert.equal(existsSync(target), false, "the refused mkdir created nothing");
      // the same request from the server's own origin (the UI) or a listed origin works
      const own = new URL(s.url).host;
      assert.equal((await rawRequest(s.url, q, { method: "POST", headers: { Origin: `http://${own}`, ...auth } })).status, 200);
      assert.equal((await rawRequest(s.url, `/v1/fs/mkdir?path=${encodeURIComponent(target + "2")}`, { method: "POST", headers: { Origin: "http://app.example", ...auth } })).status, 200);
      // a preflight from a listed origin: 204, Allow and the CORS headers, no token needed
      const preflight = await rawRequest(s.url, "/v1/fs/move", { method: "OPTIONS", headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers["access-control-allow-origin"], "http://app.example");
      assert.match(String(preflight.headers["access-control-allow-methods"]), /POST/);
      assert.match(String(preflight.headers.allow), /POST/);
      const unlisted = await rawRequest(s.url, "/v1/fs/move", { method: "OPTIONS", headers: { Origin: EVIL, "Access-Control-Request-Method": "POST" } });
      assert.equal(unlisted.headers["access-control-allow-origin"], undefined);
      // a text/plain body (a form a page may post freely) is not JSON
      const move = JSON.stringify({ from: target, to: target + "3" });
      assertProblem(await rawRequest(s.url, "/v1/fs/move", { method: "POST", headers: { "Content-Type": "text/plain", ...auth }, body: move }), 415, "unsupported_media_type");
      assertProblem(await rawRequest(s.url, "/v1/desktop/start", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth }, body: "a=b" }), 415);
      assertProblem(await rawRequest(s.url, q, { method: "POST", headers: { "Content-Type": "text/plain", ...auth }, body: "x" }), 400);
      assert.equal(existsSync(target + "3"), false);

      // a WebSocket from another origin cannot reach a terminal
      const proc = (await (await s.fetch("/v1/processes", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ command: "cat", tty: true }) })).json()) as { id: string };
      const wsUrl = `${s.url.replace("http", "ws")}/v1/processes/${proc.id}/terminal/ws${token ? `?access_token=${token}` : ""}`;
      assert.equal((await wsStatus(wsUrl, { Origin: EVIL })).status, 403, "cross-origin terminal WebSocket refused");
      const opened = await wsStatus(wsUrl, { Origin: `http://${own}` });
      assert.equal(opened.status, 101, "same-origin terminal WebSocket opens");
      opened.socket!.close();
      await s.fetch(`/v1/processes/${proc.id}/kill`, { method: "POST" });
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`HTTP semantics on every route (${mode})`, { timeout: 120_000 }, async () => {
    const s = await startServer({ token });
    try {
      // 405 with Allow, not 404
      const wrong = await rawRequest(s.url, "/v1/health", { method: "DELETE", headers: auth });
      assertProblem(wrong, 405, "method_not_allowed");
      assert.match(String(wrong.headers.allow), /GET/);
      assert.match(String((await rawRequest(s.url, "/v1/processes/abc", { method: "PUT", headers: auth })).headers.allow), /DELETE/);
      assertProblem(await rawRequest(s.url, "/v1/no-such-thing", { headers: auth }), 404, "not_found");
      // OPTIONS: 204 with Allow, no token needed
      const options = await rawRequest(s.url, "/v1/desktop/status", { method: "OPTIONS" });
      assert.equal(options.status, 204);
      assert.match(String(options.headers.allow), /GET/);
      assert.match(String((await rawRequest(s.url, "/v1/fs/file", { method: "OPTIONS" })).headers.allow), /PUT/);
      // unknown query keys, on routes with and without a query schema
      assertProblem(await rawRequest(s.url, "/v1/desktop/status?verbose=1", { headers: auth }), 400, "invalid_request");
      assertProblem(await rawRequest(s.url, "/v1/health?x=1", { headers: auth }), 400);
      assertProblem(await rawRequest(s.url, "/v1/fs/stat?path=/tmp&follow=1", { headers: auth }), 400);
      // a body where none is taken
      assertProblem(await rawRequest(s.url, "/v1/desktop/status", { headers: { ...auth, "Content-Type": "application/json" }, body: "{}" }), 400);
      assertProblem(await rawRequest(s.url, "/v1/desktop/stop", { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: '{"x":1}' }), 400);
      // many clients send {} with every POST: an empty object says nothing and passes
      assert.equal((await rawRequest(s.url, "/v1/desktop/stream/stop", { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: "{}" })).status, 200);
      assertProblem(await rawRequest(s.url, "/v1/nothing/here", { method: "OPTIONS" }), 404);
      // what the framework and Node answer is problem+json too
      assertProblem(await rawRequest(s.url, `/v1/fs/stat?path=${"a".repeat(20_000)}`, { headers: auth }), 431);
      assertProblem(await rawRequest(s.url, "/v1/health/%zz", { headers: auth }), 400);
      assertProblem(await rawRequest(s.url, `/v1/processes/${"a".repeat(3000)}`, { headers: auth }), 414);
      const badLength = await rawExchange(s.url, `POST /v1/fs/move HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`);
      assert.match(badLength.text, /^HTTP\/1.1 400/);
      assert.match(badLength.text, /content-type: application\/problem\+json/i);
      assertProblem(await rawRequest(s.url, "/v1/fs/move", { method: "POST", headers: { ...auth, "Content-Type": "application/json; charset" }, body: "{}" }), 400);
      assertProblem(await rawRequest(s.url, "/v1/fs/move", { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: "{not json" }), 400);
      // a WebSocket handshake to a route that is not a WebSocket
      const upgrade = { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" };
      const refused = await rawRequest(s.url, "/v1/health", { headers: { ...auth, ...upgrade } });
      assertProblem(refused, 400);
      assert.equal(refused.headers.connection, "close");
      // and a plain GET to a WebSocket route
      assertProblem(await rawRequest(s.url, "/v1/desktop/stream/signaling", { headers: auth }), 400);
      if (token) {
        // access_token is a WebSocket route's way in, nowhere else, even with an Upgrade header
        assertProblem(await rawRequest(s.url, `/v1/desktop/status?access_token=${token}`), 401);
        assertProblem(await rawRequest(s.url, `/v1/desktop/status?access_token=${token}`, { headers: upgrade }), 401);
      }
      // the WebSocket routes are in the OpenAPI document
      const doc = (await (await s.fetch("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
      assert.ok(doc.paths["/v1/processes/{id}/terminal/ws"]?.get, "terminal WebSocket documented");
      assert.ok(doc.paths["/v1/desktop/stream/signaling"]?.get, "signaling WebSocket documented");
      assert.equal((await s.fetch("/v1/health")).status, 200, "still healthy");
    } finally {
      await s.stop();
    }
  });
}

test("a refused WebSocket upgrade says Connection: close and closes the socket", { timeout: 60_000 }, async () => {
  const s = await startServer({ token: TOKEN });
  try {
    const handshake = (p: string) =>
      `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    for (const p of ["/v1/desktop/stream/signaling?access_token=wrong", "/v1/processes/nope/terminal/ws"]) {
      const r = await rawExchange(s.url, handshake(p));
      assert.match(r.text, /^HTTP\/1.1 401/, r.text);
      assert.match(r.text, /connection: close/i);
      assert.ok(r.closedByServer, `the server closed the refused connection (${p})`);
    }
  } finally {
    await s.stop();
  }
});

test("CORS method, header and credential flags without an origin are refused at startup", () => {
  for (const flags of [["--cors-allow-method", "PUT"], ["--cors-allow-header", "x-a"], ["--cors-allow-credentials"]]) {
    const r = spawnSync(process.execPath, [path.join(repoRoot, "bin", "glasspane.js"), "server", "--port", "0", "--no-token", ...flags], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 2, `${flags.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /need at least one --cors-allow-origin/);
  }
});

