import { Type } from "typebox";
import { Opt } from "./desktop.js";
import { LIMITS } from "../../shared/limits.js";

/** One schema per `/v1/fs` route, field for field as the sandbox-agent SDK's `Fs*` types. */

const FsPath = (description: string) => Type.String({ minLength: 1, description });
/** Every file and git route takes it: the path is then confined to that volume's folder. */
export const VolumeName = Type.String({ minLength: 1, maxLength: LIMITS.volumeName.max, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", description: "a volume (POST /v1/volumes): paths lie inside its folder" });
export const VolumeParam = Opt(VolumeName);

export const FsEntryType = Type.Enum(["file", "directory", "fifo", "socket", "characterDevice", "blockDevice"], {
  description: "file and directory as the SDK; special files say what they are (Glasspane addition)",
});
export const FsStat = Type.Object({
  path: Type.String({ description: "absolute path" }),
  entryType: FsEntryType,
  size: Type.Integer({ minimum: 0 }),
  modified: Opt(Type.String({ description: "RFC 3339" })),
});
export const FsEntry = Type.Object({
  name: Type.String(),
  path: Type.String({ description: "absolute path" }),
  entryType: FsEntryType,
  size: Type.Integer({ minimum: 0 }),
  modified: Opt(Type.String({ description: "RFC 3339" })),
});
export const FsEntries = Type.Array(FsEntry, { description: "the directory's entries, sorted by name" });

export const FsEntriesQuery = Type.Object(
  { path: Opt(FsPath("directory to list (default: the home directory)")), volume: VolumeParam },
  { additionalProperties: false },
);
export const FsPathQuery = Type.Object(
  { path: FsPath("absolute, ~/..., or relative to the home directory"), volume: VolumeParam },
  { additionalProperties: false },
);
export const FsDeleteQuery = Type.Object(
  {
    path: FsPath("file or directory to delete"),
    recursive: Opt(Type.Boolean({ description: "delete a non-empty directory with its contents" })),
    volume: VolumeParam,
  },
  { additionalProperties: false },
);
export const FsUploadBatchQuery = Type.Object(
  { path: Opt(FsPath("directory to extract into (created if missing; default: the home directory)")), volume: VolumeParam },
  { additionalProperties: false },
);

export const FsMoveRequest = Type.Object(
  {
    from: FsPath("source path"),
    to: FsPath("destination path"),
    overwrite: Opt(Type.Boolean({ description: "replace an existing destination (default false)" })),
    volume: VolumeParam,
  },
  { additionalProperties: false },
);
export const FsMoveResponse = Type.Object({ from: Type.String(), to: Type.String() });
export const FsActionResponse = Type.Object({ path: Type.String() });
export const FsWriteResponse = Type.Object({ path: Type.String(), bytesWritten: Type.Integer({ minimum: 0 }) });
export const FsUploadBatchResponse = Type.Object({
  paths: Type.Array(Type.String(), { description: "extracted files and directories (at most 1024)" }),
  truncated: Type.Boolean(),
  skipped: Type.Optional(Type.Array(Type.String(), { description: "entries not extracted: links, devices, FIFOs" })),
});

/** Raw bodies are documented, not validated: the handler receives them as a stream. */
export const rawBody = (mediaTypes: string[], description: string) => ({
  description,
  content: Object.fromEntries(mediaTypes.map((t) => [t, { schema: { description } }])),
});

export const FileResponse = {
  description: "the file's bytes",
  content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
};
