import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { pidStartTicks } from "../processes/os.js";
import { GlasspaneError } from "../shared/errors.js";

export interface StateLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid: number;
  startTicks: number | null;
  since: string;
}

/**
 * One runtime per state directory (DESIGN.md, decision 11): two would adopt and kill each
 * other's processes and hand out the same ids. The lock file names its holder by pid and
 * start time, so a lock left by a runtime that died is taken over, never one that lives.
 */
/** Lock files this process holds: a second runtime in the same process is refused too. */
const held = new Set<string>();

export function lockStateDir(stateDir: string): StateLock {
  const file = path.join(path.resolve(stateDir), "glasspane.lock");
  if (held.has(file)) {
    throw new GlasspaneError("conflict", 409, `the state directory ${stateDir} is in use by another Glasspane runtime (PID ${process.pid}, this process); stop it, or give this one another --state-dir`);
  }
  const me: Holder = { pid: process.pid, startTicks: pidStartTicks(process.pid), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readHolder(file);
      if (holder && holder.startTicks !== null && pidStartTicks(holder.pid) === holder.startTicks) {
        throw new GlasspaneError(
          "conflict",
          409,
          `the state directory ${stateDir} is in use by another Glasspane runtime (PID ${holder.pid}, since ${holder.since}); stop it, or give this one another --state-dir`,
        );
      }
      // left by a runtime that is gone (or half written by one starting right now: retry)
      if (holder || attempt > 1) rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    held.add(file);
    return {
      path: file,
      release() {
        if (!held.delete(file)) return;
        if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
      },
    };
  }
  throw new GlasspaneError("conflict", 409, `cannot lock the state directory ${stateDir} (${file} keeps coming back)`);
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, "utf8")) as Holder;
    return typeof h.pid === "number" ? h : undefined;
  } catch {
    return undefined;
  }
}
