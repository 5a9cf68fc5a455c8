/**
 * The sending rate from the receivers' feedback: the lowest REMB estimate among the
 * WebRTC viewers (with a margin), backed off further while they report loss, kept within
 * the bounds given at stream start. Below the lowest bitrate the frame rate goes down
 * instead, to the lowest frame rate. A change of bitrate costs a keyframe (a new encoder),
 * so it needs a clear difference and time between changes; going up is slower than down.
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
}

/**
 * The receiver's estimate only follows what arrives (about 1.5 times the incoming rate),
 * so while the screen is still or changes little it falls with the traffic. Such an
 * estimate says nothing about the link: it counts only when the sender actually sends
 * close to it (or packets are being lost).
 */
const APP_LIMITED_SHARE = 0.8;

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

export class RateController {
  private lastChangeAt = 0;
  current: Decision;

  constructor(private readonly bounds: Bounds) {
    this.current = { bitrateKbps: bounds.maxKbps, frameRate: bounds.maxFrameRate };
  }

  /** The new rate for these viewers' feedback, or undefined to keep the current one. */
  update(viewers: Feedback[], sentKbps: number, now = Date.now()): Decision | undefined {
    const b = this.bounds;
    let wanted = b.maxKbps;
    for (const v of viewers) {
      const limiting = v.estimateKbps !== undefined && (sentKbps >= v.estimateKbps * APP_LIMITED_SHARE || v.fractionLost > LOSS_BACKOFF);
      // an estimate from an application-limited stream may still raise the rate, never lower it
      let kbps = v.estimateKbps === undefined ? b.maxKbps : limiting ? v.estimateKbps * ESTIMATE_SHARE : Math.max(v.estimateKbps * ESTIMATE_SHARE, this.current.bitrateKbps);
      if (v.fractionLost > LOSS_BACKOFF) kbps = Math.min(kbps, this.current.bitrateKbps * (1 - v.fractionLost / 2));
      wanted = Math.min(wanted, kbps);
    }
    const bitrateKbps = Math.round(Math.max(b.minKbps, Math.min(b.maxKbps, wanted, this.current.bitrateKbps * UP_STEP)));
    // below the floor, fewer frames carry the same quality in fewer bits
    const share = wanted >= b.minKbps ? 1 : Math.max(0, wanted / b.minKbps);
    const frameRate = Math.max(b.minFrameRate, Math.min(b.maxFrameRate, Math.round(b.maxFrameRate * share)));
    const cur = this.current;
    const down = bitrateKbps < cur.bitrateKbps;
    const bigEnough = Math.abs(bitrateKbps - cur.bitrateKbps) >= cur.bitrateKbps * MIN_STEP || bitrateKbps === b.minKbps || bitrateKbps === b.maxKbps;
    const rateChange = bitrateKbps !== cur.bitrateKbps && bigEnough && now - this.lastChangeAt >= (down ? DOWN_AFTER_MS : UP_AFTER_MS);
    const fpsChange = frameRate !== cur.frameRate;
    if (!rateChange && !fpsChange) return undefined;
    if (rateChange) this.lastChangeAt = now;
    this.current = { bitrateKbps: rateChange ? bitrateKbps : cur.bitrateKbps, frameRate };
    return this.current;
  }
}
