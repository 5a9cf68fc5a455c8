import { Type } from "typebox";
import { LIMITS } from "../../shared/limits.js";
import { Opt } from "./desktop.js";
import { FsEntryType, VolumeName, VolumeParam } from "./fs.js";

/** Schemas of the workspace routes: file additions, volumes, git. */

const FsPath = (description: string) => Type.String({ minLength: 1, description });
const Int = Type.Integer;

export const FsExistsResponse = Type.Object({ path: Type.String(), exists: Type.Boolean(), entryType: Type.Union([FsEntryType, Type.Null()]) });

export const FsFindQuery = Type.Object(
  {
    path: Opt(FsPath("directory to search (default: the base directory)")),
    name: Opt(Type.String({ minLength: 1, maxLength: 1000, description: 'glob on file names ("*.ts"); with a "/", on paths relative to `path`' })),
    content: Opt(Type.String({ minLength: 1, maxLength: 1000, description: "text a matching file contains (literal)" })),
    caseSensitive: Opt(Type.Boolean({ description: "(default false)" })),
    includeGit: Opt(Type.Boolean({ description: "search inside .git folders too (default false)" })),
    limit: Opt(Int({ minimum: 1, maximum: LIMITS.findResults.max, description: `most matches (${LIMITS.findResults.default})` })),
    timeoutMs: Opt(Int({ minimum: 1, maximum: LIMITS.findTimeoutMs.max, description: `deadline of the search (${LIMITS.findTimeoutMs.default}); what was found until then is answered with timedOut` })),
    volume: VolumeParam,
  },
  { additionalProperties: false },
);
export const FsFindResponse = Type.Object({
  root: Type.String(),
  matches: Type.Array(
    Type.Object({
      path: Type.String(),
      relativePath: Type.String(),
      line: Type.Optional(Type.Object({ number: Type.Integer(), text: Type.String() })),
    }),
  ),
  truncated: Type.Boolean(),
  timedOut: Type.Boolean(),
});

export const FsAppendRequest = Type.Object(
  {
    path: FsPath("file to append to (created when missing)"),
    content: Type.String({ description: "the text (or base64 bytes) to add at the end" }),
    encoding: Opt(Type.Enum(["utf8", "base64"], { description: "of content (utf8)" })),
    volume: VolumeParam,
  },
  { additionalProperties: false },
);
export const FsAppendResponse = Type.Object({ path: Type.String(), bytesWritten: Type.Integer({ minimum: 0 }) });

export const FsUploadFilesResponse = Type.Object({
  files: Type.Array(Type.Object({ field: Type.String(), fileName: Type.String(), path: Type.String(), size: Type.Integer({ minimum: 0 }) })),
});
/** Documented, not validated: the handler reads the parts as they stream in. */
export const FsUploadFilesBody = {
  description: "multipart/form-data: optional fields `path` (target folder) and `volume` before the files, then any number of file parts",
  content: { "multipart/form-data": { schema: { description: "fields path and volume (text), then the files" } } },
};

export const VolumeInfo = Type.Object({ name: Type.String(), path: Type.String(), createdAt: Type.String() });
export const VolumeListResponse = Type.Object({ volumes: Type.Array(VolumeInfo) });
export const VolumeEnsureRequest = Type.Object({ name: VolumeName }, { additionalProperties: false });
export const VolumeEnsureResponse = Type.Object({ name: Type.String(), path: Type.String(), createdAt: Type.String(), created: Type.Boolean() });
export const VolumeParams = Type.Object({ name: VolumeName });

