import { renameSync, rmSync, statfsSync } from "node:fs";
import { LIMITS } from "../../shared/limits.js";
import { checkRange } from "../../shared/check-limits.js";
import path from "node:path";
import which from "which";
import { GlasspaneError, conflict, invalid, notFound } from "../../shared/errors.js";
import { pollUntil } from "../../shared/deadline.js";
import type { ManagedProcess, ProcessManager } from "../../processes/manager.js";
import { faststartArgs, grabArgs } from "./ffmpeg.js";
import { RecordingStore, type RecordingMeta, type StoredRecording } from "./store.js";
import type { RecordingEndReason, RecordingFile, RecordingInfo, RecordingSource, RecordingStartRequest, Recordings } from "./types.js";

/** What the recorder needs from the desktop it records. */
export interface RecordingHost {
  /** the active desktop's display and size; undefined when it is not active */
  recordingSource(): RecordingSource | undefined;
  /** a line in runtime.log: what went wrong where no caller hears of it */
  runtimeLog?(line: string): void;
  /** the state directory a desktop started without `stateDir` uses */
  defaultDesktopStateDir(): string;
  /** runs `hook` before the desktop's X server is stopped */
  beforeStop(hook: () => Promise<void>): void;
}

export interface RecorderOptions {
  /** all recordings together may use this much disk; a recording stops itself at the limit (default 2 GiB) */
  budgetBytes?: number;
  /** bytes the other desktops' recordings hold of the same budget (several desktops share one) */
  usedElsewhere?: () => number;
}

export const DEFAULT_BUDGET_BYTES = 2 * 1024 ** 3;
/** A recording needs at least this much of the budget (and of the free disk) to start. */
const MIN_ROOM_BYTES = 1024 ** 2;
/** The smallest maxSizeBytes accepted: a few fragments. */
export const MIN_MAX_SIZE_BYTES = 64 * 1024;
/** Free disk the recorder leaves to everything else. */
const DISK_RESERVE_BYTES = 256 * 1024 ** 2;
/** How long ffmpeg may take to write its last fragment after SIGINT before it is killed. */
const STOP_GRACE_MS = 10_000;
/** How long ffmpeg may take to open the display and write the file header. */
const START_TIMEOUT_MS = 10_000;
const SIZE_CHECK_MS = 500;

interface Active {
  entry: StoredRecording;
  proc: ManagedProcess;
  capBytes: number;
  /** set when we asked ffmpeg to stop, with the reason to record */
  requested?: RecordingEndReason;
  /** ffmpeg is signalled once: a second SIGINT makes it quit without finishing the file */
  stopping?: Promise<void>;
  finished: Promise<RecordingInfo>;
  sizeTimer?: NodeJS.Timeout;
}

/**
 * Records the desktop with ffmpeg (x11grab, H.264, fragmented MP4 while recording), one
 * recording at a time. Stopping is graceful and leaves a plain seekable MP4; a recording
 * whose ffmpeg dies keeps the fragments written so far and is reported as failed.
 */
export class RecordingService implements Recordings {
  private readonly store = new RecordingStore();
  private readonly budgetBytes: number;
  private readonly usedElsewhere: () => number;
  private active: Active | undefined;
  private starting = false;

  constructor(
    private readonly processes: ProcessManager,
    private readonly host: RecordingHost,
    options: RecorderOptions = {},
  ) {
    this.budgetBytes = options.budgetBytes ?? DEFAULT_BUDGET_BYTES;
    this.usedElsewhere = options.usedElsewhere ?? (() => 0);
    this.store.load(recordingsDir(host.defaultDesktopStateDir()));
    host.beforeStop(async () => {
      const active = this.active;
      if (!active) return;
      // the desktop waits (bounded) until the file is finished, so its recording reads "completed" after stop
      await this.requestStop(active, "desktop_stopped");
    });
  }

