import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Volumes } from "../../volumes/types.js";
import { GlasspaneError } from "../../shared/errors.js";
import type { App } from "../app.js";
import * as S from "../schemas/fs.js";

const tags = ["fs"];
const TAR_TYPES = ["application/x-tar", "application/tar", "application/gzip", "application/x-gzip"];

/** `/v1/fs/*`: validates, maps each call onto the FileSystem service, nothing else. */
export function registerFsRoutes(app: App, volumes: Volumes) {
  // `volume` picks the file system confined to that volume; without it, the default one
  const fs = (volume?: string | null) => volumes.fs(volume);
  app.get("/v1/fs/entries", { schema: { tags, summary: "List a directory", querystring: S.FsEntriesQuery, response: { 200: S.FsEntries } } }, (req) =>
    fs(req.query.volume).list(req.query.path),
  );
  app.get("/v1/fs/stat", { schema: { tags, summary: "Metadata of a file or directory", querystring: S.FsPathQuery, response: { 200: S.FsStat } } }, (req) =>
    fs(req.query.volume).stat(req.query.path),
  );
  app.get("/v1/fs/file", { schema: { tags, summary: "Read a file's bytes", querystring: S.FsPathQuery, response: { 200: S.FileResponse } } }, async (req, reply) => {
    const file = await fs(req.query.volume).readFile(req.query.path);
    reply.type("application/octet-stream").header("cache-control", "no-store");
    if (file.size > 0) reply.header("content-length", file.size);
    return reply.send(file.stream);
  });
  app.delete("/v1/fs/entry", { schema: { tags, summary: "Delete a file or directory (recursive only when asked)", querystring: S.FsDeleteQuery, response: { 200: S.FsActionResponse } } }, (req) =>
    fs(req.query.volume).delete(req.query.path, req.query.recursive ?? false),
  );
  app.post("/v1/fs/mkdir", { schema: { tags, summary: "Create a directory and its parents", querystring: S.FsPathQuery, response: { 200: S.FsActionResponse } } }, (req) =>
    fs(req.query.volume).mkdir(req.query.path),
  );
  app.post("/v1/fs/move", { schema: { tags, summary: "Move or rename", body: S.FsMoveRequest, response: { 200: S.FsMoveResponse } } }, (req) =>
    fs(req.body.volume).move(req.body.from, req.body.to, req.body.overwrite ?? false),
  );
  app.post("/v1/fs/copy", { schema: { tags, summary: "Copy a file or a directory tree (Glasspane addition)", body: S.FsMoveRequest, response: { 200: S.FsMoveResponse } } }, (req) =>
    fs(req.body.volume).copy(req.body.from, req.body.to, req.body.overwrite ?? false),
  );

  // Raw bodies reach these two handlers as streams, whatever their content type, so a
  // large file goes to disk without being held in memory; the service enforces the size limit.
  app.register(async (scope) => {
    const raw = scope.withTypeProvider<TypeBoxTypeProvider>();
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));

    raw.put(
      "/v1/fs/file",
      { schema: { tags, summary: "Write a file (raw body, any content type); creates parent directories, replaces the file", querystring: S.FsPathQuery, body: S.rawBody(["application/octet-stream"], "the file's bytes"), response: { 200: S.FsWriteResponse } } },
      (req) => fs(req.query.volume).writeFile(req.query.path, bodyOf(req), lengthOf(req)),
    );
    raw.post(
      "/v1/fs/upload-batch",
      { schema: { tags, operationId: "post_v1_fs_upload_batch", summary: "Extract a tar archive into a directory", querystring: S.FsUploadBatchQuery, body: S.rawBody(TAR_TYPES, "a tar archive (optionally gzipped)"), response: { 200: S.FsUploadBatchResponse } } },
      (req) => {
        const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
        if (!TAR_TYPES.includes(type)) {
          throw new GlasspaneError("unsupported_media_type", 415, `upload-batch takes a tar archive: send Content-Type: application/x-tar (got "${type || "none"}")`);
        }
        return fs(req.query.volume).uploadBatch(req.query.path, bodyOf(req), lengthOf(req));
      },
    );
  });
}

function bodyOf(req: FastifyRequest): Readable | undefined {
  return (req.body as Readable | null | undefined) ?? undefined;
}

function lengthOf(req: FastifyRequest): number | undefined {
  const n = Number(req.headers["content-length"]);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
