import {
  RTCPeerConnection,
  RTCRtpHeaderExtensionParameters,
  RtcpPayloadSpecificFeedback,
  useAbsSendTime,
  useH264,
  useSdesMid,
  useVP8,
  useVP9,
  type RTCDataChannel,
  type RTCRtpSender,
  type RtpPacket,
} from "werift";
import { decodeInput, type InputRelay } from "./input.js";
import type { IceServer, SignalingChannel, SignalingHandlers, VideoCodec } from "./types.js";

const PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
/**
 * min = max = 0 (12 bits each, 10 ms units): the browser renders each frame as soon as
 * it is decoded instead of holding 20-100 ms in its jitter buffer.
 */
const ZERO_PLAYOUT_DELAY = Buffer.alloc(3);
/** RTCP payload-specific feedback format of a Full Intra Request (RFC 5104). */
const FIR_FORMAT = 4;
/** A signaling message larger than this is refused (an SDP is a few KB). */
const MAX_MESSAGE_CHARS = 256 * 1024;

export interface ViewerConfig {
  codec: VideoCodec;
  frameRate: number;
  iceServers: IceServer[];
  portRange: [number, number] | undefined;
  /** host candidate addresses; undefined = every interface plus loopback */
  hostAddresses: string[] | undefined;
  screen: { width: number; height: number };
}

/** What a viewer needs from the stream service. */
export interface ViewerHost {
  config(): ViewerConfig;
  /** the viewer asked for media: make sure the encoder runs */
  join(viewer: Viewer): void;
  /** the viewer's peer is gone */
  leave(viewer: Viewer): void;
  /** a keyframe is wanted now (a viewer's picture starts, or it lost one: PLI/FIR) */
  keyframe(viewer: Viewer): void;
  /** the receiver's bandwidth estimate changed (REMB, bits per second) */
  feedback(viewer: Viewer): void;
  input: InputRelay;
}

/**
 * One signaling socket and the WebRTC peer behind it, speaking the neko-style event
 * protocol the sandbox-agent SDK implements: the server sends system/init, the client
 * asks with signal/request, the server offers (signal/provide: sendonly video plus the
 * input data channel), the client answers, both trickle candidates.
 */
export class Viewer implements SignalingHandlers {
  private pc: RTCPeerConnection | undefined;
  private sender: RTCRtpSender | undefined;
  private playoutExtId: number | undefined;
  private live = false;
  private ended = false;
  /** the receiver's latest REMB estimate in kbit/s, if it sent one */
  estimateKbps: number | undefined;
  /** fraction of packets the receiver reports lost (0-1), from its receiver reports */
  fractionLost = 0;
  keyframeRequests = 0;
  private readonly frameRate: number;

  constructor(
    private readonly channel: SignalingChannel,
    private readonly host: ViewerHost,
  ) {
    const { screen, frameRate } = host.config();
    this.frameRate = frameRate;
    this.send("system/init", { screen_size: { width: screen.width, height: screen.height, rate: frameRate }, session_id: null, control_host: { has_host: true } });
  }

  message(text: string): void {
    if (this.ended) return;
    if (text.length > MAX_MESSAGE_CHARS) return this.error(`message too large (${text.length} characters)`);
    let msg: { event?: unknown; payload?: unknown; data?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return this.error("messages must be JSON objects {event, payload}");
    }
    if (typeof msg !== "object" || msg === null || typeof msg.event !== "string") return this.error("messages must be JSON objects {event, payload}");
    const payload = (msg.payload ?? msg.data) as Record<string, unknown> | undefined;
    switch (msg.event) {
      case "control/request":
      case "control/release":
        return; // one shared desktop: every viewer may drive it
      case "signal/request":
        void this.offer().catch((err) => this.error(`cannot create the offer: ${(err as Error).message}`));
        return;
      case "signal/answer":
        if (typeof payload?.sdp !== "string") return this.error("signal/answer needs {sdp}");
        void this.answer(payload.sdp).catch((err) => this.error(`the answer was refused: ${(err as Error).message}`));
        return;
      case "signal/candidate":
        if (!payload || typeof payload !== "object") return this.error("signal/candidate needs an RTCIceCandidateInit");
        void this.pc?.addIceCandidate(payload as any).catch(() => undefined);
        return;
      case "signal/close":
        this.closePeer();
        return;
      default:
        return this.error(`unknown event "${msg.event}"`);
    }
  }

  closed(): void {
    this.closePeer();
    this.ended = true;
  }

  /** Ends the session from the server side (stream stopped): tells the client why, then closes. */
  disconnect(message: string): void {
    if (this.ended) return;
    this.send("system/disconnect", { message });
    this.closePeer();
    this.ended = true;
    this.channel.close(1000, message.slice(0, 120));
  }

  /** Fan-out from the shared encoder; before the peer is ready packets are not sent. */
  sendRtp(packet: RtpPacket): void {
    if (!this.live || !this.sender) return;
    void this.sender.sendRtp(this.stamp(packet)).catch(() => undefined);
  }

  /** A restarted encoder starts new sequence numbers and timestamps: keep the viewer's continuous. */
  sourceChanged(packet: RtpPacket): void {
    this.sender?.replaceRTP(packet.header, true, Math.round(90_000 / this.frameRate));
  }

