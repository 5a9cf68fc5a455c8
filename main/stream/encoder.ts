import { createSocket, type Socket } from "node:dgram";
import { EventEmitter, once } from "node:events";
import { RtpPacket } from "werift";
import type { RgbFrame, Desktop } from "../desktop/types.js";
import type { ManagedProcess, ProcessManager } from "../processes/manager.js";
import { GlasspaneError } from "../shared/errors.js";
import { FrameSource } from "./frame-source.js";
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
/** How long a spare encoder may take to start and encode its warm-up frames. */
const SPARE_READY_MS = 3000;
/**
 * Spares kept waiting. Starting ffmpeg takes 0.3-3 s on a loaded 2-core machine, so with
 * one spare a second PLI soon after the first would wait for it; two cover a burst.
 */
const SPARES = 2;
/** On a still screen the last frame is sent again this often (under a receiver's 3 s frame timeout). */
const STILL_REPEAT_MS = 2000;
/** Retries, 2 ms apart, of the write that pushes an isolated frame out of ffmpeg (about 1 s). */
const FLUSH_TRIES = 500;
/** ffmpeg holds one or two frames back at its start: three make sure the first comes out */
const WARM_UP_FRAMES = 3;

/**
 * The ffmpeg command line: raw RGB frames on stdin (written only when the screen changed),
 * encoded for realtime, sent as RTP to `port` on loopback. Each frame carries the wall
 * clock at which ffmpeg read it, so irregular frames keep true RTP timestamps.
 */
