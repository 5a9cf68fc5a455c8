import { createWriteStream, renameSync, statSync, type WriteStream } from "node:fs";

/** Cap of runtime.log and of the server's own output file (the daemon log), each with its `.1`. */
export const RUNTIME_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * A text log for people (`<id>.log`, `runtime.log`), bounded: once the file passes half
 * its cap it is renamed to `<file>.1` (replacing the one before) and a new one begun, so
 * the two together stay within the cap. The file is open only while being written to:
 * a process that has ended holds no descriptor.
 */
export class BoundedLogFile {
  private stream: WriteStream | undefined;
  private bytes: number;

  constructor(
    readonly path: string,
    private readonly capBytes: () => number,
  ) {
    try {
      this.bytes = statSync(path).size;
    } catch {
      this.bytes = 0;
    }
  }

  write(text: string): void {
    const half = Math.max(1024, Math.floor(this.capBytes() / 2));
    if (this.bytes + text.length > half && this.bytes > 0) this.rotate();
    if (!this.stream) {
      this.stream = createWriteStream(this.path, { flags: "a" });
      this.stream.on("error", () => {}); // a full disk must not take the runtime down
    }
    this.stream.write(text);
    this.bytes += Buffer.byteLength(text);
  }

  private rotate() {
    // the old stream keeps its descriptor, so what it still buffers lands in the rotated file
    this.close();
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // nothing to rotate
    }
    this.bytes = 0;
  }

  /** Releases the descriptor; a later write opens the file again. */
  close(): void {
    this.stream?.end();
    this.stream = undefined;
  }
}
