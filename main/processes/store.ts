import { existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { closeQuietly } from "../shared/bounded-log.js";
import type { LogEntry, ManagedProcessInfo } from "./spec.js";
import type { OutputStream } from "./types.js";

/** What survives a server restart about one process (its environment is left out: it may hold secrets). */
export interface ProcessRecord extends Omit<ManagedProcessInfo, "logPath"> {
  /** signals go to the whole process group */
  processGroup: boolean;
  /** start time of `pid` in clock ticks since boot (/proc/<pid>/stat), so a reused pid is not mistaken for ours */
  pidStartTicks: number | null;
}

/** One output chunk as the manager keeps it in memory. */
export type StoredEntry = LogEntry;

/**
 * The processes folder of the state directory: per process `<id>.json` (state),
 * `<id>.output.jsonl` (exact output chunks, base64, for the logs API after a restart)
 * and `<id>.log` (timestamped text lines for people, written by the process itself).
 */
export class ProcessStore {
  constructor(readonly dir: string) {}

  statePath = (id: string) => path.join(this.dir, `${id}.json`);
  outputPath = (id: string) => path.join(this.dir, `${id}.output.jsonl`);
  logPath = (id: string) => path.join(this.dir, `${id}.log`);

  /** Atomic: a crash mid-write leaves the previous state, never half a file. */
  save(record: ProcessRecord): void {
    const file = this.statePath(record.id);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(record));
      renameSync(`${file}.tmp`, file);
    } catch {
      // a full or read-only disk must not take the runtime down; the process still runs
    }
  }

  load(): ProcessRecord[] {
    const records: ProcessRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^proc_\d+\.json$/.test(name)) continue;
      try {
        const r = JSON.parse(readFileSync(path.join(this.dir, name), "utf8")) as ProcessRecord;
        if (typeof r.id === "string" && typeof r.command === "string") records.push(r);
      } catch {
        // unreadable state is skipped, not fatal
      }
    }
    return records;
  }

  /**
   * The highest id ever handed out here: from the counter, and from every file, so an id
   * is never reused (not after a delete, nor after a state file that could not be read).
   */
  highestId(): number {
    let highest = 0;
    try {
      highest = Number.parseInt(readFileSync(path.join(this.dir, "last-id"), "utf8"), 10) || 0;
    } catch {
      // no counter yet
    }
    for (const name of readdirSync(this.dir)) {
      const m = /^proc_(\d+)\./.exec(name);
      if (m) highest = Math.max(highest, Number(m[1]));
    }
    return highest;
  }

  saveHighestId(n: number): void {
    try {
      writeFileSync(path.join(this.dir, "last-id"), String(n));
    } catch {
      // the files of the process carry its id too
    }
  }

  readOutput(id: string): StoredEntry[] {
    const file = this.outputPath(id);
    if (!existsSync(file)) return [];
    const entries: StoredEntry[] = [];
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { sequence: number; stream: OutputStream; timestampMs: number; data: string };
        entries.push({ ...e, data: Buffer.from(e.data, "base64") });
      } catch {
        // the last line of a crashed server may be cut short
      }
    }
    return entries;
  }

  openOutput(id: string): OutputFile {
    return new OutputFile(this.outputPath(id));
  }

  remove(id: string): void {
    for (const file of [this.statePath(id), this.outputPath(id), this.logPath(id), `${this.logPath(id)}.1`]) rmSync(file, { force: true });
  }
}

const line = (e: StoredEntry) =>
  `${JSON.stringify({ sequence: e.sequence, stream: e.stream, timestampMs: e.timestampMs, data: e.data.toString("base64") })}\n`;

/**
 * Append-only output file, written synchronously (one write per chunk, in order, and a
 * compaction cannot race a pending write); rewritten from the in-memory buffer when it
 * grows past about three times that buffer's cap.
 */
export class OutputFile {
  private fd: number | undefined;
  private bytes = 0;

  /** Opened on the first chunk and closed when the process ends, so a finished process holds no descriptor. */
  constructor(private readonly file: string) {}

  private open(): number | undefined {
    try {
      return openSync(this.file, "a");
    } catch {
      return undefined; // an unwritable state directory costs the logs after a restart, nothing else
    }
  }

  append(entry: StoredEntry, capBytes: number, retained: () => StoredEntry[]): void {
    this.fd ??= this.open();
    if (this.fd === undefined) return;
    const text = line(entry);
    try {
      writeSync(this.fd, text);
    } catch {
      return; // a full disk must not take the runtime down
    }
    this.bytes += text.length;
    // base64 grows 4/3, plus the JSON around it
    if (this.bytes > 3 * capBytes + 65_536) this.compact(retained());
  }

  private compact(entries: StoredEntry[]) {
    const text = entries.map(line).join("");
    try {
      writeFileSync(`${this.file}.tmp`, text);
      renameSync(`${this.file}.tmp`, this.file);
    } catch {
      return; // keep appending to whatever is there
    }
    this.close();
    this.fd = this.open();
    this.bytes = text.length;
  }

  close(): void {
    this.fd = closeQuietly(this.fd);
  }
}