export function encoderArgs(s: EncoderSettings, port: number): string[] {
  const gop = Math.max(1, Math.round((s.keyframeIntervalMs / 1000) * s.frameRate));
  const rate = `${s.bitrateKbps}k`;
  const input = [
    "-hide_banner", "-loglevel", "warning", "-nostats", "-nostdin",
    // one frame is enough to know a raw stream: start encoding on the first one
    "-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0",
    "-use_wallclock_as_timestamps", "1",
    "-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", `${s.width}x${s.height}`, "-framerate", String(s.frameRate), "-i", "pipe:0",
    // one RTP frame per written frame, at its own time; never duplicated to fill a rate
    "-fps_mode", "passthrough", "-enc_time_base", "1:90000",
    // RGB -> YUV 4:2:0 is much of the encoder's CPU; point-sampled chroma cuts that by a
    // third and luma, the text, is untouched
    "-sws_flags", "neighbor",
  ];
  // a spare encodes warm-up frames (so x264/libvpx is open before it is needed); the
  // first real one after them is forced to be a keyframe
  const common = ["-force_key_frames", `expr:eq(n,${WARM_UP_FRAMES})`, "-pix_fmt", "yuv420p", "-g", String(gop), "-b:v", rate, "-maxrate", rate, "-bufsize", `${Math.max(50, Math.round(s.bitrateKbps / 3))}k`];
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

/** One encoded frame as RTP packets (the unit the WebSocket transport sends). */
export interface EncodedFrame {
  timestamp: number;
  key: boolean;
  packets: RtpPacket[];
}

/**
 * One ffmpeg encoding the frames it is given on stdin, and its RTP socket. It encodes
 * nothing while nothing is written, and its first frame is always a keyframe, which is
 * how the pipeline answers a keyframe request: a spare process waits, blocked on its
 * first read, and takes over with the next frame.
 */
class EncoderProcess extends EventEmitter {
  private socket: Socket | undefined;
  proc: ManagedProcess | undefined;
  private running = false;
  private current: EncodedFrame | undefined;
  private currentDone = false;
  private rawTimestamp = -1;
  private pictureId = 0;
  private vp9Key = false;
  /** packets have arrived: this process has encoded at least one frame */
  producing = false;
  private lastWriteAt = -Infinity;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFrame: Buffer | undefined;

  constructor(
    private readonly processes: ProcessManager,
    readonly settings: EncoderSettings,
  ) {
    super();
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
        stdin: true,
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
    // a restarted ffmpeg numbers its packets afresh and starts with a keyframe
    this.proc.on("restart", () => {
      this.current = undefined;
      this.emit("restart");
    });
  }

  /**
   * Spares only: opening the encoder happens on ffmpeg's first frame and costs tens of ms,
   * which a keyframe request would otherwise wait for. Black frames make ffmpeg open it
   * and encode the first (their output is never sent); the first real frame is a forced
   * keyframe (encoderArgs), and the spare takes over with it.
   */
  async warmUp(): Promise<void> {
    const black = Buffer.alloc(this.settings.width * this.settings.height * 3);
    for (let i = 0; i < WARM_UP_FRAMES && this.running; i++) {
      for (let t = 0; t < 150 && this.running && !this.writable(); t++) await new Promise((r) => setTimeout(r, 20));
      if (!this.writable()) return;
      await this.proc!.write(black).catch(() => undefined);
    }
    const began = Date.now();
    while (this.running && !this.producing && Date.now() - began < SPARE_READY_MS) await new Promise((r) => setTimeout(r, 20));
    this.lastWriteAt = -Infinity;
  }

  /** Queues one frame; false when ffmpeg has not yet taken the previous one (the frame is dropped). */
  write(frame: RgbFrame): boolean {
    if (!this.writable()) return false;
    // the capture buffer is reused by the next capture: the pipe gets its own copy
    const copy = Buffer.from(frame.data);
    this.lastFrame = copy;
    void this.proc!.write(copy).catch(() => undefined);
    // ffmpeg encodes a frame from a pipe only once the next one has arrived (measured:
    // always one frame behind). While frames come steadily the next one flushes it; an
    // isolated change (the first after a still period, a spare's keyframe) is flushed at
    // once by writing it again, which x264 and libvpx encode as a tiny all-skip frame.
    const now = performance.now();
    const interval = 1000 / this.settings.frameRate;
    const isolated = now - this.lastWriteAt > 2 * interval;
    this.lastWriteAt = now;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(copy), isolated ? 0 : 1.5 * interval);
    return true;
  }

  /**
   * Writes the last frame again when nothing was written for `idleMs`. A receiver that gets
   * no frame for 3 s asks for a keyframe (Chrome's PLI on a frame timeout), which would
   * cost a spare encoder every few seconds of a still screen; an unchanged frame every 2 s
   * is a few hundred bytes and a few ms of one core. (ffmpeg still holds one frame back, so
   * each write sends the one written before.)
   */
  repeatIfIdle(idleMs: number): void {
    if (!this.lastFrame || performance.now() - this.lastWriteAt < idleMs || !this.writable()) return;
    this.lastWriteAt = performance.now();
    void this.proc!.write(this.lastFrame).catch(() => undefined);
  }

  private flush(frame: Buffer, tries = 0) {
    // a newer frame flushes this one itself
    if (!this.running || frame !== this.lastFrame) return;
    if (!this.writable()) {
      // a 1440x900 frame is 3.9 MB: ffmpeg may take 100 ms or more of a loaded machine to
      // read it, and a flush given up leaves the change inside ffmpeg until the still repeat
      if (tries < FLUSH_TRIES) this.flushTimer = setTimeout(() => this.flush(frame, tries + 1), 2);
      return;
    }
    void this.proc!.write(frame).catch(() => undefined);
  }

  private writable(): boolean {
    return !!this.proc && this.running && this.proc.status === "running" && this.proc.inputBacklog() === 0;
  }

  lastError(): string | undefined {
    const entries = this.proc?.logs.filter((e) => e.stream === "stderr") ?? [];
    const text = entries.slice(-3).map((e) => e.data.toString("utf8")).join("");
    return text.trim().split("\n").pop()?.trim() || undefined;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.flushTimer);
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
    // a marker ends a frame even when the next has the same timestamp (two frames read
    // within the same wall-clock tick)
    if (!this.current || this.rawTimestamp !== ts || this.currentDone) {
      // a receiver takes packets of one timestamp for one picture: the second frame of a tick moves on by one
      const prev = this.current?.timestamp;
      const out = prev === undefined || ((ts - prev) | 0) > 0 ? ts : (prev + 1) >>> 0;
      this.rawTimestamp = ts;
      this.current = { timestamp: out, key: false, packets: [] };
      this.currentDone = false;
    }
    packet.header.timestamp = this.current.timestamp;
    const frame = this.current;
    const key = isKeyframePayload(this.settings.codec, packet.payload);
    if (key) frame.key = true;
    if (this.settings.codec === "vp9") {
      // a VP9 frame starts at a packet with the B bit (one timestamp may carry several)
      if (packet.payload[0]! & 0x08) {
        this.pictureId = (this.pictureId + 1) & 0x7fff;
        this.vp9Key = key;
      }
      packet.payload = fixVp9Descriptor(packet.payload, this.pictureId, this.vp9Key);
    }
    frame.packets.push(packet);
    this.producing = true;
    this.emit("packet", packet, frame);
    if (packet.header.marker) {
      this.currentDone = true;
      this.emit("frame", frame);
    }
  }
}

