import { performance } from "node:perf_hooks";
import type { ScreenDamage, ScreenWaitOptions, ScreenWaitResult } from "./types.js";

/**
 * Defaults, from measurement on Xvfb (npm run bench:agent-step): xterm redraws a command's
 * output 2-6 ms after Return and openbox maps its menu 2 ms after the click, Glasspane adds
 * 8 ms (capture, encode, HTTP). quietMs leaves room for toolkits that draw over several
 * frames; longer pauses inside a reaction (a command that sleeps, an app starting) are
 * covered by the programs-at-work check (activity.ts), not by quietMs. firstChangeMs is how
 * long a step waits for any reaction at all.
 */
export const SETTLE_DEFAULTS = { quietMs: 120, firstChangeMs: 150, timeoutMs: 5000 } as const;

/**
 * Waits on the damage feed (never by comparing screenshots):
 * - `change`: until the screen (region) changes after `since`, or timeoutMs;
 * - `still`: until it has not changed for quietMs, or timeoutMs;
 * - `settled`: until it changed after `since` and then stayed still for quietMs; a screen
 *   that does not change within firstChangeMs of the call counts as settled. Bounded by timeoutMs.
 *   While `working(since)` says a program started by the actions is still at work (a
 *   command sleeping, an app starting), the screen is not settled yet however still it is.
 */
export function waitForScreen(damage: ScreenDamage, o: ScreenWaitOptions, working?: (since: number) => boolean): Promise<ScreenWaitResult> {
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
    /** when a program the actions started was last seen at work */
    let workedAt = -Infinity;
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
    /** Settled by the screen; but not while a program the actions started is still at work. */
    const settledNow = () => {
      if (o.until !== "settled" || !working || performance.now() >= start + timeoutMs || !working(since)) return finish(false);
      // the end of the work counts like a change: its output follows it
      workedAt = performance.now();
      clearTimeout(timer);
      timer = setTimeout(check, WORKING_POLL_MS);
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
        const quietAt = Math.max(last ?? -Infinity, o.until === "still" ? -Infinity : since, workedAt) + quietMs;
        if (now >= quietAt) return settledNow();
        due = Math.min(quietAt, end);
      } else {
        // the window opens when the wait does: a long batch has not used it up
        const giveUpAt = Math.max(start, workedAt) + firstChangeMs;
        if (now >= giveUpAt) return settledNow();
        due = Math.min(giveUpAt, end);
      }
      if (now >= end) return finish(true);
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(0, due - now));
    };
    const off = damage.onChange((c) => {
      last = c.at;
      const isFirst = first === undefined && c.at > since;
      if (isFirst) first = c.at;
      // the first change decides "change" and moves "settled" from the first-change window to the quiet window
      if (isFirst && o.until !== "still") check();
    }, region);
    check();
  });
}

/** How often a settled-looking screen re-asks whether programs are still at work. */
const WORKING_POLL_MS = 15;

const round = (ms: number) => Math.round(ms * 10) / 10;
