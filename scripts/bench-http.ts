// A minimal HTTP/1.1 keep-alive client for the benchmarks: one TCP connection with Nagle
// off, the request written in one send, the response read by Content-Length or chunked
// framing. node:http's client costs ~0.1 ms a call of its own on this machine, which is
// too much of the instrument in a 1 ms measurement.
import net from "node:net";

export interface HttpResponse {
  status: number;
  body: Buffer;
}

export class BenchHttpClient {
  private socket: net.Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failed: Error | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** One request; rejects after `deadlineMs` (and drops the connection, which may be mid-response). */
  async request(method: string, path: string, body: string | undefined, deadlineMs: number): Promise<HttpResponse> {
    const socket = await this.connect();
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nConnection: keep-alive\r\n` +
      (body === undefined ? (method === "POST" ? "Content-Length: 0\r\n" : "") : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) +
      "\r\n";
    socket.write(body === undefined ? head : head + body);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.drop(new Error(`${method} ${path}: no answer within ${deadlineMs} ms (hang)`));
        reject(new Error(`${method} ${path}: no answer within ${deadlineMs} ms (hang)`));
      }, deadlineMs);
    });
    try {
      return await Promise.race([this.readResponse(method), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.drop(new Error("client closed"));
  }

  private connect(): Promise<net.Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port, noDelay: true });
      s.once("connect", () => {
        this.socket = s;
        this.buffered = Buffer.alloc(0);
        this.failed = undefined;
        resolve(s);
      });
      s.once("error", reject);
      // a dropped socket's late events must not touch its successor
      s.on("data", (d: Buffer) => {
        if (this.socket !== s) return;
        this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
        this.wake();
      });
      s.on("error", (err) => this.socket === s && this.drop(err));
      s.on("close", () => this.socket === s && this.drop(new Error("connection closed by the server")));
    });
  }

  private drop(err: Error): void {
    if (this.socket) {
      this.socket.destroy();
      this.socket = undefined;
    }
    this.failed = err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Waits until `n` bytes are buffered (or the connection fails). */
  private async need(n: number): Promise<void> {
    while (this.buffered.length < n) {
      if (this.failed || !this.socket) throw this.failed ?? new Error("not connected");
      await new Promise<void>((r) => (this.waiting = r));
    }
  }

  private take(n: number): Buffer {
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  private async line(): Promise<string> {
    for (;;) {
      const i = this.buffered.indexOf("\r\n");
      if (i >= 0) return this.take(i + 2).toString("latin1", 0, i);
      await this.need(this.buffered.length + 1);
    }
  }

  private async readResponse(method: string): Promise<HttpResponse> {
    const statusLine = await this.line();
    const status = Number(statusLine.split(" ")[1]);
    let length = -1;
    let chunked = false;
    let close = false;
    for (;;) {
      const h = await this.line();
      if (h === "") break;
      const colon = h.indexOf(":");
      const name = h.slice(0, colon).trim().toLowerCase();
      const value = h.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding" && /chunked/i.test(value)) chunked = true;
      else if (name === "connection" && /close/i.test(value)) close = true;
    }
    let body: Buffer;
    if (method === "HEAD" || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const size = Number.parseInt((await this.line()).split(";")[0]!, 16);
        if (size === 0) {
          while ((await this.line()) !== "") {
            /* trailers */
          }
          break;
        }
        await this.need(size + 2);
        parts.push(Buffer.from(this.take(size)));
        this.take(2);
      }
      body = Buffer.concat(parts);
    } else if (length >= 0) {
      await this.need(length);
      body = Buffer.from(this.take(length));
    } else {
      throw new Error("response without Content-Length or chunked framing");
    }
    if (close) this.drop(new Error("server closed the connection"));
    return { status, body };
  }
}
