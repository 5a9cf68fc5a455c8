import Fastify from "fastify";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import websocket from "@fastify/websocket";
import fastifyStatic from "@fastify/static";
import { Ajv } from "ajv";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Desktops } from "../desktops/types.js";
import type { FileSystem } from "../fs/types.js";
import type { Git } from "../git/types.js";
import type { Volumes } from "../volumes/types.js";
import type { Processes } from "../processes/types.js";
import type { Sessions, Traces } from "../sessions/types.js";
import { tokenDigest, tokenMatches } from "../shared/token.js";
import type { McpEndpoint } from "../mcp/types.js";
import type { Metrics } from "../metrics/types.js";
import { problem, ProblemSchema, sendProblem, toProblem } from "./problem.js";
import { registerBrowserRoutes } from "./routes/browser.js";
import { registerDesktopsRoutes } from "./routes/desktops.js";
import { desktopIdInPath, registerDesktopScopes } from "./desktop-scope.js";
import { clientErrorHandler, manageConnections } from "./connections.js";
import { RouteTable } from "./route-table.js";
import { answerUnrouted, checkParsedBody, checkRequestShape, guardRequest, TOKEN_QUERY_KEY, tokenInQuery } from "./rules.js";
import { registerAcpRoutes } from "./routes/acp.js";
import { registerAgentRoutes } from "./routes/agents.js";
import { registerConfigRoutes } from "./routes/config.js";
import { registerHealthRoutes, type ReadinessCheck } from "./routes/health.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { recordRequestMetrics } from "./request-metrics.js";
import { registerDesktopRoutes } from "./routes/desktop.js";
import { registerControlRoutes } from "./routes/control.js";
import { registerFsRoutes } from "./routes/fs.js";
import { registerProcessRoutes } from "./routes/processes.js";
import { registerRecordingRoutes } from "./routes/recording.js";
import { registerStreamRoutes } from "./routes/stream.js";
import { registerTraceRoutes } from "./routes/traces.js";
import { registerActionRoutes } from "./routes/actions.js";
import { registerMcpRoutes } from "./routes/mcp.js";
import { registerWorkspaceFsRoutes } from "./routes/fs-workspace.js";
import { registerGitRoutes } from "./routes/git.js";
import { registerVolumeRoutes } from "./routes/volumes.js";
import { registerAgentRunRoutes } from "./routes/agent-runs.js";
import type { AgentRuns } from "../sessions/types.js";

export interface HttpOptions {
  /** the address the server listens on: its name is always an allowed Host */
  host?: string;
  /** further names the server answers to in the Host header (`--allowed-host`; "*" for any) */
  allowedHosts?: string[];
  /** Bearer token; undefined means no auth (`--no-token`). */
  token?: string;
  corsAllowOrigins?: string[];
  corsAllowMethods?: string[];
  corsAllowHeaders?: string[];
  corsAllowCredentials?: boolean;
  version: string;
  logger?: boolean;
  /** folder of the web UI, served at /ui/ */
  uiDir?: string;
  /** heartbeat interval of the ACP SSE streams (15 s) */
  acpHeartbeatMs?: number;
}

export interface HttpServices {
  /** every desktop and its recordings, stream, actions and browser; `default` is /v1/desktop */
  desktops: Desktops;
  fs: FileSystem;
  processes: Processes;
  sessions: Sessions;
  /** the computer-use agent's traces */
  traces: Traces;
  /** the MCP front door, served at /v1/mcp behind the same token */
  mcp: McpEndpoint;
  /** named folders; `volumes.fs()` is the default file system (the one `fs` is) */
  volumes: Volumes;
  git: Git;
  runs: AgentRuns;
  /** Prometheus metrics: every request is timed into them; served at /metrics */
  metrics: Metrics;
  /** whether the runtime can serve (GET /v1/health/ready) */
  ready: ReadinessCheck;
}

export type { App } from "./app.js";
import type { App } from "./app.js";

/**
 * Bodies are validated strictly (a string is not a number); query strings and path
 * parameters arrive as text and are coerced. Unknown fields are rejected, not ignored.
 */
