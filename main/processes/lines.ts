/**
 * Splits a byte stream into newline-terminated lines (framed stdio: an ACP agent writes
 * one JSON-RPC message per line). A line longer than `maxLineBytes` is cut there and
 * delivered as it is, so a runaway writer cannot grow the buffer without bound.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly deliver: (line: Buffer) => void,
    private readonly maxLineBytes = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, nl));
      this.emitPending();
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes >= this.maxLineBytes) this.emitPending();
    }
  }

  /** Delivers what is left after the stream ended without a final newline. */
  flush(): void {
    if (this.pendingBytes > 0) this.emitPending();
  }

  private emitPending() {
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length; // CRLF
    if (end > 0) this.deliver(line.subarray(0, end));
  }
}
