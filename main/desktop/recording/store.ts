import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RecordingEndReason, RecordingInfo, RecordingStatus } from "./types.js";

/** What is written to `<dir>/<id>.json` beside `<dir>/<id>.mp4`. */
export interface RecordingMeta {
  id: string;
  status: RecordingStatus;
  fileName: string;
  startedAt: string;
  endedAt: string | null;
  fps: number;
  width: number;
  height: number;
  display: string;
  maxDurationSeconds: number | null;
  maxSizeBytes: number | null;
  endReason: RecordingEndReason | null;
  error: { code: string; message: string } | null;
  /** process id of this server run; not persisted across runs (ids restart at proc_1) */
  processId?: string | null;
}

export interface StoredRecording {
  meta: RecordingMeta;
  dir: string;
}

const ID_PATTERN = /^rec_([0-9]+)$/;

/**
 * The catalog of recordings on disk: one JSON file per recording beside its MP4, in the
 * `recordings` folder of each desktop state directory seen. Loading a folder again after a
 * restart lists its recordings again; one that was still "recording" then is closed truthfully.
 */
export class RecordingStore {
  private readonly entries = new Map<string, StoredRecording>();
  private readonly dirs = new Set<string>();

  /** Adds the recordings in `dir` (once per folder). Ids already known from another folder are left out. */
  load(dir: string, isActive: (id: string) => boolean = () => false): void {
    const resolved = path.resolve(dir);
    if (this.dirs.has(resolved)) return;
    mkdirSync(resolved, { recursive: true });
    this.dirs.add(resolved);
    for (const name of readdirSync(resolved)) {
      const id = name.endsWith(".json") ? name.slice(0, -".json".length) : "";
      if (!ID_PATTERN.test(id) || this.entries.has(id)) continue;
      let meta: RecordingMeta;
      try {
        meta = JSON.parse(readFileSync(path.join(resolved, name), "utf8")) as RecordingMeta;
      } catch {
        continue; // a torn write of a metadata file; its id stays taken by the .mp4 check in nextId
      }
      if (meta.id !== id) continue;
      const entry: StoredRecording = { meta: { ...meta, processId: null }, dir: resolved };
      if (meta.status === "recording" && !isActive(id)) this.closeInterrupted(entry);
      this.entries.set(id, entry);
    }
  }

  /** A recording the previous server run left "recording": its ffmpeg died with that run. */
  private closeInterrupted(entry: StoredRecording) {
    const file = this.filePath(entry);
    const stat = existsSync(file) ? statSync(file) : undefined;
    entry.meta.status = "failed";
    entry.meta.endReason = "server_exited";
    entry.meta.endedAt = (stat?.mtime ?? new Date()).toISOString();
    entry.meta.error = {
      code: "server_exited",
      message: stat && stat.size > 0
        ? "the server exited during the recording; the file holds what was recorded until then"
        : "the server exited during the recording before any video was written",
    };
    this.save(entry);
  }

  /** The next free id: above every id known and every file in the folders seen. */
  nextId(): string {
    let max = 0;
    const consider = (name: string) => {
      const m = /^rec_([0-9]+)(?:\.|$)/.exec(name);
      if (m) max = Math.max(max, Number(m[1]));
    };
    for (const id of this.entries.keys()) consider(id);
    for (const dir of this.dirs) for (const name of readdirSync(dir)) consider(name);
    return `rec_${max + 1}`;
  }

  add(meta: RecordingMeta, dir: string): StoredRecording {
    const entry = { meta, dir: path.resolve(dir) };
    this.entries.set(meta.id, entry);
    this.save(entry);
    return entry;
  }

  get(id: string): StoredRecording | undefined {
    return this.entries.get(id);
  }

  list(): StoredRecording[] {
    return [...this.entries.values()].sort((a, b) => idNumber(a.meta.id) - idNumber(b.meta.id));
  }

  /** Writes the metadata atomically (a crash leaves the old or the new file, never half of one). */
  save(entry: StoredRecording): void {
    const target = path.join(entry.dir, `${entry.meta.id}.json`);
    const { processId: _notPersisted, ...meta } = entry.meta;
    writeFileSync(`${target}.tmp`, `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(`${target}.tmp`, target);
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    rmSync(this.filePath(entry), { force: true });
    rmSync(path.join(entry.dir, `${id}.json`), { force: true });
    this.entries.delete(id);
  }

  filePath(entry: StoredRecording): string {
    return path.join(entry.dir, entry.meta.fileName);
  }

  /** Size of the recording's file now (0 when it is missing). */
  bytes(entry: StoredRecording): number {
    try {
      return statSync(this.filePath(entry)).size;
    } catch {
      return 0;
    }
  }

  totalBytes(): number {
    return this.list().reduce((sum, e) => sum + this.bytes(e), 0);
  }

  info(entry: StoredRecording): RecordingInfo {
    const m = entry.meta;
    return {
      id: m.id,
      status: m.status,
      processId: m.processId ?? null,
      fileName: m.fileName,
      bytes: this.bytes(entry),
      startedAt: m.startedAt,
      endedAt: m.endedAt,
      fps: m.fps,
      endReason: m.endReason,
      error: m.error,
    };
  }
}

function idNumber(id: string): number {
  return Number(ID_PATTERN.exec(id)?.[1] ?? 0);
}
