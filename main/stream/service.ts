import { RTCPeerConnection, type RtpPacket } from "werift";
import which from "which";
import type { Desktop } from "../desktop/types.js";
import type { ProcessManager } from "../processes/manager.js";
import { GlasspaneError, invalid } from "../shared/errors.js";
import { withDeadline } from "../shared/deadline.js";
import { congestionSignal, RateController } from "./adaptation.js";
import { Encoder, type EncodedFrame, type EncoderSettings } from "./encoder.js";
import { InputRelay } from "./input.js";
import { Viewer, type ViewerConfig, type ViewerHost } from "./viewer.js";
import { WebSocketViewer, type WebSocketViewerHost } from "./websocket-viewer.js";
import type {
  FrameChannel,
  FrameChannelHandlers,
  IceServer,
  SignalingChannel,
  SignalingHandlers,
  Stream,
  StreamStartOptions,
  StreamStatus,
  VideoCodec,
} from "./types.js";

/** The encoder outlives the last viewer by this much, so a page reload does not restart it. */
const DEFAULT_LINGER_MS = 5000;

export interface StreamServiceOptions {
  /** host candidates when a start request names none (the runtime passes loopback when it listens there) */
  defaultHostAddresses?: string[];
  lingerMs?: number;
}

interface ActiveStream {
  codec: VideoCodec;
  frameRate: number;
  bitrateKbps: number;
  minBitrateKbps: number;
  minFrameRate: number;
  rate: RateController;
  keyframeIntervalMs: number;
  portRange: [number, number] | undefined;
  iceServers: IceServer[];
  hostAddresses: string[] | undefined;
  display: string;
  screen: { width: number; height: number };
  /** the request as given, to tell a repeated start from a changed one */
  requested: string;
}

/**
 * The live desktop stream: signaling sessions, one shared encoder that runs only while
 * someone watches, fan-out of its RTP packets to every viewer, viewer input to the desktop.
 */
export class StreamService implements Stream {
  private active: ActiveStream | undefined;
  private readonly viewers = new Set<Viewer>();
  private readonly watching = new Set<Viewer>();
  private readonly socketViewers = new Set<WebSocketViewer>();
  private lastError: { code: string; message: string } | null = null;
  private keyframesOnDemand = 0;
  private encoder: Encoder | undefined;
  private encoderStarting: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** feedback that stops changing (a loss that ended) must still let the rate climb back */
  private adaptTimer: NodeJS.Timeout | undefined;
  private encoderExits: number[] = [];
  /** All viewers drive the one desktop through one ordered relay. */
  private readonly input: InputRelay;
  private readonly host: ViewerHost;

  constructor(
    private readonly desktop: Desktop,
    private readonly processes: ProcessManager,
    private readonly options: StreamServiceOptions = {},
  ) {
    this.input = new InputRelay(desktop, () => this.active?.screen ?? { width: 1, height: 1 }, (line) => this.log(line));
    this.host = this.viewerHost();
    this.socketHost = {
      config: () => {
        const a = this.active;
        if (!a) throw new Error("the stream is not active");
        return { codec: a.codec, frameRate: a.frameRate, screen: a.screen };
      },
      keyframe: () => this.encoder?.requestKeyframe(),
      input: this.input,
      control: this.desktop.control,
    };
  }

  private readonly socketHost: WebSocketViewerHost;

  private log(line: string) {
    try {
      this.desktop.runtimeLog(line);
    } catch {
      /* logging never breaks the stream */
    }
  }

  private fail(code: string, message: string) {
    this.lastError = { code, message };
    this.log(`stream: ${message}`);
  }

