import { Type } from "typebox";
import { Opt } from "./desktop.js";

/**
 * `/v1/desktop/stream/*`. The status is the SDK's DesktopStreamStatusResponse plus
 * Glasspane's additions; the start body is Glasspane's (the SDK sends none).
 */
export const IceServer = Type.Object(
  {
    urls: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    username: Opt(Type.String()),
    credential: Opt(Type.String()),
  },
  { additionalProperties: false },
);

export const DesktopStreamStartRequest = Type.Object(
  {
    videoCodec: Opt(Type.Enum(["h264", "vp8", "vp9"], { description: "(h264)" })),
    frameRate: Opt(Type.Integer({ minimum: 1, maximum: 60, description: "frames per second (30)" })),
    webrtcPortRange: Opt(Type.String({ pattern: "^[0-9]{1,5}-[0-9]{1,5}$", description: 'UDP ports for the peer connections, "min-max" (any free port)' })),
    iceServers: Opt(Type.Array(IceServer, { maxItems: 16, description: "STUN/TURN servers for the server's ICE agent and the viewers" })),
    iceHostAddresses: Opt(Type.Array(Type.String({ minLength: 2, maxLength: 45 }), { minItems: 1, maxItems: 16, description: "addresses offered as host candidates (every interface)" })),
    bitrateKbps: Opt(Type.Integer({ minimum: 100, maximum: 50000, description: "highest bitrate, where the encoder starts, kbit/s (3000)" })),
    minBitrateKbps: Opt(Type.Integer({ minimum: 50, maximum: 50000, description: "lowest bitrate adaptation may choose, kbit/s (300)" })),
    minFrameRate: Opt(Type.Integer({ minimum: 1, maximum: 60, description: "lowest frame rate adaptation may choose (5)" })),
    keyframeIntervalMs: Opt(Type.Integer({ minimum: 100, maximum: 60000, description: "longest gap between keyframes while the screen changes (5000); joins and PLI/FIR get one at once" })),
  },
  { additionalProperties: false },
);

export const DesktopStreamStatusResponse = Type.Object({
  active: Type.Boolean(),
  processId: Opt(Type.String({ description: "the shared encoder's process while someone watches" })),
  windowId: Opt(Type.String()),
  viewers: Type.Optional(Type.Integer({ minimum: 0, description: "connected viewers" })),
  videoCodec: Opt(Type.Enum(["h264", "vp8", "vp9"])),
  frameRate: Opt(Type.Integer()),
  websocketViewers: Type.Optional(Type.Integer({ minimum: 0, description: "viewers on the WebSocket transport (counted in viewers too)" })),
  bitrateKbps: Opt(Type.Integer({ description: "what the encoder sends now, after adaptation" })),
  currentFrameRate: Opt(Type.Integer({ description: "frames per second now, after adaptation" })),
  minBitrateKbps: Opt(Type.Integer()),
  maxBitrateKbps: Opt(Type.Integer()),
  minFrameRate: Opt(Type.Integer()),
  receiverEstimateKbps: Opt(Type.Integer({ description: "the lowest bandwidth estimate (REMB) a WebRTC viewer reports" })),
  keyframesOnDemand: Type.Optional(Type.Integer({ minimum: 0, description: "keyframes sent for joins, PLI/FIR and bitrate changes" })),
  lastError: Opt(Type.Object({ code: Type.String(), message: Type.String() })),
});
