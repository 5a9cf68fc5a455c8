import type { Traces } from "../../sessions/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/traces.js";

const tags = ["traces"];

/** `/v1/traces`: the computer-use agent's traces (JSONL + the screenshots the model saw). */
export function registerTraceRoutes(app: App, traces: Traces) {
  app.get("/v1/traces", { schema: { tags, operationId: "get_v1_traces", summary: "Every computer-use trace, oldest first", response: { 200: S.TraceList } } }, async () => ({ traces: traces.list() }));
  app.get("/v1/traces/:id", { schema: { tags, operationId: "get_v1_trace", params: S.TraceParams, response: { 200: S.TraceInfo } } }, (req) => traces.get(req.params.id));
  app.get(
    "/v1/traces/:id/download",
    { schema: { tags, operationId: "get_v1_trace_download", summary: "The trace as one tar: <id>/trace.jsonl and <id>/images/*", params: S.TraceParams } },
    (req, reply) => {
      const stream = traces.bundle(req.params.id);
      return reply.type("application/x-tar").header("content-disposition", `attachment; filename="${req.params.id}.tar"`).send(stream);
    },
  );
  app.delete(
    "/v1/traces/:id",
    { schema: { tags, operationId: "delete_v1_trace", summary: "Delete a trace and its images", params: S.TraceParams, response: { 204: { type: "null", description: "deleted" } } } },
    async (req, reply) => {
      traces.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );
}
