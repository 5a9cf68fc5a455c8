import type { ManagedProcess } from "./managed-process.js";
import { DEFAULT_PROCESS_CONFIG } from "./types.js";

export const DEFAULT_MAX_FINISHED_PROCESSES = DEFAULT_PROCESS_CONFIG.maxFinishedProcesses;
/** How long the runtime's own finished processes stay listed (for their logs and exit code). */
export const OWN_FINISHED_KEEP_MS = 60_000;

/**
 * Which finished processes to forget: the user's beyond the newest `max` (oldest exit
 * first), and the runtime's own (an ffmpeg that ended, an earlier Xvfb, an app that
 * exited) a minute after they ended; they are not the user's and would only pile up.
 * A supervised process between two restarts is never forgotten.
 */
export function processesToForget(all: Iterable<ManagedProcess>, max: number, now = Date.now()): ManagedProcess[] {
  const finished = [...all].filter((p) => p.status === "exited" && !p.supervised);
  const own = finished.filter((p) => p.spec.owner !== "user" && now - (p.exitedAtMs ?? now) >= OWN_FINISHED_KEEP_MS);
  const users = finished.filter((p) => p.spec.owner === "user").sort((a, b) => (a.exitedAtMs ?? 0) - (b.exitedAtMs ?? 0));
  return [...own, ...users.slice(0, Math.max(0, users.length - max))];
}
