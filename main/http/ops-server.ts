import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { Metrics } from "../metrics/types.js";
import { hostAllowed, type GuardOptions } from "./guards.js";
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from "./problem.js";
import { notReadyProblem, READY_BODY, type ReadinessCheck } from "./routes/health.js";

/** An ops request (a scrape, a probe) that takes longer than this is cut off. */
const OPS_REQUEST_TIMEOUT_MS = 10_000;

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The ops listener (`--metrics-port`): a scraper or a kubelet inside a cluster reaches
 * `GET /metrics`, `GET /v1/health` and `GET /v1/health/ready` here without a token, and
 * nothing else. It answers only to the names the main port answers to (no DNS rebinding).
 */
export async function startOpsServer(
  options: { host: string; port: number; guard: GuardOptions },
  services: { metrics: Metrics; ready: ReadinessCheck },
): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    answer(req, res, options.guard, services).catch((err: Error) => sendProblemTo(res, problem("internal", 500, `internal error: ${err.message}`)));
  });
  server.requestTimeout = OPS_REQUEST_TIMEOUT_MS;
  server.headersTimeout = OPS_REQUEST_TIMEOUT_MS;
  server.listen(options.port, options.host);
  await Promise.race([once(server, "listening"), once(server, "error").then(([err]) => Promise.reject(err))]);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, guard: GuardOptions, services: { metrics: Metrics; ready: ReadinessCheck }): Promise<void> {
  if (!hostAllowed(req.headers.host, guard)) return sendProblemTo(res, problem("host_not_allowed", 421, `this server does not answer to the host "${req.headers.host ?? ""}"; allow it with --allowed-host`));
  const path = (req.url ?? "").split("?")[0];
  if (req.method !== "GET") return sendProblemTo(res, notFound());
  switch (path) {
    case "/metrics": {
      const text = await services.metrics.text();
      res.writeHead(200, { "content-type": services.metrics.contentType }).end(text);
      return;
    }
    case "/v1/health":
      return sendJson(res, 200, { status: "ok" });
    case "/v1/health/ready": {
      const r = await services.ready();
      return r.ready ? sendJson(res, 200, READY_BODY) : sendProblemTo(res, notReadyProblem(r.reason));
    }
    default:
      return sendProblemTo(res, notFound());
  }
}

function notFound(): Problem {
  return problem("not_found", 404, "the ops port serves only GET /metrics, /v1/health and /v1/health/ready");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

function sendProblemTo(res: ServerResponse, p: Problem): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(p.status, { "content-type": PROBLEM_CONTENT_TYPE }).end(JSON.stringify(p));
}
