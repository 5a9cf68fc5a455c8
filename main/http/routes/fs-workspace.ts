import multipart, { type Multipart } from "@fastify/multipart";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Volumes } from "../../volumes/types.js";
import { GlasspaneError, invalid } from "../../shared/errors.js";
import { LIMITS } from "../../shared/limits.js";
import type { App } from "../app.js";
import * as F from "../schemas/fs.js";
import * as S from "../schemas/workspace.js";

const tags = ["fs"];

/** Glasspane's file additions beside `/v1/fs/*`: exists, find, append, and uploads from a browser form. */
export function registerWorkspaceFsRoutes(app: App, volumes: Volumes) {
  app.get("/v1/fs/exists", { schema: { tags, summary: "Whether a path exists (never 404)", querystring: F.FsPathQuery, response: { 200: S.FsExistsResponse } } }, (req) =>
    volumes.fs(req.query.volume).exists(req.query.path),
  );
  app.get("/v1/fs/find", { schema: { tags, summary: "Find files by name glob and/or content, with a limit and a deadline", querystring: S.FsFindQuery, response: { 200: S.FsFindResponse } } }, (req) =>
    volumes.fs(req.query.volume).find(req.query),
  );
  app.post("/v1/fs/append", { schema: { tags, summary: "Append to a file (created when missing)", body: S.FsAppendRequest, response: { 200: S.FsAppendResponse } } }, (req) => {
    const b = req.body;
    return volumes.fs(b.volume).append(b.path, b.encoding === "base64" ? Buffer.from(b.content, "base64") : b.content);
  });

  // multipart only in this scope: the other routes keep their own body parsers
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    await scope.register(multipart, {
      limits: { files: LIMITS.uploadFiles.max, fileSize: LIMITS.uploadFileBytes.max, fieldSize: LIMITS.uploadFieldBytes.max, fields: 16, parts: LIMITS.uploadFiles.max + 16 },
    });
    scope.post(
      "/v1/fs/upload",
      { schema: { tags, operationId: "post_v1_fs_upload", summary: "Upload files from a form (multipart/form-data); each is written atomically into the folder `path`", querystring: F.FsUploadBatchQuery, body: S.FsUploadFilesBody, response: { 200: S.FsUploadFilesResponse } } },
      async (req) => {
        if (!req.isMultipart()) throw invalid("send multipart/form-data (a form with <input type=file>)");
        const fields: { path?: string | null; volume?: string | null } = { path: req.query.path, volume: req.query.volume };
        const files: Array<{ field: string; fileName: string; path: string; size: number }> = [];
        try {
          for await (const part of req.parts()) await take(part);
        } catch (err) {
          // busboy's own parse errors ("Boundary not found", "Unexpected end of form") are the caller's malformed body
          if (err instanceof GlasspaneError || typeof (err as { statusCode?: unknown }).statusCode === "number") throw err;
          throw invalid(`the multipart body cannot be read: ${(err as Error).message}`);
        }
        return { files };

        async function take(part: Multipart) {
          if (part.type === "field") {
            if (part.fieldname === "path" || part.fieldname === "volume") {
              if (files.length > 0) throw invalid(`the field "${part.fieldname}" must come before the files in the form`);
              fields[part.fieldname] = String(part.value) || undefined;
            }
            return;
          }
          if (!part.filename) {
            // an <input type=file> left empty sends a part without a file name
            part.file.resume();
            return;
          }
          let target;
          try {
            target = volumes.fs(fields.volume);
          } catch (err) {
            part.file.resume();
            throw err;
          }
          const written = await target.writeUploaded(fields.path, part.filename, part.file);
          files.push({ field: part.fieldname, ...written });
        }
      },
    );
  });
}
