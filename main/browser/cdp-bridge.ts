import WebSocket from "ws";
import type { CdpChannel, CdpHandlers } from "./types.js";

/** A browser answer (a full-page screenshot, a big DOM) may be far larger than what clients send. */
const MAX_BROWSER_FRAME_BYTES = 512 * 1024 * 1024;
/** Frames waiting for the browser's socket to open; a client that floods before that is cut off. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Stop reading the browser while this much is still queued towards a slow client. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One client's connection to the browser's DevTools socket. Frames pass through untouched
 * in both directions; the browser sees a loopback Host and no Origin. Either side closing
 * closes the other; the browser itself keeps running.
 */
export class CdpBridge {
  private readonly upstream: WebSocket;
  private pending: Array<{ data: Buffer; binary: boolean }> = [];
  private pendingBytes = 0;
  private done = false;

  constructor(
    url: string,
    private readonly client: CdpChannel,
    private readonly onEnd: (bridge: CdpBridge) => void,
  ) {
    // the browser is trusted to send valid UTF-8 (each client checks its own end)
    this.upstream = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: MAX_BROWSER_FRAME_BYTES, handshakeTimeout: CONNECT_TIMEOUT_MS });
    this.upstream.on("open", () => {
      for (const f of this.pending) this.upstream.send(f.data, { binary: f.binary });
      this.pending = [];
      this.pendingBytes = 0;
    });
    this.upstream.on("message", (data: Buffer, binary: boolean) => {
      if (this.done) return;
      this.client.send(data, binary, () => {
        if (this.client.bufferedAmount < HIGH_WATER_BYTES) this.upstream.resume();
      });
      if (this.client.bufferedAmount >= HIGH_WATER_BYTES) this.upstream.pause();
    });
    this.upstream.on("close", (code, reason) => this.end(code === 1005 || code === 1006 ? 1011 : code, reason.toString() || "the browser closed the connection"));
    this.upstream.on("error", (err) => this.end(1011, `browser connection failed: ${err.message}`.slice(0, 120)));
  }

  handlers(): CdpHandlers {
    return {
      message: (data, binary) => this.fromClient(data, binary),
      closed: () => this.end(1000, "client gone"),
    };
  }

  private fromClient(data: Buffer, binary: boolean) {
    if (this.done) return;
    if (this.upstream.readyState === WebSocket.OPEN) {
      this.upstream.send(data, { binary });
      return;
    }
    this.pendingBytes += data.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) return this.end(1009, "too much sent before the browser answered");
    this.pending.push({ data, binary });
  }

  /** Closes both sides (once) with `code` towards the client. */
  end(code: number, reason: string) {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    const state = this.upstream.readyState;
    if (state === WebSocket.OPEN) this.upstream.close(1000);
    else if (state === WebSocket.CONNECTING) this.upstream.terminate();
    // a close code the client may receive (1005/1006 are reserved for "none given")
    this.client.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1011, reason.slice(0, 120));
    this.onEnd(this);
  }
}
