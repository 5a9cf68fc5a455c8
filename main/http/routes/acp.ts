import { PassThrough } from "node:stream";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { AcpEvent, Sessions } from "../../sessions/types.js";
import type { Volumes } from "../../volumes/types.js";
import { GlasspaneError, invalid } from "../../shared/errors.js";
import type { App } from "../app.js";
import * as S from "../schemas/sessions.js";

const tags = ["acp"];
/** Events queued for an SSE client that does not read before its stream is ended (it reconnects with Last-Event-ID). */
const SSE_MAX_QUEUED = 32 * 1024 * 1024;

export interface AcpRouteOptions {
  /** `: heartbeat` comment interval of the SSE stream (15 s) */
  heartbeatMs?: number;
  /** `?volume=` on a session/new or session/load: its cwd is resolved inside that volume */
  volumes?: Volumes;
}

/** Whether an Accept header admits `type` (absent, `*\/*`, `type/*` or the type itself). */
function accepts(request: FastifyRequest, type: string): boolean {
  const header = request.headers.accept;
  if (!header) return true;
  const [major] = type.split("/");
  return header.split(",").some((part) => {
    const media = part.split(";")[0]!.trim().toLowerCase();
    return media === "*/*" || media === type || media === `${major}/*`;
  });
}

const notAcceptable = (type: string) => new GlasspaneError("not_acceptable", 406, `this endpoint answers ${type}; send an Accept header that allows it`);

/**
 * `/v1/acp/{server_id}`: POST one JSON-RPC envelope (the agent's answer for a request,
 * 202 otherwise), GET the server's envelopes as SSE (replayed after Last-Event-ID), DELETE.
 */
export function registerAcpRoutes(app: App, sessions: Sessions, options: AcpRouteOptions = {}) {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  /** A session started in a volume: its cwd (relative, absolute inside it, or absent) becomes the volume's folder or one in it. */
  const inVolume = async (body: unknown, volume: string): Promise<unknown> => {
    const envelope = body as { method?: unknown; params?: { cwd?: unknown } } | null;
    if (!options.volumes || typeof envelope !== "object" || envelope === null) return body;
    if (envelope.method !== "session/new" && envelope.method !== "session/load") return body;
    const cwd = typeof envelope.params?.cwd === "string" && envelope.params.cwd !== "" ? envelope.params.cwd : null;
    return { ...envelope, params: { ...envelope.params, cwd: await options.volumes.workingDirectory(volume, cwd) } };
  };
  const open = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const finish of open) finish();
  });

  app.get("/v1/acp", { schema: { tags, operationId: "get_v1_acp_servers", response: { 200: S.AcpServerListResponse } } }, () => ({ servers: sessions.listServers() }));

  app.post(
    "/v1/acp/:server_id",
    {
      schema: { tags, operationId: "post_v1_acp", summary: "Send one JSON-RPC envelope to the agent", params: S.AcpParams, querystring: S.AcpPostQuery, body: Type.Unknown({ description: "one JSON-RPC envelope (the agent judges it)" }), response: { 200: S.AcpEnvelope, 202: { type: "null", description: "notification or response accepted" } } },
      // checked before the body is read, so a wrong Accept or media type is named as such
      onRequest: async (req) => {
        if (!accepts(req, "application/json")) throw notAcceptable("application/json");
        const type = req.headers["content-type"]?.split(";")[0]!.trim().toLowerCase();
        if (type !== "application/json") throw new GlasspaneError("unsupported_media_type", 415, `send the envelope as Content-Type: application/json (got ${type ? `"${type}"` : "none"})`);
      },
    },
    async (req, reply) => {
      const body = req.query.volume ? await inVolume(req.body, req.query.volume) : req.body;
      const answer = await sessions.post(req.params.server_id, req.query.agent ?? undefined, body);
      // sent as the agent wrote it, not through the schema's serializer (which drops unknown fields)
      if (answer) return reply.type("application/json").send(JSON.stringify(answer) as never);
      return reply.code(202).send(undefined as never);
    },
  );

  app.get(
    "/v1/acp/:server_id",
    {
      schema: { tags, operationId: "get_v1_acp", summary: "The server's envelopes as text/event-stream (replays from the start or after Last-Event-ID)", params: S.AcpParams },
      onRequest: async (req) => {
        if (!accepts(req, "text/event-stream")) throw notAcceptable("text/event-stream");
      },
    },
    async (req, reply) => {
      const header = req.headers["last-event-id"];
      let lastEventId: number | undefined;
      if (header !== undefined && header !== "") {
        lastEventId = Number(header);
        if (!Number.isSafeInteger(lastEventId) || lastEventId < 0) throw invalid(`Last-Event-ID must be a non-negative integer (got "${header}")`);
      }
      const body = new PassThrough();
      let subscription: { close(): void } | undefined;
      const finish = () => {
        clearInterval(heartbeat);
        open.delete(finish);
        subscription?.close();
        if (!body.writableEnded) body.end();
      };
      const send = (e: AcpEvent) => {
        if (body.writableEnded) return;
        if (body.writableLength > SSE_MAX_QUEUED) {
          body.write(`: the client fell behind; reconnect with Last-Event-ID: ${e.id - 1}\n\n`);
          return finish();
        }
        body.write(`event: message\nid: ${e.id}\ndata: ${JSON.stringify(e.envelope)}\n\n`);
      };
      const heartbeat = setInterval(() => body.write(": heartbeat\n\n"), heartbeatMs);
      open.add(finish);
      try {
        subscription = await sessions.subscribe(req.params.server_id, lastEventId, {
          start: ({ firstId, dropped }) => {
            if (dropped) body.write(`: replay starts at event ${firstId}; earlier events were dropped from the capped log\n\n`);
          },
          event: send,
          end: finish,
        });
      } catch (err) {
        finish();
        throw err;
      }
      reply.raw.once("close", finish);
      return reply.type("text/event-stream").header("cache-control", "no-cache").header("x-accel-buffering", "no").send(body as never);
    },
  );

  app.delete(
    "/v1/acp/:server_id",
    { schema: { tags, operationId: "delete_v1_acp", summary: "Close the server and stop its agent (answers at once)", params: S.AcpParams, response: { 204: { type: "null", description: "closed" } } } },
    (req, reply) => {
      sessions.remove(req.params.server_id);
      void reply.code(204).send(null);
    },
  );
}
