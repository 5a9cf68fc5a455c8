import { Type } from "typebox";
import { Opt } from "./desktop.js";
import { LIMITS } from "../../shared/limits.js";

/**
 * The recording routes, field for field as the sandbox-agent SDK's `DesktopRecording*`
 * types; fields marked Glasspane are additions the SDK ignores.
 */
const Int = (opts: Record<string, unknown> = {}) => Type.Integer({ minimum: -2147483648, maximum: 2147483647, ...opts });

export const DesktopRecordingStartRequest = Type.Object(
  {
    fps: Opt(Int({ minimum: LIMITS.fps.min, maximum: LIMITS.fps.max, description: "frames per second (the desktop's recordingFps, 30)" })),
    maxDurationSeconds: Opt(
      Type.Number({ minimum: LIMITS.recordingSeconds.min, maximum: LIMITS.recordingSeconds.max, description: "Glasspane: the recording stops by itself after this many seconds" }),
    ),
    maxSizeBytes: Opt(
      Type.Integer({ minimum: 64 * 1024, maximum: Number.MAX_SAFE_INTEGER, description: "Glasspane: the recording stops by itself at about this file size" }),
    ),
  },
  { additionalProperties: false },
);

export const DesktopRecordingInfo = Type.Object({
  id: Type.String({ description: '"rec_1", "rec_2", ...' }),
  status: Type.Enum(["recording", "completed", "failed"]),
  processId: Opt(Type.String({ description: "the ffmpeg process (GET /v1/processes/{id}); null for recordings of an earlier server run" })),
  fileName: Type.String(),
  bytes: Type.Integer({ minimum: 0, description: "int64: size of the file now" }),
  startedAt: Type.String({ description: "RFC 3339" }),
  endedAt: Opt(Type.String({ description: "RFC 3339" })),
  fps: Opt(Int({ description: "Glasspane: frames per second of the video" })),
  endReason: Opt(
    Type.Enum(["stopped", "max_duration", "max_size", "desktop_stopped", "server_stopped", "recorder_exited", "server_exited"], {
      description: "Glasspane: why the recording ended",
    }),
  ),
  error: Opt(Type.Object({ code: Type.String(), message: Type.String() }, { description: "Glasspane: what went wrong (status failed)" })),
});

export const DesktopRecordingListResponse = Type.Object({ recordings: Type.Array(DesktopRecordingInfo) });
export const RecordingIdParams = Type.Object({ id: Type.String() });

/** The 200/206 answer of the download route: MP4 bytes, whole or the requested range. */
export const RecordingDownloadResponse = {
  description: "the recording as video/mp4 (206 with Content-Range for a Range request)",
  content: { "video/mp4": { schema: { type: "string", format: "binary" } } },
};
