import type { Desktop } from "../desktop/types.js";
import { withDeadline } from "../shared/deadline.js";
import { GlasspaneError } from "../shared/errors.js";
import type { ReadinessCheck } from "../http/routes/health.js";

/** A ready desktop answers a 1x1 screenshot well within this. */
const READY_SCREENSHOT_DEADLINE_MS = 2_000;

/**
 * Ready means the server listens (it answers at all) and, when a desktop was asked for at
 * boot (`--desktop`), that desktop is active and answers a 1x1 screenshot in time.
 */
export function readinessCheck(desktop: Desktop, desktopAtBoot: boolean): ReadinessCheck {
  return async () => {
    if (!desktopAtBoot) return { ready: true };
    try {
      await withDeadline(
        desktop.screenshot({ format: "png", quality: 80, scale: 1, showCursor: false }, { x: 0, y: 0, width: 1, height: 1 }),
        READY_SCREENSHOT_DEADLINE_MS,
        "a 1x1 screenshot of the desktop",
      );
      return { ready: true };
    } catch (err) {
      // a desktop that is not active refuses at once: say which state it is in
      const timedOut = err instanceof GlasspaneError && err.code === "timeout";
      const status = timedOut ? undefined : await withDeadline(desktop.status(), READY_SCREENSHOT_DEADLINE_MS, "the desktop's status").catch(() => undefined);
      const state = status ? `the desktop is ${status.state}` : "the desktop does not answer";
      return { ready: false, reason: `${state} (${(err as Error).message})` };
    }
  };
}
