/** Shapes of the live-stream contract (spec/API.md "Stream"), as the HTTP layer sees them. */

export type VideoCodec = "h264" | "vp8" | "vp9";

export interface IceServer {
  urls: string | string[];
  username?: string | null;
  credential?: string | null;
}

/** `POST /v1/desktop/stream/start` body; every field is optional (the SDK sends none). */
export interface StreamStartOptions {
  /** h264 (default), vp8 or vp9 */
  videoCodec?: VideoCodec | null;
  /** capture and encode rate, 1-60 (30) */
  frameRate?: number | null;
  /** UDP ports the peer connections may use, "min-max" (any free port when absent) */
  webrtcPortRange?: string | null;
  /** STUN/TURN servers handed to viewers and used by the server's own ICE agent */
  iceServers?: IceServer[] | null;
  /** addresses offered as host candidates; absent: every interface (loopback only when the server listens on loopback) */
  iceHostAddresses?: string[] | null;
  /** the highest bitrate in kbit/s, where the encoder starts (3000) */
  bitrateKbps?: number | null;
  /** the lowest bitrate adaptation may go to, kbit/s (300, at most bitrateKbps) */
  minBitrateKbps?: number | null;
  /** the lowest frame rate adaptation may go to when even the lowest bitrate is too much (5, at most frameRate) */
  minFrameRate?: number | null;
  /** longest gap between keyframes in ms while the screen changes (5000); joining viewers and PLI/FIR get one at once */
  keyframeIntervalMs?: number | null;
}

export interface StreamStatus {
  active: boolean;
  /** the shared encoder's process id while it runs (only while someone watches) */
  processId: string | null;
  windowId: string | null;
  /** Glasspane additions */
  viewers: number;
  videoCodec: VideoCodec | null;
  frameRate: number | null;
  /** viewers on the WebSocket transport (also counted in `viewers`) */
  websocketViewers: number;
  /** what the encoder sends now, after adaptation to the receivers' feedback */
  bitrateKbps: number | null;
  currentFrameRate: number | null;
  /** the bounds given at start */
  minBitrateKbps: number | null;
  maxBitrateKbps: number | null;
  minFrameRate: number | null;
  /** the lowest bandwidth estimate (REMB) a WebRTC viewer reports, kbit/s */
  receiverEstimateKbps: number | null;
  /** keyframes sent on request (joins, PLI/FIR, bitrate changes) since the stream started */
  keyframesOnDemand: number;
  /** why the stream or its encoder last failed */
  lastError: { code: string; message: string } | null;
}

/** A WebSocket carrying the fallback transport: text and binary out, how much is still queued. */
export interface FrameChannel extends SignalingChannel {
  sendBinary(data: Buffer): void;
  bufferedAmount(): number;
}

export interface FrameChannelHandlers {
  message(data: string | Buffer): void;
  closed(): void;
}

/**
 * One signaling WebSocket as the stream service sees it: text out, close. The HTTP layer
 * adapts its socket to this and feeds incoming text frames to the returned handlers.
 */
export interface SignalingChannel {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface SignalingHandlers {
  message(text: string): void;
  closed(): void;
}

/** Everything the HTTP layer may ask of the stream. */
export interface Stream {
  start(options: StreamStartOptions): Promise<StreamStatus>;
  stop(): Promise<StreamStatus>;
  status(): Promise<StreamStatus>;
  /** Rejects with a 409 when the stream is not active, so the upgrade can be refused. */
  assertActive(): Promise<void>;
  /** Takes over a connected signaling socket: sends system/init and speaks the protocol. */
  connect(channel: SignalingChannel): SignalingHandlers;
  /** Takes over a connected fallback socket (`/v1/desktop/stream/ws`): encoded frames out, input in. */
  connectWebSocket(channel: FrameChannel): FrameChannelHandlers;
}
