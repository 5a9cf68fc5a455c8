import type { FastifyReply, FastifyRequest } from "fastify";
import { hostAllowed, originAllowed, type GuardOptions } from "./guards.js";
import { problem, sendProblem } from "./problem.js";
import type { RouteFacts, RouteTable } from "./route-table.js";

/** Methods that change nothing: they need no Origin check. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The query key a browser's WebSocket uses for the token (it cannot set headers). */
export const TOKEN_QUERY_KEY = "access_token";

/** Routes a page reaches by URL alone (a <video> or download link): they, too, take the token in the query. */
const LINK_ROUTES = new Set(["/v1/desktop/recordings/:id/download", "/v1/desktops/:desktopId/recordings/:id/download"]);

/** Whether this request may carry its token as `?access_token=`: a WebSocket handshake, or a link route. */
export function tokenInQuery(request: FastifyRequest, route: RouteFacts | undefined): boolean {
  if (!route) return false;
  return (route.websocket && isUpgrade(request)) || ((request.method === "GET" || request.method === "HEAD") && LINK_ROUTES.has(route.url));
}

export function isUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  if (length !== undefined) return length.trim() !== "0";
  return request.headers["transfer-encoding"] !== undefined;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * The first rules every request meets, before the token: the Host must be one of ours,
 * a state-changing request or an upgrade from a browser must come from an allowed origin.
 */
export function guardRequest(request: FastifyRequest, reply: FastifyReply, o: GuardOptions): FastifyReply | undefined {
  if (!hostAllowed(request.headers.host, o)) {
    return sendProblem(reply, problem("host_not_allowed", 421, `this server does not answer to the host "${request.headers.host ?? ""}"; allow it with --allowed-host`));
  }
  if ((!SAFE_METHODS.has(request.method) || isUpgrade(request)) && !originAllowed(request.headers.origin, request.headers.host, o)) {
    return sendProblem(reply, problem("origin_not_allowed", 403, `requests from the origin "${request.headers.origin}" may not change anything here; allow it with --cors-allow-origin`));
  }
  return undefined;
}

/**
 * HTTP rules that hold for every route, checked from what the route declared: upgrades
 * only on WebSocket routes, no unknown query keys, no body where none is taken, and
 * application/json where a JSON body is.
 */
export function checkRequestShape(request: FastifyRequest, reply: FastifyReply, routes: RouteTable): FastifyReply | undefined {
  const route = routes.get(request.method, request.routeOptions.url);
  if (!route) return undefined; // not found: the 404/405 handler answers
  if (isUpgrade(request) && !route.websocket) {
    return sendProblem(reply, problem("invalid_request", 400, `${route.url} is not a WebSocket endpoint; send the request without Upgrade: websocket`));
  }
  if (!isUpgrade(request) && route.websocket) {
    return sendProblem(reply, problem("invalid_request", 400, `${route.url} is a WebSocket endpoint: connect with Upgrade: websocket`));
  }
  if (route.queryKeys !== undefined) {
    const allowed = tokenInQuery(request, route) ? [...route.queryKeys, TOKEN_QUERY_KEY] : route.queryKeys;
    const unknown = Object.keys((request.query as Record<string, unknown> | undefined) ?? {}).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) {
      const takes = allowed.length > 0 ? `it takes ${allowed.join(", ")}` : "it takes none";
      return sendProblem(reply, problem("invalid_request", 400, `unknown query parameter "${unknown[0]}" for ${request.method} ${route.url} (${takes})`));
    }
  }
  if (!hasBody(request)) return undefined;
  if (!route.jsonBody && !route.rawBody) {
    // many clients send `{}` with every POST; an empty JSON object says nothing, so it may pass (checked once parsed)
    if (SAFE_METHODS.has(request.method) || mediaType(request) !== "application/json") return refuseBody(reply, request.method, route.url);
    return undefined;
  }
  if (route.jsonBody && mediaType(request) !== "application/json") {
    return sendProblem(reply, problem("unsupported_media_type", 415, `${request.method} ${route.url} takes a JSON body: send Content-Type: application/json (got "${mediaType(request) || "none"}")`));
  }
  return undefined;
}

function refuseBody(reply: FastifyReply, method: string, url: string): FastifyReply {
  return sendProblem(reply, problem("invalid_request", 400, `${method} ${url} takes no request body`));
}

/** After parsing: a route without a body schema accepts at most an empty JSON object. */
export function checkParsedBody(request: FastifyRequest, reply: FastifyReply, routes: RouteTable): FastifyReply | undefined {
  const route = routes.get(request.method, request.routeOptions.url);
  if (!route || route.jsonBody || route.rawBody || request.body === undefined || request.body === null) return undefined;
  const body = request.body as unknown;
  if (typeof body === "object" && !Array.isArray(body) && Object.keys(body as object).length === 0) return undefined;
  return refuseBody(reply, request.method, route.url);
}

export interface CorsOptions {
  corsAllowOrigins?: string[];
  corsAllowMethods?: string[];
  corsAllowHeaders?: string[];
  corsAllowCredentials?: boolean;
}

/**
 * No route matched this method: OPTIONS answers 204 with Allow (and the CORS preflight
 * headers for an allowed origin), another method on a known path 405 with Allow, else 404.
 */
export function answerUnrouted(request: FastifyRequest, reply: FastifyReply, routes: RouteTable, cors: CorsOptions): FastifyReply {
  const path = request.url.split("?")[0]!;
  const allow = routes.allowed(path);
  if (allow.length === 0) return sendProblem(reply, problem("not_found", 404, `no route for ${request.method} ${path}`));
  reply.header("allow", allow.join(", "));
  if (request.method !== "OPTIONS") {
    return sendProblem(reply, problem("method_not_allowed", 405, `${path} does not take ${request.method}; it takes ${allow.join(", ")}`));
  }
  const origin = request.headers.origin;
  const origins = cors.corsAllowOrigins ?? [];
  if (origin && (origins.includes(origin) || origins.includes("*"))) {
    reply.header("access-control-allow-origin", origins.includes("*") && !cors.corsAllowCredentials ? "*" : origin);
    reply.header("vary", "Origin");
    reply.header("access-control-allow-methods", (cors.corsAllowMethods ?? allow).join(", "));
    const requested = request.headers["access-control-request-headers"];
    const headers = cors.corsAllowHeaders?.join(", ") ?? requested;
    if (headers) reply.header("access-control-allow-headers", headers);
    if (cors.corsAllowCredentials) reply.header("access-control-allow-credentials", "true");
    reply.header("access-control-max-age", "600");
  }
  return reply.code(204).send();
}