/**
 * The stream's encoder pipeline: damage-driven frames (FrameSource) into the active
 * ffmpeg, a spare ffmpeg waiting to take over when a keyframe is wanted (a viewer joins,
 * or sends PLI/FIR) or the bitrate changes. It emits "packet" for each RTP packet of the
 * active encoder, "frame" for each complete frame, "restart" when the packets start
 * to come from another process (new sequence numbers and timestamps), and "sourceError"
 * when the screen cannot be captured.
 */
export class Encoder extends EventEmitter {
  private active: EncoderProcess | undefined;
  private readonly spares: EncoderProcess[] = [];
  private spareStarting: Promise<void> | undefined;
  /** the process that takes over with the next frame */
  private next: EncoderProcess | undefined;
  private keyframeWanted = false;
  /**
   * Until a viewer is live (or after the last has gone) no frame is captured for the
   * encoder: nobody could use it, and the first frame a viewer gets is then the active
   * encoder's own first frame, a keyframe, with no spare needed.
   */
  private held = true;
  private source: FrameSource | undefined;
  private stopped = false;
  settings: EncoderSettings;
  keyframesForced = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  private lastFailure: string | undefined;

  constructor(
    private readonly processes: ProcessManager,
    private readonly desktop: Desktop,
    settings: EncoderSettings,
  ) {
    super();
    this.settings = { ...settings };
  }

  get processId(): string | null {
    return this.active?.proc?.id ?? null;
  }

  async start(): Promise<void> {
    this.active = await this.launch(this.settings);
    this.source = new FrameSource(
      this.desktop,
      this.settings.frameRate,
      (frame) => this.deliver(frame),
      (err) => this.emit("sourceError", err),
    );
    this.source.start();
    this.keepAlive = setInterval(() => this.active?.repeatIfIdle(STILL_REPEAT_MS), 500);
    this.keepAlive.unref();
    void this.prepareSpare();
  }

  /** The next frame is a keyframe, from the spare encoder (within about one frame when it is ready). */
  requestKeyframe(): void {
    if (this.stopped || this.next || this.keyframeWanted) return;
    this.held = false;
    if (this.active && !this.active.producing) {
      // it has encoded nothing yet: its first frame is a keyframe
      this.source?.refresh();
      return;
    }
    this.keyframeWanted = true;
    void this.takeOver();
  }

  /** A new bitrate takes effect with a keyframe from a spare started at that rate. */
  setBitrate(kbps: number): void {
    if (this.stopped || kbps === this.settings.bitrateKbps) return;
    this.settings = { ...this.settings, bitrateKbps: kbps };
    for (const old of this.spares.splice(0)) void old.stop();
    this.keyframeWanted = true;
    void this.prepareSpare().then(() => this.takeOver());
  }