  async start(request: StreamStartOptions): Promise<StreamStatus> {
    const requested = JSON.stringify(request ?? {});
    const info = await this.desktop.displayInfo();
    const resolved = this.resolve(request ?? {}, info.display, info.resolution);
    // refused now, not "active" and then off a few seconds later when the encoder cannot start
    if (!which.sync("ffmpeg", { nothrow: true })) {
      this.fail("stream_dependencies_missing", "the stream needs ffmpeg, which is not installed (apt-get install ffmpeg)");
      throw new GlasspaneError("desktop_dependencies_missing", 503, "the stream needs ffmpeg, which is not installed; install it with: apt-get install ffmpeg", {
        missingDependencies: ["ffmpeg"],
      });
    }
    if (this.active) {
      // the SDK's start carries no options: a bare start keeps the running stream as it is
      if (requested === "{}" || requested === this.active.requested) return this.snapshot();
      await this.stop("the stream was restarted with new options");
    }
    this.active = resolved;
    this.lastError = null;
    this.keyframesOnDemand = 0;
    warmUpWebRtc();
    // a viewer usually follows a start at once: have the encoder's first keyframe ready
    // for it (0.5-2 s of ffmpeg start-up); with nobody coming it stops after the linger
    void this.ensureEncoder().catch(() => undefined);
    this.demand();
    return this.snapshot();
  }

  async stop(reason = "the stream was stopped"): Promise<StreamStatus> {
    this.active = undefined;
    for (const v of [...this.viewers]) v.disconnect(reason);
    for (const v of [...this.socketViewers]) v.disconnect(reason);
    this.viewers.clear();
    this.watching.clear();
    this.socketViewers.clear();
    await this.stopEncoder();
    return this.snapshot();
  }

  async status(): Promise<StreamStatus> {
    await this.followDesktop();
    return this.snapshot();
  }

  /** A stream outlives no desktop: once the desktop has stopped, so has the stream. */
  private async followDesktop(): Promise<void> {
    if (!this.active) return;
    const running = await this.desktop.displayInfo().then(
      () => true,
      () => false,
    );
    if (!running && this.active) await this.stop("the desktop stopped");
  }

  private snapshot(): StreamStatus {
    const a = this.active;
    const rate = a?.rate.current;
    return {
      active: a !== undefined,
      processId: this.encoder?.processId ?? null,
      windowId: null,
      viewers: this.watching.size + this.socketViewers.size,
      videoCodec: a?.codec ?? null,
      frameRate: a?.frameRate ?? null,
      websocketViewers: this.socketViewers.size,
      bitrateKbps: rate?.bitrateKbps ?? null,
      currentFrameRate: rate?.frameRate ?? null,
      minBitrateKbps: a?.minBitrateKbps ?? null,
      maxBitrateKbps: a?.bitrateKbps ?? null,
      minFrameRate: a?.minFrameRate ?? null,
      keyframesOnDemand: this.keyframesOnDemand + (this.encoder?.keyframesForced ?? 0),
      receiverEstimateKbps: this.lowestEstimate() ?? null,
      lastError: this.lastError,
    };
  }

  async assertActive(): Promise<void> {
    await this.followDesktop();
    if (!this.active) throw new GlasspaneError("conflict", 409, "desktop streaming is not active; start it with POST /v1/desktop/stream/start");
  }

  connect(channel: SignalingChannel): SignalingHandlers {
    if (!this.active) throw new GlasspaneError("conflict", 409, "desktop streaming is not active");
    const viewer = new Viewer(channel, this.host);
    this.viewers.add(viewer);
    // the encoder's first keyframe takes longer than the WebRTC handshake: start it now
    this.demand();
    return {
      message: (text) => viewer.message(text),
      closed: () => {
        viewer.closed();
        this.viewers.delete(viewer);
        this.demand();
      },
    };
  }

  connectWebSocket(channel: FrameChannel): FrameChannelHandlers {
    if (!this.active) throw new GlasspaneError("conflict", 409, "desktop streaming is not active");
    const viewer = new WebSocketViewer(channel, this.socketHost);
    this.socketViewers.add(viewer);
    this.demand();
    return {
      message: (data) => viewer.message(data),
      closed: () => {
        viewer.closed();
        this.socketViewers.delete(viewer);
        this.holdIfUnwatched();
        this.demand();
      },
    };
  }

  /** With nobody live on either transport the encoder captures nothing (it lingers, idle). */
  private holdIfUnwatched() {
    if (this.watching.size === 0 && this.socketViewers.size === 0) this.encoder?.hold();
  }

