import { readdirSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import which from "which";
import { sleep } from "../shared/deadline.js";
import { GlasspaneError } from "../shared/errors.js";

const setpriv = which.sync("setpriv", { nothrow: true });
const bash = which.sync("bash", { nothrow: true });

/**
 * Closes every descriptor above stderr before the program runs. node-pty opens each
 * terminal's /dev/ptmx without close-on-exec, and Node offers no fcntl, so without this
 * every later child could read and type into earlier terminals, and keep them open
 * after the runtime died. `exec` keeps the pid the program's own.
 */
const CLOSE_INHERITED = 'for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec "$@"';

/**
 * How a child is started: with its inherited descriptors closed (above), and with the
 * parent-death signal set, so it does not outlive a runtime that is killed outright
 * (SIGKILL, OOM; a leftover Xvfb would hold its display). util-linux's setpriv sets the
 * signal and then execs, so the pid stays the child's own.
 */
export function childCommand(command: string, args: string[], pathEnv?: string): [string, string[]] {
  // the wrappers always start and only then fail to exec a missing program, which would
  // look like a successful start followed by a crash: look a bare name up first
  if ((bash || setpriv) && !command.includes("/") && !which.sync(command, { nothrow: true, path: pathEnv ?? process.env.PATH })) {
    throw new GlasspaneError("internal", 502, `cannot start ${command}: it is not installed (not found on PATH)`);
  }
  let [file, argv] = [command, args];
  if (bash) [file, argv] = [bash, ["-c", CLOSE_INHERITED, "glasspane-exec", file, ...argv]];
  if (setpriv) [file, argv] = [setpriv, ["--pdeathsig", "TERM", "--", file, ...argv]];
  return [file, argv];
}

/**
 * Start time of a pid in clock ticks since boot, or null when it is gone or a zombie (it
 * has exited; only its parent has not reaped it yet): a pid plus this names one process.
 */
export function pidStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may hold spaces and parentheses: count from the last ")"
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** The process state letter of /proc/<pid>/stat (R, S, T for stopped, Z ...), or null when gone. */
export function pidState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

export function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

/** Whether a group still has a member. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to a process or its whole group; false when nothing was there to receive it. */
export function deliver(pid: number, signal: NodeJS.Signals, group: boolean): boolean {
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch {
    if (!group) return false;
    return deliver(pid, signal, false);
  }
}

/** Whether a spawn or open failed because the process or the system ran out of descriptors. */
export function isDescriptorExhaustion(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = (err as Error | undefined)?.message ?? "";
  return code === "EMFILE" || code === "ENFILE" || /\bE[MN]FILE\b/.test(message);
}

/** Descriptors a spawn may need at once (three pipes, both ends) plus room for the server's own work. */
const SPAWN_HEADROOM = 24;

/**
 * Whether the runtime has descriptors to spare for a spawn. Checked before spawning
 * because a spawn that hits EMFILE inside Node leaves an 'error' on a child object execa
 * never hands out, which would take the whole server down.
 */
export function descriptorsLeft(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    if (!line || line === "unlimited") return Number.POSITIVE_INFINITY;
    return Number(line) - readdirSync("/proc/self/fd").length;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export function enoughDescriptorsToSpawn(): boolean {
  return descriptorsLeft() > SPAWN_HEADROOM;
}

/** The environment variable that marks everything a managed process started, whatever group or session it moved to. */
export const MARKER_VARIABLE = "GLASSPANE_PROCESS";

/**
 * Pids of live processes whose environment carries `GLASSPANE_PROCESS=<marker>` (only
 * ours are readable); a marker ending in ":" matches every value that starts with it.
 */
export function markedProcesses(marker: string): number[] {
  const needle = Buffer.from(`${MARKER_VARIABLE}=${marker}${marker.endsWith(":") ? "" : "\0"}`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`);
      const at = env.indexOf(needle);
      if (at === 0 || (at > 0 && env[at - 1] === 0)) found.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return found.filter((pid) => pidStartTicks(pid) !== null);
}

/**
 * Ends what a managed process left behind: its process group, and every process that
 * inherited its marker (helpers that moved to their own session, such as a dbus-daemon
 * an openbox autostart forked). SIGTERM first, SIGKILL after `graceMs`.
 */
export async function endDescendants(pgid: number | null, marker: string | null, graceMs: number): Promise<void> {
  const left = () => [...(marker ? markedProcesses(marker) : []), ...(pgid && groupAlive(pgid) ? [-pgid] : [])];
  const first = left();
  if (first.length === 0) return;
  for (const target of first) deliver(Math.abs(target), "SIGTERM", target < 0);
  const deadline = Date.now() + graceMs;
  while (left().length > 0 && Date.now() < deadline) await sleep(50);
  for (const target of left()) deliver(Math.abs(target), "SIGKILL", target < 0);
}
