/** Shapes of the recording contract (field for field as the sandbox-agent SDK, plus marked Glasspane fields). */

export type RecordingStatus = "recording" | "completed" | "failed";

/**
 * Why a recording ended (Glasspane): asked to stop, a cap was reached, the desktop or the
 * server stopped, or ffmpeg / the server exited without being asked.
 */
export type RecordingEndReason =
  | "stopped"
  | "max_duration"
  | "max_size"
  | "desktop_stopped"
  | "server_stopped"
  | "recorder_exited"
  | "server_exited";

export interface RecordingInfo {
  /** "rec_1", "rec_2", ... */
  id: string;
  status: RecordingStatus;
  /** the ffmpeg process in GET /v1/processes (only for recordings of this server run) */
  processId: string | null;
  /** "rec_1.mp4" */
  fileName: string;
  bytes: number;
  /** RFC 3339 */
  startedAt: string;
  endedAt: string | null;
  /** Glasspane: frames per second of the video */
  fps: number;
  /** Glasspane */
  endReason: RecordingEndReason | null;
  /** Glasspane: what went wrong, for status "failed" */
  error: { code: string; message: string } | null;
}

export interface RecordingStartRequest {
  /** 1-60; default the desktop's recordingFps (30) */
  fps?: number | null;
  /** Glasspane: stop by itself after this many seconds */
  maxDurationSeconds?: number | null;
  /** Glasspane: stop by itself once the file reaches this size */
  maxSizeBytes?: number | null;
}

/** Where a recording's bytes are, for serving a download (with ranges). */
export interface RecordingFile {
  path: string;
  bytes: number;
}

/** Everything the HTTP layer may ask of the recorder. */
export interface Recordings {
  start(request: RecordingStartRequest): Promise<RecordingInfo>;
  stop(): Promise<RecordingInfo>;
  list(): Promise<RecordingInfo[]>;
  get(id: string): Promise<RecordingInfo>;
  remove(id: string): Promise<void>;
  file(id: string): Promise<RecordingFile>;
}

/** What the recorder needs from an active desktop. */
export interface RecordingSource {
  /** ":99" */
  display: string;
  width: number;
  height: number;
  /** the desktop's state directory; recordings go to <stateDir>/recordings */
  stateDir: string;
  /** DesktopStartOptions.recordingFps: the default when a start request names none */
  defaultFps: number;
}
