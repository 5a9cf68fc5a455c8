import { existsSync, readFileSync, rmSync } from "node:fs";
import { GlasspaneError } from "../shared/errors.js";
import { processAlive } from "../shared/process.js";

/**
 * X display numbers taken by this process. Lock files alone cannot keep two desktops that
 * start at the same moment apart (neither Xvfb has written its lock yet), so a number is
 * claimed here first and consulted before the lock files.
 */
export class DisplayNumbers {
  private readonly taken = new Set<number>();

  /** The first number >= `from` that no desktop here holds and no live X server locks; held until `release`. */
  claim(from: number): number {
    for (let n = from; n < from + 200; n++) {
      if (this.taken.has(n) || !lockFree(n)) continue;
      this.taken.add(n);
      return n;
    }
    throw new GlasspaneError("desktop_start_failed", 502, `no free X display found from :${from} to :${from + 199}`);
  }

  release(n: number): void {
    this.taken.delete(n);
  }
}

/** Whether display `n` has no live server's lock file (a stale one is removed). */
function lockFree(n: number): boolean {
  const lock = `/tmp/.X${n}-lock`;
  if (existsSync(lock)) {
    const pid = Number.parseInt(readFileSync(lock, "utf8").trim(), 10);
    if (pid > 0 && processAlive(pid)) return false;
    // a dead server's socket would pass for the new server's before it listens
    rmSync(`/tmp/.X11-unix/X${n}`, { force: true });
    rmSync(lock, { force: true });
    return true;
  }
  return !existsSync(`/tmp/.X11-unix/X${n}`);
}