function validatorCompiler() {
  const common = { useDefaults: true, allErrors: false, strict: false, removeAdditional: false } as const;
  const bodies = new Ajv({ ...common, coerceTypes: false });
  const queries = new Ajv({ ...common, coerceTypes: true });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === "body" ? bodies : queries).compile(schema);
}

/** CORS method/header/credential flags mean nothing without an origin: refuse them rather than ignore them. */
export function checkCorsOptions(o: Pick<HttpOptions, "corsAllowOrigins" | "corsAllowMethods" | "corsAllowHeaders" | "corsAllowCredentials">): void {
  if (o.corsAllowOrigins?.length) return;
  const stray = [
    o.corsAllowMethods?.length && "--cors-allow-method",
    o.corsAllowHeaders?.length && "--cors-allow-header",
    o.corsAllowCredentials && "--cors-allow-credentials",
  ].filter(Boolean);
  if (stray.length > 0) throw new Error(`${stray.join(", ")} need at least one --cors-allow-origin`);
}

export async function createHttpServer(options: HttpOptions, services: HttpServices): Promise<App> {
  checkCorsOptions(options);
  const app = Fastify({
    logger: options.logger ? { level: "info" } : false,
    bodyLimit: 64 * 1024 * 1024,
    // no total request timeout (slow uploads are fine); connections.ts cuts off a body that stalls
    requestTimeout: 0,
    connectionTimeout: 0,
    clientErrorHandler,
    // a bad %-escape in the URL, or a path parameter longer than maxParamLength
    frameworkErrors: (err, _request, reply) => {
      const status = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? 414 : 400;
      const detail = status === 414 ? "a path parameter (an id?) is longer than the server takes" : err.message.slice(0, 300);
      return sendProblem(reply, problem(status === 414 ? "uri_too_long" : "invalid_request", status, detail));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes = new RouteTable();
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler((err, request, reply) => sendProblem(reply, toProblem(err, request)));
  app.setNotFoundHandler((request, reply) => answerUnrouted(request, reply, routes, options));
  manageConnections(app);
  recordRequestMetrics(app, services.metrics);
  // Host and Origin first (before the token: a page cannot use a token it does not have, but
  // must not reach anything on a rebinding name either), then the shape rules every route shares.
  app.addHook("onRequest", async (request, reply) => guardRequest(request, reply, options));

  // only JSON parses at the root: a text/plain body (a form a page can post without a preflight) has no parser
  app.removeContentTypeParser("text/plain");
  // An empty JSON body means "no fields" (curl -X POST -H 'content-type: application/json').
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(new Error(`malformed JSON body: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  if (options.corsAllowOrigins && options.corsAllowOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsAllowOrigins,
      methods: options.corsAllowMethods ?? ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      allowedHeaders: options.corsAllowHeaders,
      credentials: options.corsAllowCredentials ?? false,
      // OPTIONS is answered by answerUnrouted (204 with Allow, on known paths only)
      preflight: false,
    });
  }

  // The runtime's token reaches everything; a desktop's own token reaches only the routes
  // under /v1/desktops/{that id} (a desktop with a token needs one even under --no-token).
  const expected = options.token !== undefined ? tokenDigest(options.token) : undefined;
  app.addHook("onRequest", async (request, reply) => {
    // OPTIONS tells what a path takes, nothing more; preflights carry no token
    if (request.method === "OPTIONS") return;
    // the UI's own files hold no data; the page calls the API with the token
    if (request.url === "/ui" || request.url.startsWith("/ui/")) return;
    const desktopId = desktopIdInPath(request);
    const guardedDesktop = desktopId !== undefined && services.desktops.guarded(desktopId);
    if (expected === undefined && !guardedDesktop) return;
    const header = request.headers.authorization;
    let presented: string | undefined;
    if (header?.startsWith("Bearer ")) presented = header.slice("Bearer ".length);
    // a browser's WebSocket, or a <video>/download link in a page, cannot send a header: they carry ?access_token=
    else if (tokenInQuery(request, routes.get(request.method, request.routeOptions.url))) {
      presented = new URL(request.url, "http://x").searchParams.get(TOKEN_QUERY_KEY) ?? undefined;
    }
    const reaches =
      presented !== undefined &&
      ((expected !== undefined && tokenMatches(presented, expected)) || (desktopId !== undefined && services.desktops.tokenReaches(desktopId, presented)));
    if (!reaches) {
      return sendProblem(reply, problem("token_invalid", 401, "missing or invalid bearer token (Authorization: Bearer <token>)"));
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Glasspane", version: options.version, description: "Give an AI agent a Linux computer." },
      components: options.token !== undefined ? { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } : {},
      security: options.token !== undefined ? [{ bearer: [] }] : [],
    },
  });

  app.addHook("onRequest", async (request, reply) => checkRequestShape(request, reply, routes));
  app.addHook("preValidation", async (request, reply) => checkParsedBody(request, reply, routes));

  // Every route documents its errors and gets an operationId derived from its path.
  app.addHook("onRoute", (route) => {
    if (route.schema?.hide) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const segments = route.url.split("/").filter((p) => p && !p.startsWith(":"));
    // the desktop routes are registered twice (/v1/desktop and /v1/desktops/:desktopId): a named one gets its twin's name
    const named = route.schema?.operationId;
    const twin = named && route.url.startsWith("/v1/desktops/:desktopId/") ? named.replace("_v1_desktop_", "_v1_desktops_") : named;
    route.schema = {
      ...route.schema,
      operationId: twin ?? `${String(methods[0]).toLowerCase()}_${segments.join("_")}`,
      response: { ...(route.schema?.response as object), "4XX": ProblemSchema, "5XX": ProblemSchema },
    };
  });

  // WebSocket routes (terminals, stream signaling) are `{ websocket: true }` routes; the
  // auth hook above already runs on their upgrade requests.
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  // after the plugin's own hook (which hides WebSocket routes from the document): list them,
  // and learn every route's shape for the generic rules
  app.addHook("onRoute", (route) => {
    routes.add(route as never);
    if (!(route as { websocket?: boolean }).websocket || !route.schema) return;
    const schema = route.schema as Record<string, unknown>;
    schema.hide = false;
    schema.description = `${schema.description ?? ""}WebSocket endpoint: connect with \`Upgrade: websocket\`; a browser passes the token as \`?access_token=\`.`.trim();
    schema.response = { 101: { description: "Switching Protocols: the WebSocket is open", type: "null" }, ...(schema.response as object) };
  });

  registerHealthRoutes(app, services.ready);
  registerMetricsRoutes(app, services.metrics);
  registerDesktopsRoutes(app, services.desktops);
  // every route of one desktop, at /v1/desktop (the default) and /v1/desktops/:desktopId
  await registerDesktopScopes(app, services.desktops, (scope) => {
    registerDesktopRoutes(scope);
    registerControlRoutes(scope);
    registerRecordingRoutes(scope);
    registerStreamRoutes(scope);
    registerBrowserRoutes(scope, { corsAllowOrigins: options.corsAllowOrigins });
    registerActionRoutes(scope);
  });
  registerFsRoutes(app, services.volumes);
  registerWorkspaceFsRoutes(app, services.volumes);
  registerVolumeRoutes(app, services.volumes);
  registerGitRoutes(app, services.git);
  registerProcessRoutes(app, services.processes, services.volumes);
  registerAgentRoutes(app, services.sessions);
  registerAgentRunRoutes(app, services.runs, services.volumes);
  registerAcpRoutes(app, services.sessions, { heartbeatMs: options.acpHeartbeatMs, volumes: services.volumes });
  registerConfigRoutes(app, services.sessions);
  registerTraceRoutes(app, services.traces);
  registerMcpRoutes(app, services.mcp);
  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (options.uiDir) {
    await app.register(fastifyStatic, { root: options.uiDir, prefix: "/ui/", index: "index.html", schemaHide: true });
    app.get("/ui", { schema: { hide: true } }, (_req, reply) => reply.redirect("/ui/"));
  }

  return app;
}
