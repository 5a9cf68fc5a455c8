import { depacketize } from "./depacketize.js";
import type { EncodedFrame } from "./encoder.js";
import type { Control } from "../desktop/types.js";
import { decodeInput, type InputRelay } from "./input.js";
import type { FrameChannel, FrameChannelHandlers, VideoCodec } from "./types.js";

/** WebCodecs codec strings for what the encoder sends (H.264 constrained baseline, as on WebRTC). */
export const WEBCODECS_CODEC: Record<VideoCodec, string> = { h264: "avc1.42e01f", vp8: "vp8", vp9: "vp09.00.10.08" };
/** Bytes the socket may hold unsent before frames are dropped until the next keyframe. */
const MAX_BUFFERED_BYTES = 2 << 20;
const MAX_MESSAGE_CHARS = 4096;

export interface WebSocketViewerHost {
  config(): { codec: VideoCodec; frameRate: number; screen: { width: number; height: number } };
  keyframe(): void;
  input: InputRelay;
  control: Control;
}

/**
 * A viewer on the WebSocket transport (for networks where WebRTC cannot connect): the
 * same encoded frames as the WebRTC viewers, one binary message each
 * (u8 flags [1 = keyframe], u32 RTP timestamp, f64 send time in epoch ms, then the
 * frame's bitstream), decoded in the page with WebCodecs; input comes back on the same
 * socket as binary messages in the data channel's format.
 */
export class WebSocketViewer implements FrameChannelHandlers {
  private waitingForKey = true;
  private ended = false;
  /** the control lease this socket's input runs as (`control/attach`) */
  private leaseId: string | undefined;
  framesSent = 0;
  framesDropped = 0;

  constructor(
    private readonly channel: FrameChannel,
    private readonly host: WebSocketViewerHost,
  ) {
    const { screen, frameRate, codec } = host.config();
    channel.send(JSON.stringify({ event: "system/init", payload: { screen_size: { ...screen, rate: frameRate }, codec: WEBCODECS_CODEC[codec], videoCodec: codec } }));
    host.keyframe();
  }

  sendFrame(frame: EncodedFrame): void {
    if (this.ended) return;
    if (this.waitingForKey && !frame.key) return;
    if (this.channel.bufferedAmount() > MAX_BUFFERED_BYTES) {
      // a slow link: skip to the next keyframe rather than queue seconds of video
      this.framesDropped++;
      if (!this.waitingForKey) this.host.keyframe();
      this.waitingForKey = true;
      return;
    }
    const data = depacketize(this.host.config().codec, frame.packets);
    if (!data) {
      this.waitingForKey = true;
      this.host.keyframe();
      return;
    }
    this.waitingForKey = false;
    const header = Buffer.allocUnsafe(13);
    header[0] = frame.key ? 1 : 0;
    header.writeUInt32BE(frame.timestamp >>> 0, 1);
    header.writeDoubleBE(Date.now(), 5);
    this.channel.sendBinary(Buffer.concat([header, data]));
    this.framesSent++;
  }

  /** Binary messages are input; the only text message is a keyframe request (after a decoder error). */
  message(data: string | Buffer): void {
    if (this.ended) return;
    if (typeof data !== "string") {
      const events = decodeInput(data);
      const lease = this.leaseId ? this.host.control.lease(this.leaseId) : undefined;
      if (!lease) return this.host.input.push(events);
      lease.touch();
      lease.run(() => this.host.input.push(events));
      return;
    }
    if (data.length > MAX_MESSAGE_CHARS) return;
    try {
      const msg = JSON.parse(data) as { event?: string; payload?: { lease?: unknown } };
      if (msg?.event === "keyframe/request") {
        this.waitingForKey = true;
        this.host.keyframe();
      } else if (msg?.event === "control/attach") {
        // the holder of the control lease (GET /v1/desktop/control/ws said its id) sends its input here
        const id = typeof msg.payload?.lease === "string" ? msg.payload.lease : "";
        const ok = this.host.control.lease(id) !== undefined;
        this.leaseId = ok ? id : undefined;
        this.channel.send(JSON.stringify({ event: ok ? "control/attached" : "control/refused", payload: ok ? {} : { message: "no such control lease is held" } }));
      }
    } catch {
      /* not JSON: ignored, the video goes on */
    }
  }

  closed(): void {
    this.ended = true;
  }

  disconnect(message: string): void {
    if (this.ended) return;
    try {
      this.channel.send(JSON.stringify({ event: "system/disconnect", payload: { message } }));
    } catch {
      /* gone */
    }
    this.ended = true;
    this.channel.close(1000, message.slice(0, 120));
  }
}