  async start(request: RecordingStartRequest): Promise<RecordingInfo> {
    if (this.active || this.starting) {
      throw conflict(`recording ${this.active?.entry.meta.id ?? "(starting)"} is in progress; stop it first with POST /v1/desktop/recording/stop`);
    }
    const source = this.host.recordingSource();
    if (!source) {
      throw new GlasspaneError("desktop_not_active", 409, "the desktop is not active; start it first with POST /v1/desktop/start");
    }
    const fps = request.fps ?? source.defaultFps;
    if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw invalid(`fps must be an integer from 1 to 60 (got ${fps})`);
    const maxDurationSeconds = request.maxDurationSeconds ?? null;
    if (maxDurationSeconds !== null) checkRange("maxDurationSeconds", maxDurationSeconds, LIMITS.recordingSeconds, "seconds");
    const maxSizeBytes = request.maxSizeBytes ?? null;
    if (maxSizeBytes !== null && !(maxSizeBytes >= MIN_MAX_SIZE_BYTES)) throw invalid(`maxSizeBytes must be at least ${MIN_MAX_SIZE_BYTES}`);

    if (!which.sync("ffmpeg", { nothrow: true })) {
      throw new GlasspaneError("recording_failed", 503, "recording needs ffmpeg, which is not installed; install it with `glasspane install desktop --yes` or your package manager");
    }
    this.starting = true;
    try {
      const dir = recordingsDir(source.stateDir);
      this.store.load(dir);
      const capBytes = Math.min(maxSizeBytes ?? Infinity, this.roomLeft(dir));
      const id = this.store.nextId();
      const entry = this.store.add(
        {
          id,
          status: "recording",
          fileName: `${id}.mp4`,
          startedAt: new Date().toISOString(),
          endedAt: null,
          fps,
          width: source.width,
          height: source.height,
          display: source.display,
          maxDurationSeconds,
          maxSizeBytes,
          endReason: null,
          error: null,
        },
        dir,
      );
      const file = this.store.filePath(entry);
      let proc: ManagedProcess;
      try {
        proc = await this.processes.spawn({
          name: "ffmpeg",
          command: "ffmpeg",
          args: grabArgs({ display: source.display, width: source.width, height: source.height, fps, maxDurationSeconds, output: file }),
          owner: "desktop",
        });
      } catch (err) {
        this.store.delete(id);
        throw new GlasspaneError("recording_failed", 502, `ffmpeg could not be started: ${(err as Error).message}`);
      }
      entry.meta.processId = proc.id;
      const active: Active = { entry, proc, capBytes, finished: undefined as unknown as Promise<RecordingInfo> };
      active.finished = new Promise((resolve) => {
        if (proc.status === "exited") resolve(this.finish(active));
        else proc.once("exit", () => resolve(this.finish(active)));
      });
      this.active = active;
      await this.waitUntilWriting(active);
      // the video begins when ffmpeg has opened the display, not when it was asked to
      entry.meta.startedAt = new Date().toISOString();
      this.store.save(entry);
      active.sizeTimer = setInterval(() => {
        if (this.store.bytes(entry) >= active.capBytes) void this.requestStop(active, "max_size");
      }, SIZE_CHECK_MS);
      return this.store.info(entry);
    } finally {
      this.starting = false;
    }
  }

  /** How many bytes a new recording in `dir` may grow to: what is left of the budget and of the disk. */
  private roomLeft(dir: string): number {
    const used = this.store.totalBytes() + this.usedElsewhere();
    const budgetLeft = this.budgetBytes - used;
    if (budgetLeft < MIN_ROOM_BYTES) {
      throw conflict(
        `the recordings use ${mib(used)} of their ${mib(this.budgetBytes)} budget; delete some with DELETE /v1/desktop/recordings/{id}`,
      );
    }
    const fs = statfsSync(dir);
    const diskLeft = fs.bavail * fs.bsize - DISK_RESERVE_BYTES;
    if (diskLeft < MIN_ROOM_BYTES) throw conflict(`the disk holding ${dir} is almost full (${mib(fs.bavail * fs.bsize)} free)`);
    return Math.min(budgetLeft, diskLeft);
  }

  /** Bytes this desktop's recordings take on disk. */
  usedBytes(): number {
    return this.store.totalBytes();
  }

  /** Returns once ffmpeg has opened the display and written the file header; fails (502) if it exits first. */
  private async waitUntilWriting(active: Active): Promise<void> {
    const ok = await pollUntil(async () => {
      // bytes first: a very short recording (maxDurationSeconds 0.1) may be done by the first look
      if (this.store.bytes(active.entry) > 0) return true;
      return active.proc.status === "exited" ? false : undefined;
    }, START_TIMEOUT_MS, 20);
    if (ok === true) return;
    if (ok === undefined) await this.signalStop(active, "recorder_exited");
    const info = await active.finished;
    this.store.delete(info.id); // nothing was recorded: the start failed, there is no recording
    throw new GlasspaneError("recording_failed", 502, `the recording could not start: ${info.error?.message ?? "ffmpeg wrote nothing"}`);
  }

  async stop(): Promise<RecordingInfo> {
    const active = this.active;
    if (!active) throw conflict("no recording is in progress; start one with POST /v1/desktop/recording/start");
    return this.requestStop(active, "stopped");
  }

  /** Asks ffmpeg to finish (SIGINT: it writes its last fragment), SIGKILL after a grace period. */
  private async requestStop(active: Active, reason: RecordingEndReason): Promise<RecordingInfo> {
    await this.signalStop(active, reason);
    return active.finished;
  }

  private signalStop(active: Active, reason: RecordingEndReason): Promise<void> {
    active.requested ??= reason;
    return (active.stopping ??= active.proc.stop(STOP_GRACE_MS, "SIGINT"));
  }

