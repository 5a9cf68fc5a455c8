import { createSocket, type Socket } from "node:dgram";
import { EventEmitter, once } from "node:events";
import { RtpPacket } from "werift";
import type { ManagedProcess, ProcessManager } from "../processes/manager.js";
import { GlasspaneError } from "../shared/errors.js";
import { fixVp9Descriptor, isKeyframePayload } from "./keyframes.js";
import type { VideoCodec } from "./types.js";

export interface EncoderSettings {
  display: string;
  width: number;
  height: number;
  codec: VideoCodec;
  frameRate: number;
  bitrateKbps: number;
  keyframeIntervalMs: number;
}

/**
 * A 1440x900 keyframe is 60-100 datagrams; Node's default 208 KiB receive buffer drops
 * the tail of that burst and no NACK can repair what never reached us.
 */
const RECV_BUFFER_BYTES = 4 << 20;
const RTP_PACKET_SIZE = 1200;
/** Frames kept for late joiners are bounded even if keyframes stop coming. */
const MAX_CACHED_FRAMES = 600;

/** The ffmpeg command line: grab the display, encode for realtime, send RTP to `port` on loopback. */
export function encoderArgs(s: EncoderSettings, port: number): string[] {
  const gop = Math.max(1, Math.round((s.keyframeIntervalMs / 1000) * s.frameRate));
  const rate = `${s.bitrateKbps}k`;
  const input = [
    "-hide_banner", "-loglevel", "warning", "-nostats",
    "-fflags", "nobuffer",
    "-f", "x11grab", "-draw_mouse", "1", "-framerate", String(s.frameRate),
    "-video_size", `${s.width}x${s.height}`, "-i", s.display,
    // one RTP frame per grabbed frame with the capture timestamp; without it ffmpeg
    // duplicates frames and breaks RTP timestamps
    "-fps_mode", "passthrough",
    // BGRX -> YUV 4:2:0 is half the encoder's CPU; point-sampled chroma cuts that by a
    // third (measured 28 -> 22 % of a core at 1440x900@30) and luma, the text, is untouched
    "-sws_flags", "neighbor",
  ];
  const common = ["-pix_fmt", "yuv420p", "-g", String(gop), "-b:v", rate, "-maxrate", rate, "-bufsize", `${Math.round(s.bitrateKbps / 3)}k`];
  let video: string[];
  switch (s.codec) {
    case "h264":
      video = [
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline", ...common,
        "-bf", "0", "-threads", "2",
        // SPS/PPS before every keyframe, so a keyframe alone starts a decoder
        "-x264-params", "repeat-headers=1:sliced-threads=1",
      ];
      break;
    case "vp8":
    case "vp9":
      // libvpx with more than one thread spin-waits and collapses on a busy 2-core box
      video = [
        "-c:v", s.codec === "vp8" ? "libvpx" : "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-threads", "1",
        "-lag-in-frames", "0", "-error-resilient", "1", ...(s.codec === "vp8" ? ["-auto-alt-ref", "0"] : ["-row-mt", "0"]),
        ...common, "-keyint_min", String(gop), "-minrate", "0", "-qmin", "4", "-qmax", "56", "-undershoot-pct", "95", "-static-thresh", "100",
      ];
      break;
  }
  // ffmpeg marks its VP9 RTP packetizer experimental
  const strict = s.codec === "vp9" ? ["-strict", "experimental"] : [];
  const output = [...strict, "-an", "-f", "rtp", "-payload_type", "96", "-ssrc", "1", `rtp://127.0.0.1:${port}?pkt_size=${RTP_PACKET_SIZE}&rtcpport=${port}`];
  return [...input, ...video, ...output];
}

interface Frame {
  timestamp: number;
  key: boolean;
  packets: RtpPacket[];
}

/**
 * One ffmpeg realtime encoder shared by every viewer. It emits each RTP packet once
 * ("packet"), and keeps the frames since the last keyframe so a viewer who joins
 * mid-GOP gets a decodable picture at once (`cachedPackets()`), without asking the
 * encoder for a keyframe, which ffmpeg cannot do while running.
 */