const gitTarget = {
  path: Opt(FsPath("the repository's folder (resolved like the file API's paths)")),
  volume: VolumeParam,
};
const Branch = Type.String({ minLength: 1, maxLength: 255 });
export const GitInitRequest = Type.Object({ ...gitTarget, initialBranch: Opt(Branch), bare: Opt(Type.Boolean()) }, { additionalProperties: false });
export const GitInitResponse = Type.Object({ path: Type.String(), branch: Type.Union([Type.String(), Type.Null()]) });
export const GitCloneRequest = Type.Object(
  {
    ...gitTarget,
    url: Type.String({ minLength: 1, maxLength: LIMITS.urlLength.max, description: "what git clone takes: https://, ssh, file://, or a local path" }),
    depth: Opt(Int({ minimum: 1, maximum: 1_000_000 })),
    branch: Opt(Branch),
    timeoutMs: Opt(Int({ minimum: 1, maximum: LIMITS.gitTimeoutMs.max, description: "(300000); the clone is killed and the folder emptied when it passes" })),
  },
  { additionalProperties: false },
);
export const GitCloneResponse = Type.Object({ path: Type.String(), branch: Type.Union([Type.String(), Type.Null()]), commit: Type.Union([Type.String(), Type.Null()]) });
export const GitStatusRequest = Type.Object(gitTarget, { additionalProperties: false });
const Change = Type.Object({ path: Type.String(), from: Type.Optional(Type.String()), status: Type.String() });
export const GitStatusResponse = Type.Object({
  path: Type.String(),
  branch: Type.Union([Type.String(), Type.Null()]),
  commit: Type.Union([Type.String(), Type.Null()]),
  upstream: Type.Union([Type.String(), Type.Null()]),
  ahead: Type.Integer(),
  behind: Type.Integer(),
  staged: Type.Array(Change),
  unstaged: Type.Array(Change),
  untracked: Type.Array(Type.String()),
  conflicted: Type.Array(Type.String()),
  clean: Type.Boolean(),
});
export const GitExecRequest = Type.Object(
  {
    ...gitTarget,
    args: Type.Array(Type.String({ maxLength: LIMITS.gitArgLength.max }), { minItems: 1, maxItems: LIMITS.gitArgs.max, description: "arguments after `git`" }),
    timeoutMs: Opt(Int({ minimum: 1, maximum: LIMITS.gitTimeoutMs.max, description: `(${LIMITS.gitTimeoutMs.default}); the process group is killed when it passes` })),
    maxOutputBytes: Opt(Int({ minimum: 1, maximum: LIMITS.gitOutputBytes.max, description: `kept of each stream (${LIMITS.gitOutputBytes.default})` })),
  },
  { additionalProperties: false },
);
export const GitExecResponse = Type.Object({
  exitCode: Type.Integer(),
  stdout: Type.String(),
  stderr: Type.String(),
  stdoutTruncated: Type.Boolean(),
  stderrTruncated: Type.Boolean(),
  durationMs: Type.Integer(),
});

export const AgentRunRequest = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: LIMITS.runPromptLength.max }),
    cwd: Opt(FsPath("the agent's working directory, resolved like the file API's paths (inside the volume when one is named)")),
    volume: VolumeParam,
    model: Opt(Type.String({ minLength: 1, maxLength: 200 })),
    systemPrompt: Opt(Type.String({ maxLength: LIMITS.runPromptLength.max })),
    maxTurns: Opt(Type.Integer({ minimum: 1, maximum: 1000 })),
    allowedTools: Opt(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 })),
    permissions: Opt(
      Type.Union([Type.Enum(["allow", "reject"]), Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, description: "ACP tool kinds allowed: read, edit, delete, move, search, execute, think, fetch, other" })], {
        description: 'what the run answers when the agent asks for permission: "allow", "reject" (default), or the tool kinds it allows',
      }),
    ),
    resume: Opt(Type.String({ minLength: 1, maxLength: 200, description: "a previous run's id (the messageId of its start chunk): continue its session" })),
  },
  { additionalProperties: false },
);
export const AgentRunStream = {
  description: "the AI SDK UI message stream: SSE, one UIMessageChunk JSON per `data:` line, then `data: [DONE]`",
  content: { "text/event-stream": { schema: { type: "string" } } },
};
