import { closeSync, openSync, renameSync, statSync, writeSync } from "node:fs";

/** Cap of runtime.log and of the server's own output file (the daemon log), each with its `.1`. */
export const RUNTIME_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * A text log for people (`<id>.log`, `runtime.log`), bounded: once the file passes half
 * its cap it is renamed to `<file>.1` (replacing the one before) and a new one begun, so
 * the two together stay within the cap. Written synchronously, in order, so a rotation
 * never races a pending write. The file is open only while being written to: a process
 * that has ended holds no descriptor.
 */
export class BoundedLogFile {
  private fd: number | undefined;
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
    const data = Buffer.from(text);
    const half = Math.max(1024, Math.floor(this.capBytes() / 2));
    if (this.bytes + data.length > half && this.bytes > 0) this.rotate();
    try {
      this.fd ??= openSync(this.path, "a");
      // one chunk larger than the whole file keeps its newest bytes
      writeSync(this.fd, data.length > half ? data.subarray(data.length - half) : data);
      this.bytes += Math.min(data.length, half);
    } catch {
      // a full disk or an unwritable state directory must not take the runtime down
    }
  }

  private rotate() {
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
    this.fd = closeQuietly(this.fd);
  }
}

/** Closes a descriptor if there is one, ignoring one already closed; returns undefined for the field that held it. */
export function closeQuietly(fd: number | undefined): undefined {
  if (fd === undefined) return undefined;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
  return undefined;
}