  /**
   * After ffmpeg exited: turn the fragments into a plain MP4, then record how it ended. The
   * status changes only when all is done, so "recording" means a stop would still be accepted.
   */
  private async finish(active: Active): Promise<RecordingInfo> {
    clearInterval(active.sizeTimer);
    const { entry, proc } = active;
    const endedAt = new Date(proc.exitedAtMs ?? Date.now()).toISOString();
    let outcome: Pick<RecordingMeta, "status" | "endReason" | "error">;
    if (active.requested && active.requested !== "recorder_exited") {
      outcome = { status: "completed", endReason: active.requested, error: null };
    } else if (proc.exitCode === 0 && reachedMaxDuration(entry.meta.maxDurationSeconds, entry.meta.startedAt, endedAt)) {
      outcome = { status: "completed", endReason: "max_duration", error: null }; // -t ends ffmpeg cleanly by itself
    } else if (proc.exitCode === 0) {
      // x11grab ends "cleanly" when the X server goes away (Xvfb died or was restarted)
      const message = `ffmpeg stopped on its own after ${seconds(entry.meta.startedAt, endedAt)} s: the display ${entry.meta.display} went away during the recording (its X server exited); the file holds what was recorded until then${lastLine(proc)}`;
      outcome = { status: "failed", endReason: "recorder_exited", error: { code: "display_lost", message } };
    } else {
      const how = proc.signal ? `was killed by ${proc.signal}` : `exited with code ${proc.exitCode}`;
      const message = `ffmpeg ${how} during the recording${lastLine(proc)}`;
      outcome = { status: "failed", endReason: "recorder_exited", error: { code: "recorder_exited", message } };
    }
    if (this.store.bytes(entry) > 0) await this.faststart(entry);
    else outcome = { ...outcome, status: "failed", error: outcome.error ?? { code: "recording_empty", message: "ffmpeg wrote no video" } };
    Object.assign(entry.meta, outcome, { endedAt });
    this.store.save(entry);
    if (this.active === active) this.active = undefined;
    return this.store.info(entry);
  }

  /** Remuxes to a faststart MP4 in place; on failure or timeout the fragmented file stays (it plays too). */
  private async faststart(entry: StoredRecording): Promise<void> {
    const file = this.store.filePath(entry);
    const temp = path.join(entry.dir, `${entry.meta.id}.faststart.mp4`);
    // copying runs at disk speed; allow 30 MB/s and never more than 90 s
    const deadline = Math.min(90_000, 15_000 + this.store.bytes(entry) / 30_000);
    let proc: ManagedProcess | undefined;
    try {
      proc = await this.processes.spawn({ name: "ffmpeg", command: "ffmpeg", args: faststartArgs(file, temp), owner: "desktop" });
      if (!(await proc.waitForExit(deadline))) await proc.stop(1000, "SIGKILL");
      if (proc.exitCode === 0) renameSync(temp, file);
      else this.host.runtimeLog?.(`recording ${entry.meta.id}: the faststart remux ended with ${proc.exitCode ?? "a timeout"}; the fragmented MP4 stays`);
    } catch (err) {
      // keep the fragmented file (it plays too), and say why
      this.host.runtimeLog?.(`recording ${entry.meta.id}: the faststart remux failed, the fragmented MP4 stays: ${(err as Error)?.message ?? err}`);
    } finally {
      rmSync(temp, { force: true });
      if (proc && proc.status === "exited") this.processes.remove(proc.id);
    }
  }

  async list(): Promise<RecordingInfo[]> {
    return this.store.list().map((e) => this.store.info(e));
  }

  async get(id: string): Promise<RecordingInfo> {
    return this.store.info(this.entry(id));
  }

  async remove(id: string): Promise<void> {
    const entry = this.entry(id);
    if (this.active?.entry === entry) throw conflict(`recording ${id} is in progress; stop it first`);
    this.store.delete(id);
  }

  async file(id: string): Promise<RecordingFile> {
    const entry = this.entry(id);
    const bytes = this.store.bytes(entry);
    if (bytes === 0 && entry.meta.status !== "recording") throw notFound(`recording ${id} has no video file`);
    return { path: this.store.filePath(entry), bytes };
  }

  /** Stops a recording in progress and finishes its file (bounded by the stop and remux deadlines). */
  async close(): Promise<void> {
    const active = this.active;
    if (active) await this.requestStop(active, "server_stopped").catch(() => undefined);
  }

  private entry(id: string): StoredRecording {
    const entry = this.store.get(id);
    if (!entry) throw notFound(`no recording with id "${id}"`);
    return entry;
  }
}

function recordingsDir(stateDir: string): string {
  return path.join(stateDir, "recordings");
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** The last line ffmpeg wrote to stderr, to say why it stopped. */
function lastLine(proc: ManagedProcess): string {
  const text = proc.logs
    .filter((l) => l.stream === "stderr")
    .slice(-5)
    .map((l) => l.data.toString("utf8"))
    .join("");
  const line = text.trim().split("\n").pop()?.trim();
  return line ? ` (${line})` : "";
}

const seconds = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10;

/** Whether a recording ran for (nearly) its maximum duration; ffmpeg's start takes a moment of it. */
function reachedMaxDuration(maxSeconds: number | null | undefined, startedAt: string, endedAt: string): boolean {
  return !!maxSeconds && seconds(startedAt, endedAt) >= maxSeconds - 0.5;
}
