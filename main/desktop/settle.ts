import { performance } from "node:perf_hooks";
import type { ScreenDamage, ScreenWaitOptions, ScreenWaitResult } from "./types.js";

/**
 * Defaults, from measurement on Xvfb (scripts/bench-agent-step.ts): xterm echoes a key
 * within 2-10 ms and redraws a command's output in bursts under 40 ms apart; openbox maps
 * a menu within 5-20 ms. A screen silent for 120 ms after a change has finished that
 * reaction; an app silent for 150 ms after the action has not reacted at all.
 */
export const SETTLE_DEFAULTS = { quietMs: 120, firstChangeMs: 150, timeoutMs: 5000 } as const;

/**
 * Waits on the damage feed (never by comparing screenshots):
 * - `change`: until the screen (region) changes after `since`, or timeoutMs;
 * - `still`: until it has not changed for quietMs, or timeoutMs;
 * - `settled`: until it changed after `since` and then stayed still for quietMs; a screen
 *   that does not change within firstChangeMs of the call counts as settled. Bounded by timeoutMs.
 */
export function waitForScreen(damage: ScreenDamage, o: ScreenWaitOptions): Promise<ScreenWaitResult> {
  const start = performance.now();
  const since = o.since ?? start;
  const quietMs = o.quietMs ?? SETTLE_DEFAULTS.quietMs;
  const firstChangeMs = o.firstChangeMs ?? SETTLE_DEFAULTS.firstChangeMs;
  const timeoutMs = o.timeoutMs ?? SETTLE_DEFAULTS.timeoutMs;
  const region = o.region ?? undefined;
  let last = damage.lastChangeAt(region);
  let first = last !== undefined && last > since ? last : undefined;

  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (timedOut: boolean) => {
      off();
      clearTimeout(timer);
      const now = performance.now();
      resolve({
        changed: first !== undefined,
        timedOut,
        waitedMs: round(now - start),
        sinceLastChangeMs: last === undefined ? null : round(now - last),
      });
    };
    /** Decides now, or arms the timer for the next moment the answer can change. */
    const check = () => {
      const now = performance.now();
      const end = start + timeoutMs;
      let due: number;
      if (o.until === "change") {
        if (first !== undefined) return finish(false);
        due = end;
      } else if (o.until === "still" || first !== undefined) {
        const quietAt = Math.max(last ?? -Infinity, o.until === "still" ? -Infinity : since) + quietMs;
        if (now >= quietAt) return finish(false);
        due = Math.min(quietAt, end);
      } else {
        // the window opens when the wait does: a long batch has not used it up
        const giveUpAt = start + firstChangeMs;
        if (now >= giveUpAt) return finish(false);
        due = Math.min(giveUpAt, end);
      }
      if (now >= end) return finish(true);
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(0, due - now));
    };
    const off = damage.onChange((c) => {
      last = c.at;
      if (c.at > since) first ??= c.at;
      if (o.until === "change") check();
    }, region);
    check();
  });
}

const round = (ms: number) => Math.round(ms * 10) / 10;
