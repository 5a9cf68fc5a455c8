import type { FastifyRequest } from "fastify";
import type { BrowserStatus, DiscoveryBase } from "../../browser/types.js";
import { scopeOf, unitOf } from "../desktop-scope.js";
import { problem, sendProblem } from "../problem.js";
import type { App } from "../app.js";
import * as S from "../schemas/browser.js";

const tags = ["browser"];
const PREFIX = "/browser";

export interface BrowserRouteOptions {
  /** origins besides the server's own that may open a CDP socket (`--cors-allow-origin`) */
  corsAllowOrigins?: string[];
}

/** Where this request reached us: the rewritten CDP URLs point back the same way. */
function discoveryBase(req: FastifyRequest): DiscoveryBase {
  return { wsOrigin: `${req.protocol === "https" ? "wss" : "ws"}://${req.headers.host}`, prefix: `${scopeOf(req).base}${PREFIX}` };
}

/**
 * A CDP socket drives the whole browser: a web page must not open one (the browser would
 * send the page's Origin). No Origin (not a browser), the server's own origin, or a listed
 * one may. The generic Host/Origin rules of the server layer cover this too once they land;
 * this is the one place to fold into them.
 */
function foreignOrigin(req: FastifyRequest, o: BrowserRouteOptions): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const allowed = o.corsAllowOrigins ?? [];
  if (allowed.includes("*") || allowed.includes(origin)) return undefined;
  try {
    const url = new URL(origin);
    if ((url.protocol === "http:" || url.protocol === "https:") && url.host === req.headers.host?.toLowerCase()) return undefined;
  } catch {
    /* "null" and garbage are foreign */
  }
  return origin;
}

/** `/v1/desktop/browser/*` (and under every `/v1/desktops/{id}`): the managed Chromium, its discovery documents and the CDP WebSocket proxy. */
export function registerBrowserRoutes(app: App, options: BrowserRouteOptions = {}) {
  const browser = (req: FastifyRequest) => unitOf(req).browser;
  const withCdp = (req: FastifyRequest, status: BrowserStatus) => {
    if (status.state === "stopped") return status;
    const base = discoveryBase(req);
    const http = base.wsOrigin.replace(/^ws/, "http");
    return { ...status, cdp: { webSocketDebuggerUrl: `${base.wsOrigin}${base.prefix}/cdp`, httpUrl: `${http}${base.prefix}` } };
  };
  const status = { 200: S.BrowserStatusResponse };
  app.post(
    `${PREFIX}/start`,
    {
      schema: { tags, summary: "Start Chromium on the desktop (or return the running one)", body: S.BrowserStartRequest, response: status },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => withCdp(req, await browser(req).start(req.body)),
  );
  app.post(`${PREFIX}/stop`, { schema: { tags, summary: "Stop the browser (every CDP client is disconnected)", response: status } }, async (req) =>
    withCdp(req, await browser(req).stop()),
  );
  app.get(`${PREFIX}/status`, { schema: { tags, summary: "The browser's process, version, CDP endpoints and pages", response: status } }, async (req) =>
    withCdp(req, await browser(req).status()),
  );

  // Discovery, as clients read it from a DevTools port (with and without the trailing slash
  // Playwright and Puppeteer append).
  for (const suffix of ["", "/"]) {
    // the documented paths are the ones without the slash; the others are aliases
    const hide = suffix === "/";
    app.get(`${PREFIX}/json/version${suffix}`, { schema: { tags, hide, summary: "Chromium's /json/version, its WebSocket URL through Glasspane", response: { 200: S.DiscoveryVersionResponse } } }, (req) =>
      browser(req).discoveryVersion(discoveryBase(req)),
    );
    for (const list of ["/json/list", "/json"]) {
      app.get(`${PREFIX}${list}${suffix}`, { schema: { tags, hide, summary: "Chromium's /json/list, each target's WebSocket URL through Glasspane", response: { 200: S.DiscoveryListResponse } } }, (req) =>
        browser(req).discoveryList(discoveryBase(req)),
      );
    }
  }

  const upstream = new WeakMap<FastifyRequest, string>();
  const cdpSocket = (target: (req: FastifyRequest) => string) => ({
    websocket: true as const,
    // refused before the upgrade, as a problem+json (403 foreign origin, 409 no browser)
    preHandler: async (req: FastifyRequest, reply: import("fastify").FastifyReply) => {
      const origin = foreignOrigin(req, options);
      if (origin !== undefined) {
        return sendProblem(reply, problem("origin_not_allowed", 403, `a page from the origin "${origin}" may not open the browser's CDP socket; allow it with --cors-allow-origin`));
      }
      upstream.set(req, await browser(req).resolveTarget(target(req)));
    },
  });
  const bridge = (socket: import("ws").WebSocket, req: FastifyRequest) => {
    const url = upstream.get(req)!;
    const session = browser(req).connect(url, {
      send: (data, binary, sent) => socket.send(data, { binary }, () => sent()),
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    });
    socket.on("message", (data, binary) => session.message(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), binary));
    socket.on("close", () => session.closed());
    socket.on("error", () => session.closed());
  };
  app.get(
    `${PREFIX}/cdp`,
    { ...cdpSocket(() => "browser"), schema: { tags, summary: "The browser's CDP endpoint (WebSocket), for connectOverCDP, Puppeteer, agent-browser --cdp" } },
    bridge,
  );
  app.get(
    `${PREFIX}/devtools/:kind/:id`,
    {
      ...cdpSocket((req) => {
        const p = req.params as { kind: string; id: string };
        return `${p.kind}/${p.id}`;
      }),
      schema: { tags, summary: "One target's CDP endpoint (WebSocket), as /json/list names it", params: S.DevtoolsTargetParams },
    },
    bridge,
  );
}
