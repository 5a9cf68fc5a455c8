import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Linux USER_HZ: /proc stat times are in 1/100 s */
const TICKS_PER_SECOND = 100;
/** Kernel wait channels of a program that is still working towards its result: a timed sleep, waiting for a child. */
const WORKING_WAITS = new Set(["hrtimer_nanosleep", "do_nanosleep", "do_wait", "kernel_wait4", "do_sys_wait4"]);
/**
 * A program younger than this is starting up: GTK apps wait on D-Bus and the window manager
 * with nothing on screen for a few hundred ms before they map their window (measured:
 * zenity maps 0.6-0.8 s after its start on a loaded 2-core machine).
 */
const STARTUP_GRACE_TICKS = 1.5 * TICKS_PER_SECOND;
/** Older processes in a row after which the newest-first scan stops (pids grow; a wrap-around is rare). */
const OLD_RUN = 16;

/**
 * Whether a program started on `display` at or after `sinceMs` (performance.now()) is still
 * working: younger than the startup grace, running, in disk wait, sleeping on a timer or
 * waiting for a child. A command like
 * `sleep 0.3; echo done` or an app starting up draws nothing for a while and is not finished:
 * settling waits for it. A program waiting for input (poll, select, read) is idle.
 * Reads /proc only (Linux); any error counts as idle, never as busy.
 */
export function programsWorking(display: string, sinceMs: number): boolean {
  let uptime: number;
  let pids: number[];
  try {
    uptime = Number.parseFloat(readFileSync("/proc/uptime", "utf8"));
    pids = readdirSync("/proc")
      .filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57)
      .map(Number)
      .sort((a, b) => b - a);
  } catch {
    return false;
  }
  // one tick of slack: start times are rounded to ticks
  const sinceTicks = (uptime - (performance.now() - sinceMs) / 1000) * TICKS_PER_SECOND - 1;
  const wanted = `DISPLAY=${display}\0`;
  let old = 0;
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // f[0] is field 3 (state); field 22 (starttime) is f[19]
      if (Number(f[19]) < sinceTicks) {
        if (++old >= OLD_RUN) return false;
        continue;
      }
      old = 0;
      const state = f[0];
      if (state === "Z" || state === "X") continue;
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").includes(wanted)) continue;
      if (state === "R" || state === "D") return true;
      if (uptime * TICKS_PER_SECOND - Number(f[19]) < STARTUP_GRACE_TICKS) return true;
      if (WORKING_WAITS.has(readFileSync(`/proc/${pid}/wchan`, "latin1").trim())) return true;
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return false;
}
