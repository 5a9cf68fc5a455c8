import path from "node:path";
import send from "@fastify/send";
import type { FastifyRequest } from "fastify";
import { unitOf } from "../desktop-scope.js";
import { problem, sendProblem } from "../problem.js";
import type { App } from "../app.js";
import * as S from "../schemas/recording.js";

const tags = ["desktop"];

/** `recording/*` and `recordings/*` under every desktop prefix (see desktop-scope.ts): validates and maps onto the desktop's recorder. */
export function registerRecordingRoutes(app: App) {
  const recordings = (req: FastifyRequest) => unitOf(req).recordings;
  // operationIds as the SDK's `operations` names them (the generated ones would collide)
  const info = { 200: S.DesktopRecordingInfo };
  const params = S.RecordingIdParams;

  app.post("/recording/start", { schema: { tags, operationId: "post_v1_desktop_recording_start", summary: "Start recording the desktop to MP4", body: S.DesktopRecordingStartRequest, response: info } }, (req) =>
    recordings(req).start(req.body ?? {}),
  );
  app.post("/recording/stop", { schema: { tags, operationId: "post_v1_desktop_recording_stop", summary: "Stop the recording and finish its file", response: info } }, (req) => recordings(req).stop());
  app.get("/recordings", { schema: { tags, operationId: "get_v1_desktop_recordings", summary: "All recordings, oldest first", response: { 200: S.DesktopRecordingListResponse } } }, async (req) => ({
    recordings: await recordings(req).list(),
  }));
  app.get("/recordings/:id", { schema: { tags, operationId: "get_v1_desktop_recording", params, response: info } }, (req) => recordings(req).get(req.params.id));
  app.delete("/recordings/:id", { schema: { tags, operationId: "delete_v1_desktop_recording", summary: "Delete a recording and its file", params, response: { 204: { type: "null", description: "deleted" } } } }, async (req, reply) => {
    await recordings(req).remove(req.params.id);
    return reply.code(204).send(null);
  });

  // @fastify/send answers Range (206, 416), If-Range, conditional GETs and HEAD from the file.
  app.get("/recordings/:id/download", { schema: { tags, operationId: "get_v1_desktop_recording_download", summary: "The recording's MP4 bytes (Range supported)", params, response: { 200: S.RecordingDownloadResponse, 206: S.RecordingDownloadResponse } } }, async (req, reply) => {
    const file = await recordings(req).file(req.params.id);
    const result = await send(req.raw, path.basename(file.path), {
      root: path.dirname(file.path),
      acceptRanges: true,
      cacheControl: false,
      dotfiles: "deny",
      index: false,
    });
    if (result.type === "error") {
      result.stream.destroy();
      const status = result.statusCode;
      if (status === 416) {
        reply.header("content-range", result.headers["Content-Range"]);
        return sendProblem(reply, problem("range_not_satisfiable", 416, `the range "${req.headers.range}" lies outside the ${file.bytes}-byte file`));
      }
      if (status === 404) return sendProblem(reply, problem("not_found", 404, `the file of recording ${req.params.id} is gone`));
      return sendProblem(reply, problem(status === 412 ? "precondition_failed" : "internal", status, `cannot serve the recording: ${result.metadata.error.message}`));
    }
    // the file of a recording in progress grows; caches must ask again
    return reply.code(result.statusCode as 200).headers({ ...result.headers, "cache-control": "no-cache" }).send(result.stream);
  });
}
