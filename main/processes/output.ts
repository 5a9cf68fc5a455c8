import type { LogEntry } from "./spec.js";

/**
 * The newest output of one process, in memory, within a byte cap. Output restored from
 * disk after a restart is read on first use only, so a server with many old processes
 * starts without reading (or holding) all their logs.
 */
export class OutputBuffer {
  private entries: LogEntry[] = [];
  private bytes = 0;
  private pending: (() => LogEntry[]) | undefined;
  sequence = 0;

  constructor(private readonly cap: () => number) {}

  /** Output of an earlier run, read when first asked for. */
  restoreLazily(load: () => LogEntry[], lastSequence: number): void {
    this.pending = load;
    this.sequence = lastSequence;
  }

  get all(): LogEntry[] {
    if (this.pending) {
      const load = this.pending;
      this.pending = undefined;
      const restored = load();
      const fresh = this.entries;
      this.entries = [];
      this.bytes = 0;
      for (const e of [...restored, ...fresh]) this.keep(e);
      this.sequence = Math.max(this.sequence, restored.at(-1)?.sequence ?? 0);
    }
    return this.entries;
  }

  next(stream: LogEntry["stream"], data: Buffer): LogEntry {
    const entry: LogEntry = { sequence: ++this.sequence, stream, timestampMs: Date.now(), data };
    this.keep(entry);
    return entry;
  }

  /** Keeps the newest output within the cap. */
  private keep(entry: LogEntry) {
    const logs = this.entries;
    logs.push(entry);
    this.bytes += entry.data.length;
    const cap = this.cap();
    let drop = 0;
    // whole entries go while what stays still fills the cap; the oldest one left is cut to fit
    while (drop < logs.length - 1 && this.bytes - logs[drop]!.data.length >= cap) this.bytes -= logs[drop++]!.data.length;
    if (drop > 0) logs.splice(0, drop);
    const oldest = logs[0];
    if (this.bytes > cap && oldest) {
      // one chunk larger than the cap keeps its newest bytes
      const cut = this.bytes - cap;
      logs[0] = { ...oldest, data: oldest.data.subarray(cut) };
      this.bytes -= cut;
    }
  }

  /** Frees the memory of a process that is being forgotten. */
  clear(): void {
    this.entries = [];
    this.bytes = 0;
    this.pending = undefined;
  }
}