  private async offer(): Promise<void> {
    this.closePeer();
    const cfg = this.host.config();
    const codec = { h264: useH264, vp8: useVP8, vp9: useVP9 }[cfg.codec]();
    const pc = new RTCPeerConnection({
      codecs: { audio: [], video: [codec] },
      // abs-send-time lets the browser's bandwidth estimator (REMB) see queueing delay
      headerExtensions: { video: [useSdesMid(), useAbsSendTime(), new RTCRtpHeaderExtensionParameters({ uri: PLAYOUT_DELAY_URI })] },
      // werift defaults to a public STUN server and waits for it; only what was configured
      iceServers: cfg.iceServers.flatMap((s) =>
        (Array.isArray(s.urls) ? s.urls : [s.urls]).map((urls) => ({ urls, username: s.username ?? undefined, credential: s.credential ?? undefined })),
      ),
      icePortRange: cfg.portRange,
      bundlePolicy: "max-bundle",
      ...(cfg.hostAddresses
        ? {
            // werift drops loopback when it enumerates interfaces; list the addresses explicitly
            iceUseIpv4: false,
            iceUseIpv6: false,
            iceAdditionalHostAddresses: cfg.hostAddresses,
            iceInterfaceAddresses: { udp4: cfg.hostAddresses.find((a) => !a.includes(":")) },
          }
        : { iceAdditionalHostAddresses: ["127.0.0.1"] }),
    } as any);
    this.pc = pc;
    const transceiver = pc.addTransceiver("video", { direction: "sendonly" });
    this.sender = transceiver.sender;
    const channel = pc.createDataChannel("data", { ordered: true });
    this.wireInput(channel);
    transceiver.sender.onReady.subscribe(() => this.startMedia(pc));
    const sender = transceiver.sender;
    sender.onPictureLossIndication.subscribe(() => this.wantKeyframe(pc));
    sender.onRtcp.subscribe((rtcp) => {
      if (this.pc !== pc) return;
      // werift answers PLI itself (above) but not FIR (payload-specific feedback, format 4)
      if (rtcp.type === RtcpPayloadSpecificFeedback.type && (rtcp as RtcpPayloadSpecificFeedback).feedback.count === FIR_FORMAT) this.wantKeyframe(pc);
      const remb = Number(sender.receiverEstimatedMaxBitrate ?? 0n);
      const lost = (sender as unknown as { remoteFractionLost?: number }).remoteFractionLost ?? 0;
      const kbps = remb > 0 ? Math.round(remb / 1000) : undefined;
      if (kbps !== this.estimateKbps || lost !== this.fractionLost) {
        this.estimateKbps = kbps;
        this.fractionLost = lost;
        this.host.feedback(this);
      }
    });
    pc.connectionStateChange.subscribe((state) => {
      if ((state === "failed" || state === "closed") && this.pc === pc) this.closePeer();
    });
    this.host.join(this);
    const offer = await pc.createOffer();
    // resolves after candidate gathering, so the SDP already lists our candidates
    await pc.setLocalDescription(offer);
    if (this.pc !== pc) return;
    this.send("signal/provide", { sdp: pc.localDescription!.sdp, iceservers: cfg.iceServers, video: { codec: cfg.codec } });
  }

  private async answer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc) throw new Error("no offer is pending; send signal/request first");
    await pc.setRemoteDescription({ type: "answer", sdp });
    const ext = pc.getTransceivers()[0]?.headerExtensions.find((e) => e.uri === PLAYOUT_DELAY_URI);
    this.playoutExtId = ext?.id;
  }

  /** DTLS is up: go live and ask for a keyframe, so the first picture needs no replay of earlier frames. */
  private startMedia(pc: RTCPeerConnection) {
    if (this.pc !== pc || !this.sender) return;
    this.live = true;
    this.host.keyframe(this);
  }

  private wantKeyframe(pc: RTCPeerConnection) {
    if (this.pc !== pc || !this.live) return;
    this.keyframeRequests++;
    this.host.keyframe(this);
  }

  private stamp(packet: RtpPacket): RtpPacket {
    if (this.playoutExtId === undefined) return packet;
    // the sender clones before rewriting, so a shared packet is never mutated
    const copy = packet.clone();
    copy.header.extensions = [...copy.header.extensions.filter((e) => e.id !== this.playoutExtId), { id: this.playoutExtId, payload: ZERO_PLAYOUT_DELAY }];
    return copy;
  }

  private wireInput(channel: RTCDataChannel) {
    channel.onMessage.subscribe((data) => {
      if (typeof data === "string") return;
      this.host.input.push(decodeInput(data));
    });
  }

  private closePeer() {
    const pc = this.pc;
    if (!pc) return;
    this.pc = undefined;
    this.sender = undefined;
    this.live = false;
    this.playoutExtId = undefined;
    void pc.close().catch(() => undefined);
    this.host.leave(this);
  }

  private error(message: string) {
    this.send("system/error", { message });
  }

  private send(event: string, payload: unknown) {
    if (this.ended) return;
    try {
      this.channel.send(JSON.stringify({ event, payload }));
    } catch {
      /* socket already gone */
    }
  }
}
