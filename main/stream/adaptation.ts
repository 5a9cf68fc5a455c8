/**
 * The sending rate from the receivers' feedback: the lowest REMB estimate among the
 * WebRTC viewers (with a margin), backed off further while they report loss, kept within
 * the bounds given at stream start. Below the lowest bitrate the frame rate goes down
 * instead, to the lowest frame rate. A change of bitrate costs a keyframe (a new encoder),
 * so it needs a clear difference and time between changes; going up is slower than down.
 *
 * Going up is probing: a receiver's estimate is bounded by what arrives (about 1.5 times
 * the incoming rate), so it cannot show spare capacity by itself. While no viewer is
 * limited by its estimate or losing packets, the rate steps up by UP_STEP; if that was too
 * much, the estimate falls and the rate goes back down, and the rate that failed is not
 * tried again for FAILED_HOLD_MS, so a capped link settles instead of swinging.
 */
export interface Bounds {
  minKbps: number;
  maxKbps: number;
  minFrameRate: number;
  maxFrameRate: number;
}

export interface Feedback {
  estimateKbps: number | undefined;
  fractionLost: number;
  /** when the estimate last fell below what was being sent (epoch ms): the receiver saw queueing */
  congestedAt?: number;
}

/**
 * The receiver's estimate only follows what arrives (about 1.5 times the incoming rate),
 * so while the screen is still or changes little it falls with the traffic (staying above
 * it), and after a still period it climbs back only a few per cent a second. Such an
 * estimate says nothing about the link. It counts when it has just fallen below what is
 * being sent (the receiver saw queueing: it then says 0.85 times what arrives), or when
 * packets are being lost.
 */
const APP_LIMITED_SHARE = 0.8;
const CONGESTED_RECENTLY_MS = 3000;

/** Whether a new estimate says the link is congested: it fell, to below what is being sent. */
export function congestionSignal(previousKbps: number | undefined, kbps: number | undefined, sentKbps: number): boolean {
  return previousKbps !== undefined && kbps !== undefined && kbps < previousKbps * 0.95 && kbps < sentKbps;
}

export interface Decision {
  bitrateKbps: number;
  frameRate: number;
}

/** Use this share of the estimate: REMB is what the link carries, not what it carries without queueing. */
const ESTIMATE_SHARE = 0.85;
const LOSS_BACKOFF = 0.1;
/** a change smaller than this share of the current bitrate is not worth a keyframe */
const MIN_STEP = 0.2;
/**
 * A change takes a spare encoder 0.3-3 s to carry out on a loaded machine: changes are
 * spaced so each completes. Going up waits longer and climbs at most by UP_STEP at a time,
 * since the loss that brought the rate down stops as soon as it is down.
 */
const DOWN_AFTER_MS = 2500;
const UP_AFTER_MS = 4000;
const UP_STEP = 1.5;
/** loss under this share counts as none when probing upwards */
const PROBE_LOSS = 0.02;
const FAILED_HOLD_MS = 20_000;
const FPS_AFTER_MS = 1000;

export class RateController {
  private lastChangeAt = 0;
  private lastFpsChangeAt = 0;
  /** a bitrate the link did not carry, and until when it is not tried again */
  private failed: { kbps: number; until: number } | undefined;
  current: Decision;

  constructor(private readonly bounds: Bounds) {
    this.current = { bitrateKbps: bounds.maxKbps, frameRate: bounds.maxFrameRate };
  }

  /** The new rate for these viewers' feedback, or undefined to keep the current one. */
  update(viewers: Feedback[], sentKbps: number, now = Date.now()): Decision | undefined {
    const b = this.bounds;
    let wanted = b.maxKbps;
    for (const v of viewers) {
      const congested = v.congestedAt !== undefined && now - v.congestedAt < CONGESTED_RECENTLY_MS;
      const limiting = v.estimateKbps !== undefined && ((congested && sentKbps >= v.estimateKbps * APP_LIMITED_SHARE) || v.fractionLost > LOSS_BACKOFF);
      // an estimate from an application-limited stream never lowers the rate; with no loss it lets it probe upwards
      const probe = v.fractionLost < PROBE_LOSS ? this.current.bitrateKbps * UP_STEP : this.current.bitrateKbps;
      let kbps = v.estimateKbps === undefined ? b.maxKbps : limiting ? v.estimateKbps * ESTIMATE_SHARE : Math.max(v.estimateKbps * ESTIMATE_SHARE, probe);
      if (v.fractionLost > LOSS_BACKOFF) kbps = Math.min(kbps, this.current.bitrateKbps * (1 - v.fractionLost / 2));
      wanted = Math.min(wanted, kbps);
    }
    // shortly after a rate failed, probing stops below it
    const ceiling = this.failed && now < this.failed.until ? Math.max(this.current.bitrateKbps, this.failed.kbps * 0.9) : Infinity;
    const bitrateKbps = Math.round(Math.max(b.minKbps, Math.min(b.maxKbps, wanted, ceiling, this.current.bitrateKbps * UP_STEP)));
    // below the floor, fewer frames carry the same quality in fewer bits
    const share = wanted >= b.minKbps ? 1 : Math.max(0, wanted / b.minKbps);
    const frameRate = Math.max(b.minFrameRate, Math.min(b.maxFrameRate, Math.round(b.maxFrameRate * share)));
    const cur = this.current;
    const down = bitrateKbps < cur.bitrateKbps;
    const bigEnough = Math.abs(bitrateKbps - cur.bitrateKbps) >= cur.bitrateKbps * MIN_STEP || bitrateKbps === b.minKbps || bitrateKbps === b.maxKbps;
    const rateChange = bitrateKbps !== cur.bitrateKbps && bigEnough && now - this.lastChangeAt >= (down ? DOWN_AFTER_MS : UP_AFTER_MS);
    // frame-rate changes cost no keyframe, but one report losing and the next not would flap them
    const fpsChange = frameRate !== cur.frameRate && now - this.lastFpsChangeAt >= FPS_AFTER_MS;
    if (!rateChange && !fpsChange) return undefined;
    if (rateChange) this.lastChangeAt = now;
    if (fpsChange) this.lastFpsChangeAt = now;
    if (rateChange && down) this.failed = { kbps: cur.bitrateKbps, until: now + FAILED_HOLD_MS };
    this.current = { bitrateKbps: rateChange ? bitrateKbps : cur.bitrateKbps, frameRate: fpsChange ? frameRate : cur.frameRate };
    return this.current;
  }
}