  /** Nobody watches: capture and encode nothing until the next keyframe request. */
  hold(): void {
    this.held = true;
  }

  setFrameRate(fps: number): void {
    this.settings = { ...this.settings, frameRate: fps };
    this.source?.setFrameRate(fps);
  }

  lastError(): string | undefined {
    return this.active?.lastError() ?? this.lastFailure;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.keepAlive);
    this.source?.stop();
    await this.spareStarting?.catch(() => undefined);
    await Promise.all([this.active?.stop(), ...this.spares.splice(0).map((p) => p.stop()), this.next?.stop()]);
    this.active = this.next = undefined;
  }

  private async launch(settings: EncoderSettings): Promise<EncoderProcess> {
    const p = new EncoderProcess(this.processes, settings);
    p.on("packet", (packet: RtpPacket) => {
      if (p === this.active) this.emit("packet", packet);
      // a spare's warm-up frame may still come out: it takes over with its keyframe
      else if (p === this.next && isKeyframePayload(p.settings.codec, packet.payload)) this.promote(p, packet);
    });
    p.on("frame", (frame: EncodedFrame) => p === this.active && this.emit("frame", frame));
    p.on("restart", () => {
      if (p !== this.active) return;
      this.emit("restart");
      this.source?.refresh();
    });
    p.on("exit", () => p === this.active && this.emit("exit"));
    await p.start();
    return p;
  }

  private prepareSpare(): Promise<void> {
    if (this.spares.length > 0 || this.stopped) {
      // one is ready: top the pool up in the background
      if (this.spares.length < SPARES && !this.stopped) this.spareStarting ??= this.startSpare().finally(() => (this.spareStarting = undefined));
      return Promise.resolve();
    }
    this.spareStarting ??= this.startSpare().finally(() => (this.spareStarting = undefined));
    return this.spareStarting;
  }

  /** Starts spares until the pool is full, each matching the current settings (they may change while one starts). */
  private async startSpare(): Promise<void> {
    try {
      while (!this.stopped && this.spares.length < SPARES) {
        const settings = this.settings;
        const p = await this.launch(settings);
        await p.warmUp();
        // the frame rate is paced by the frame source; only a changed bitrate makes a spare stale
        if (!this.stopped && settings.bitrateKbps === this.settings.bitrateKbps) {
          this.spares.push(p);
          // a request that found no spare waits for this one
          if (this.keyframeWanted && !this.next) void this.takeOver();
        } else await p.stop();
      }
    } catch (err) {
      this.lastFailure = (err as Error).message;
    }
  }

  /** The spare takes the next frame; its first packet makes it the active encoder. */
  private async takeOver(): Promise<void> {
    // none ready: the first one that becomes ready takes over
    if (this.spares.length === 0) void this.prepareSpare();
    for (let i = 0; i < 250 && this.spares.length === 0 && !this.stopped; i++) await new Promise((r) => setTimeout(r, 20));
    const spare = this.spares.shift();
    if (this.stopped || !this.keyframeWanted || this.next || !spare) {
      // no spare yet: the next one that becomes ready takes over (startSpare)
      if (spare) this.spares.unshift(spare);
      return;
    }
    this.keyframeWanted = false;
    this.next = spare;
    this.source?.refresh();
    void this.prepareSpare();
  }

  private promote(p: EncoderProcess, first: RtpPacket) {
    const old = this.active;
    this.active = p;
    this.next = undefined;
    this.keyframesForced++;
    this.emit("restart");
    this.emit("packet", first);
    void old?.stop();
    void this.prepareSpare();
  }

  private deliver(frame: RgbFrame): boolean {
    // while a spare is taking over, frames go to it only: the old encoder's last frame
    // and the new one's keyframe must not interleave
    if (this.held) return true;
    const target = this.next ?? this.active;
    if (!target) return false;
    return target.write(frame);
  }
}