  /**
   * The encoder runs while a signaling or fallback socket is open (someone watches or is
   * about to) and for a short linger after the last one closed.
   */
  private demand() {
    if (this.viewers.size > 0 || this.socketViewers.size > 0) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      void this.ensureEncoder().catch((err) => {
        for (const v of [...this.viewers]) v.disconnect((err as Error).message);
      });
    } else if ((this.encoder || this.encoderStarting) && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        if (this.viewers.size === 0 && this.socketViewers.size === 0) void this.stopEncoder();
      }, this.options.lingerMs ?? DEFAULT_LINGER_MS);
      this.lingerTimer.unref();
    }
  }

  async shutdown(): Promise<void> {
    await this.stop("the server is shutting down");
  }

  private viewerHost(): ViewerHost {
    return {
      config: (): ViewerConfig => {
        const a = this.active;
        if (!a) throw new Error("the stream is not active");
        return { codec: a.codec, frameRate: a.frameRate, iceServers: a.iceServers, portRange: a.portRange, hostAddresses: a.hostAddresses, screen: a.screen };
      },
      join: (viewer) => {
        this.watching.add(viewer);
        this.demand();
      },
      leave: (viewer) => {
        this.watching.delete(viewer);
        this.holdIfUnwatched();
      },
      keyframe: () => this.encoder?.requestKeyframe(),
      feedback: () => this.adapt(),
      input: this.input,
    };
  }

  private lowestEstimate(): number | undefined {
    const e = [...this.watching].map((v) => v.estimateKbps).filter((k): k is number => k !== undefined);
    return e.length > 0 ? Math.min(...e) : undefined;
  }

  /** Bytes of RTP sent per second slot over the last two seconds, for the adaptation. */
  private readonly sentBytes: Array<{ second: number; bytes: number }> = [];

  private countSent(bytes: number) {
    const second = Math.floor(Date.now() / 1000);
    const last = this.sentBytes[this.sentBytes.length - 1];
    if (last?.second === second) last.bytes += bytes;
    else {
      this.sentBytes.push({ second, bytes });
      if (this.sentBytes.length > 3) this.sentBytes.shift();
    }
  }

  /** kbit/s over the last two whole seconds */
  private sentKbps(): number {
    const now = Math.floor(Date.now() / 1000);
    const bytes = this.sentBytes.filter((s) => s.second === now - 1 || s.second === now - 2).reduce((n, s) => n + s.bytes, 0);
    return (bytes * 8) / 2 / 1000;
  }

  /** Each viewer's last estimate, and when it last fell below what was sent. */
  private readonly estimates = new WeakMap<Viewer, { kbps: number | undefined; congestedAt?: number }>();

  private congestion(v: Viewer, sentKbps: number): number | undefined {
    const seen = this.estimates.get(v) ?? { kbps: undefined };
    if (v.estimateKbps !== seen.kbps) {
      if (congestionSignal(seen.kbps, v.estimateKbps, sentKbps)) seen.congestedAt = Date.now();
      seen.kbps = v.estimateKbps;
      this.estimates.set(v, seen);
    }
    return seen.congestedAt;
  }

  /** The receivers' feedback moves the bitrate and frame rate within the start's bounds. */
  private adapt() {
    const a = this.active;
    if (!a) return;
    const sent = this.sentKbps();
    const decision = a.rate.update(
      [...this.watching].map((v) => ({ estimateKbps: v.estimateKbps, fractionLost: v.fractionLost, congestedAt: this.congestion(v, sent) })),
      sent,
    );
    if (!decision || !this.encoder) return;
    const est = this.lowestEstimate();
    const lost = Math.max(0, ...[...this.watching].map((v) => v.fractionLost));
    this.log(`stream: now ${decision.bitrateKbps} kbit/s at ${decision.frameRate} fps (receiver estimate ${est ?? "none"} kbit/s, sent ${Math.round(this.sentKbps())} kbit/s, loss ${(lost * 100).toFixed(0)} %)`);
    this.encoder.setFrameRate(decision.frameRate);
    this.encoder.setBitrate(decision.bitrateKbps);
  }

  private ensureEncoder(): Promise<void> {
    if (this.encoder) return Promise.resolve();
    this.encoderStarting ??= this.startEncoder().finally(() => (this.encoderStarting = undefined));
    return this.encoderStarting;
  }

  private async startEncoder(): Promise<void> {
    const a = this.active;
    if (!a) return;
    const settings: EncoderSettings = {
      display: a.display,
      width: a.screen.width,
      height: a.screen.height,
      codec: a.codec,
      frameRate: a.rate.current.frameRate,
      bitrateKbps: a.rate.current.bitrateKbps,
      keyframeIntervalMs: a.keyframeIntervalMs,
    };
    const encoder = new Encoder(this.processes, this.desktop, settings);
    let restarted = false;
    encoder.on("restart", () => (restarted = true));
    encoder.on("packet", (packet: RtpPacket) => {
      if (restarted) {
        restarted = false;
        for (const v of this.watching) v.sourceChanged(packet);
      }
      this.countSent(packet.payload.length + 12);
      for (const v of this.watching) v.sendRtp(packet);
    });
    encoder.on("frame", (frame: EncodedFrame) => {
      for (const v of this.socketViewers) v.sendFrame(frame);
    });
    encoder.on("exit", () => void this.encoderExited(encoder));
    // a capture that fails once the display has gone ends the stream with its desktop
    encoder.on("sourceError", () => void this.followDesktop());
    try {
      await encoder.start();
    } catch (err) {
      this.fail("stream_encoder_failed", (err as Error).message);
      await encoder.stop();
      throw err;
    }
    if (this.active !== a) {
      await encoder.stop();
      return;
    }
    this.encoder = encoder;
    this.adaptTimer = setInterval(() => this.adapt(), 1000);
    this.adaptTimer.unref();
    // viewers that went live while it started asked for a keyframe no encoder could give
    if (this.watching.size > 0 || this.socketViewers.size > 0) encoder.requestKeyframe();
  }

  /**
   * ffmpeg exits when the display goes away (then the stream ends with the desktop) or
   * crashes (then the process manager restarts it). One that keeps failing ends the
   * stream with its own last words rather than leaving viewers with a black picture.
   */
  private async encoderExited(encoder: Encoder): Promise<void> {
    await this.followDesktop();
    if (!this.active) return;
    const now = Date.now();
    this.encoderExits = [...this.encoderExits.filter((t) => now - t < 10_000), now];
    if (this.encoderExits.length >= 3) {
      this.encoderExits = [];
      const message = `the stream encoder keeps failing: ${encoder.lastError() ?? "see its process log"}`;
      this.fail("stream_encoder_failed", message);
      await this.stop(message);
    }
  }

  private async stopEncoder(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    await this.encoderStarting?.catch(() => undefined);
    const encoder = this.encoder;
    this.encoder = undefined;
    clearInterval(this.adaptTimer);
    this.keyframesOnDemand += encoder?.keyframesForced ?? 0;
    await encoder?.stop();
  }

  private resolve(request: StreamStartOptions, display: string, screen: { width: number; height: number }): ActiveStream {
    // what desktop start was given (streamVideoCodec, streamFrameRate, webrtcPortRange) fills what the stream start leaves out
    const defaults = this.desktop.streamDefaults();
    const o: StreamStartOptions = {
      ...request,
      videoCodec: request.videoCodec ?? (defaults.videoCodec as VideoCodec | undefined),
      frameRate: request.frameRate ?? defaults.frameRate,
      webrtcPortRange: request.webrtcPortRange ?? defaults.webrtcPortRange,
    };
    const codec = o.videoCodec ?? "h264";
    if (!["h264", "vp8", "vp9"].includes(codec)) throw invalid(`videoCodec must be h264, vp8 or vp9 (got ${codec})`);
    const frameRate = o.frameRate ?? 30;
    if (!Number.isInteger(frameRate) || frameRate < 1 || frameRate > 60) throw invalid(`frameRate must be an integer from 1 to 60 (got ${frameRate})`);
    const bitrateKbps = o.bitrateKbps ?? 3000;
    if (!Number.isInteger(bitrateKbps) || bitrateKbps < 100 || bitrateKbps > 50_000) throw invalid(`bitrateKbps must be from 100 to 50000 (got ${bitrateKbps})`);
    const minBitrateKbps = o.minBitrateKbps ?? Math.min(300, bitrateKbps);
    if (!Number.isInteger(minBitrateKbps) || minBitrateKbps < 50 || minBitrateKbps > bitrateKbps) {
      throw invalid(`minBitrateKbps must be from 50 to bitrateKbps (${bitrateKbps}) (got ${minBitrateKbps})`);
    }
    const minFrameRate = o.minFrameRate ?? Math.min(5, frameRate);
    if (!Number.isInteger(minFrameRate) || minFrameRate < 1 || minFrameRate > frameRate) {
      throw invalid(`minFrameRate must be from 1 to frameRate (${frameRate}) (got ${minFrameRate})`);
    }
    // joins and picture loss get a keyframe at once; the cadence is only a safety net
    const keyframeIntervalMs = o.keyframeIntervalMs ?? 5000;
    if (!Number.isInteger(keyframeIntervalMs) || keyframeIntervalMs < 100 || keyframeIntervalMs > 60_000) {
      throw invalid(`keyframeIntervalMs must be from 100 to 60000 (got ${keyframeIntervalMs})`);
    }
    let portRange: [number, number] | undefined;
    if (o.webrtcPortRange != null) {
      const m = /^(\d{1,5})-(\d{1,5})$/.exec(o.webrtcPortRange);
      const lo = m ? Number(m[1]) : NaN;
      const hi = m ? Number(m[2]) : NaN;
      if (!m || lo < 1024 || hi > 65535 || lo >= hi) {
        throw invalid(`webrtcPortRange must be "min-max" with 1024 <= min < max <= 65535 (got "${o.webrtcPortRange}")`);
      }
      portRange = [lo, hi];
    }
    const iceServers = (o.iceServers ?? []).map((s, i) => {
      const urls = Array.isArray(s.urls) ? s.urls : [s.urls];
      if (urls.length === 0 || urls.some((u) => typeof u !== "string" || !/^(stun|stuns|turn|turns):/.test(u))) {
        throw invalid(`iceServers[${i}].urls must be stun:, stuns:, turn: or turns: URLs`);
      }
      return { urls: s.urls, ...(s.username != null ? { username: s.username } : {}), ...(s.credential != null ? { credential: s.credential } : {}) };
    });
    const hostAddresses = o.iceHostAddresses ?? this.options.defaultHostAddresses;
    if (hostAddresses && (hostAddresses.length === 0 || hostAddresses.some((a) => !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(a)))) {
      throw invalid("iceHostAddresses must be a non-empty list of IP addresses");
    }
    return {
      codec,
      frameRate,
      bitrateKbps,
      minBitrateKbps,
      minFrameRate,
      rate: new RateController({ minKbps: minBitrateKbps, maxKbps: bitrateKbps, minFrameRate, maxFrameRate: frameRate }),
      keyframeIntervalMs,
      portRange,
      iceServers,
      hostAddresses: hostAddresses ?? undefined,
      display,
      screen: { width: screen.width, height: screen.height },
      requested: JSON.stringify(request),
    };
  }
}

let warmed = false;

/**
 * The first peer connection of a process pays for the DTLS certificate (kept for every
 * later peer) and for compiling werift's ICE, DTLS and SRTP code: measured 1-1.5 s of a
 * busy 2-core box, between the browser's "connected" and ours. Pay it when the stream
 * starts, with a throwaway connection of two werift peers over loopback, not while the
 * first viewer waits.
 */
function warmUpWebRtc() {
  if (warmed) return;
  warmed = true;
  const config = { iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ["127.0.0.1"], iceInterfaceAddresses: { udp4: "127.0.0.1" } } as any;
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  a.addTransceiver("video", { direction: "sendonly" });
  a.createDataChannel("warm-up");
  const connected = new Promise<void>((resolve) => b.connectionStateChange.subscribe((s) => s === "connected" && resolve()));
  const run = async () => {
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await connected;
  };
  void withDeadline(run(), 10_000, "WebRTC warm-up")
    .catch(() => undefined)
    .finally(() => Promise.all([a.close(), b.close()]).catch(() => undefined));
}