export class Encoder extends EventEmitter {
  private socket: Socket | undefined;
  private proc: ManagedProcess | undefined;
  private running = false;
  private gop: Frame[] = [];
  private current: Frame | undefined;
  private pictureId = 0;
  private vp9Key = false;

  constructor(
    private readonly processes: ProcessManager,
    readonly settings: EncoderSettings,
  ) {
    super();
  }

  get processId(): string | null {
    return this.proc?.id ?? null;
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: "udp4", recvBufferSize: RECV_BUFFER_BYTES });
    this.socket = socket;
    socket.on("message", (msg) => this.onDatagram(msg));
    socket.on("error", () => undefined);
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const { port } = socket.address();
    this.running = true;
    try {
      this.proc = await this.processes.spawn({
        name: "ffmpeg-stream",
        command: "ffmpeg",
        args: encoderArgs(this.settings, port),
        owner: "desktop",
        restart: { mode: "while", active: () => this.running, maxBackoffMs: 2000 },
      });
    } catch (err) {
      this.running = false;
      socket.close();
      throw new GlasspaneError("internal", 502, `cannot start the stream encoder: ${(err as Error).message}`);
    }
    this.proc.on("exit", () => {
      if (this.running) this.emit("exit");
    });
    // a restarted ffmpeg numbers its packets afresh: drop what no longer continues
    this.proc.on("restart", () => {
      this.gop = [];
      this.current = undefined;
      this.emit("restart");
    });
  }

  /** The last line ffmpeg wrote to stderr, to say why it failed. */
  lastError(): string | undefined {
    const entries = this.proc?.logs.filter((e) => e.stream === "stderr") ?? [];
    const text = entries.slice(-3).map((e) => e.data.toString("utf8")).join("");
    return text.trim().split("\n").pop()?.trim() || undefined;
  }

  /** Packets from the last keyframe on, in order; empty until the first keyframe. */
  cachedPackets(): RtpPacket[] {
    const frames = this.current && (this.gop.length > 0 || this.current.key) ? [...this.gop, this.current] : this.gop;
    return frames.flatMap((f) => f.packets);
  }

  async stop(): Promise<void> {
    this.running = false;
    const proc = this.proc;
    await proc?.stop(2000);
    try {
      this.socket?.close();
    } catch {
      /* already closed */
    }
    this.socket = undefined;
    if (proc) {
      try {
        this.processes.remove(proc.id);
      } catch {
        /* still running after SIGKILL: leave it listed */
      }
    }
    this.gop = [];
    this.current = undefined;
  }

  private onDatagram(msg: Buffer) {
    // ffmpeg's RTCP sender reports come to the same port (rtcpport): types 200-204
    if (msg.length < 12 || (msg[1]! >= 200 && msg[1]! <= 204)) return;
    let packet: RtpPacket;
    try {
      packet = RtpPacket.deSerialize(msg);
    } catch {
      return;
    }
    const ts = packet.header.timestamp;
    if (!this.current || this.current.timestamp !== ts) {
      this.finishFrame();
      this.current = { timestamp: ts, key: false, packets: [] };
    }
    const key = isKeyframePayload(this.settings.codec, packet.payload);
    if (key) this.current.key = true;
    if (this.settings.codec === "vp9") {
      // a VP9 frame starts at a packet with the B bit (one timestamp may carry several)
      if (packet.payload[0]! & 0x08) {
        this.pictureId = (this.pictureId + 1) & 0x7fff;
        this.vp9Key = key;
      }
      packet.payload = fixVp9Descriptor(packet.payload, this.pictureId, this.vp9Key);
    }
    this.current.packets.push(packet);
    this.emit("packet", packet);
  }

  private finishFrame() {
    const f = this.current;
    if (!f) return;
    if (f.key) this.gop = [f];
    else if (this.gop.length > 0 && this.gop.length < MAX_CACHED_FRAMES) this.gop.push(f);
    else if (this.gop.length >= MAX_CACHED_FRAMES) this.gop = [];
  }
}
