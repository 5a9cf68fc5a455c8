import { once } from "node:events";
import { execa, type ResultPromise } from "execa";
import { sleep } from "../shared/deadline.js";
import { childCommand, deliver } from "./os.js";
import type { ProcessSpec, RunLimits, RunOutcome } from "./spec.js";
import { checkDescriptorsForSpawn, spawnFailure } from "./spawn-errors.js";

/**
 * Runs a command to completion in its own process group, capturing at most
 * `maxOutputBytes` of each stream. At the deadline the whole group is killed, so a
 * shell's children cannot keep the pipes (and the caller) waiting. `track` sees the
 * child while it runs (the manager kills what is in flight at shutdown).
 */
export async function runToCompletion(spec: Omit<ProcessSpec, "owner">, limits: RunLimits, track: Set<ResultPromise>): Promise<RunOutcome> {
  const began = performance.now();
  checkDescriptorsForSpawn(spec.command);
  const [file, args] = childCommand(spec.command, spec.args ?? []);
  const child = execa(file, args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: true,
    stdin: "ignore",
    buffer: false,
    reject: false,
    detached: true,
    windowsHide: true,
  });
  child.on("error", () => {}); // reported below, through the spawn race and the result
  track.add(child);
  try {
    const out = new CappedBuffer(limits.maxOutputBytes);
    const err = new CappedBuffer(limits.maxOutputBytes);
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on("exit", (code, signal) => (exit = { code, signal }));
    const spawned: true | Error = await Promise.race([
      once(child, "spawn").then(() => true as const),
      once(child, "error").then(([e]) => e as Error),
      // execa reports some refusals (a bad env, E2BIG) only as a failed result, with no event
      child.then((r) => (r.failed && !exit ? ((r.cause as Error | undefined) ?? new Error(r.shortMessage)) : (true as const))),
    ]);
    if (spawned !== true) {
      child.catch(() => undefined);
      throw spawnFailure(spec.command, spawned);
    }
    const finished = child.then(() => "done" as const);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), limits.timeoutMs)));
    const first = await Promise.race([finished, deadline]);
    clearTimeout(timer);
    const timedOut = first === "timeout" && !exit;
    if (first === "timeout" && child.pid) {
      deliver(child.pid, "SIGKILL", true);
      await Promise.race([finished, sleep(2000)]);
    }
    return {
      exitCode: timedOut ? null : (exit?.code ?? null),
      signal: exit?.signal ?? null,
      timedOut,
      stdout: out.bytes(),
      stderr: err.bytes(),
      stdoutTruncated: out.truncated,
      stderrTruncated: err.truncated,
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    track.delete(child);
    for (const s of [child.stdout, child.stderr]) s?.destroy();
  }
}

/** Keeps the first `max` bytes of a stream and notes whether more came. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(d: Buffer) {
    const room = this.max - this.size;
    if (d.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = d.length > room ? d.subarray(0, room) : d;
    this.chunks.push(part);
    this.size += part.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
