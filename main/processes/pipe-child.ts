import { once } from "node:events";
import { finished } from "node:stream/promises";
import { execa, type ResultPromise } from "execa";
import { conflict } from "../shared/errors.js";
import { sleep } from "../shared/deadline.js";
import type { Child, ChildStarter } from "./child.js";
import { LineSplitter } from "./lines.js";
import { checkDescriptorsForSpawn, spawnFailure } from "./spawn-errors.js";

/** A child on plain pipes (execa): stdout and stderr are read, stdin is open when the spec asks. */
export const startPipeChild: ChildStarter = async (spec, { file, args }, sink) => {
  checkDescriptorsForSpawn(spec.command);
  const proc = execa(file, args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: true,
    stdin: spec.stdin ? "pipe" : "ignore",
    buffer: false,
    reject: false,
    cleanup: true,
    detached: spec.processGroup ?? false,
    windowsHide: true,
  });
  proc.on("error", () => {}); // reported below, through the spawn race and the result
  let lastOutputAt = 0;
  // framed stdio: whole stdout lines go to the spec's callback, not to the log
  const lines = spec.stdoutLines ? new LineSplitter(spec.stdoutLines) : undefined;
  proc.stdout?.on("data", (d: Buffer) => {
    lastOutputAt = Date.now();
    if (lines) lines.push(d);
    else sink.output("stdout", d);
  });
  if (lines) proc.stdout?.on("end", () => lines.flush());
  proc.stderr?.on("data", (d: Buffer) => {
    lastOutputAt = Date.now();
    sink.output("stderr", d);
  });
  proc.stdin?.on("error", () => {}); // EPIPE when the child has closed its end
  const spawned: true | Error = await Promise.race([
    once(proc, "spawn").then(() => true as const),
    once(proc, "error").then(([err]) => err as Error),
    // execa reports some refusals (a bad env, E2BIG) only as a failed result, with no event
    proc.then((r) => (r.failed ? ((r.cause as Error | undefined) ?? new Error(r.shortMessage)) : (true as const))),
  ]);
  const release = () => {
    for (const s of [proc.stdin, proc.stdout, proc.stderr]) s?.destroy();
  };
  if (spawned !== true) {
    release();
    proc.catch(() => undefined);
    throw spawnFailure(spec.command, spawned);
  }
  proc.on("exit", (code, signal) => void drain(proc, () => lastOutputAt).then(() => sink.exit(code, signal)));
  const child: Child = {
    kind: "pipe",
    pid: proc.pid ?? null,
    group: spec.processGroup ?? false,
    get writable() {
      return !!proc.stdin && !proc.stdin.destroyed && !proc.stdin.writableEnded;
    },
    write(data) {
      const stdin = proc.stdin;
      if (!stdin || stdin.destroyed || stdin.writableEnded) throw conflict(`process has no open stdin`);
      // Queue without waiting for the child to read (it may never): refuse more while a
      // full pipe is still holding earlier input back, so the queue stays bounded.
      if (stdin.writableNeedDrain) throw conflict(`the process is not reading its input (${stdin.writableLength} bytes still queued)`);
      stdin.write(data);
      return data.length;
    },
    stdin: proc.stdin,
    kill: (signal) => void proc.kill(signal),
    pause() {},
    resume() {},
    resize() {},
    release,
  };
  return child;
};

/**
 * 'exit' may come before the last output has been read. Waits until the pipes have
 * closed, or have been quiet for a moment (a daemon the command left behind may hold
 * them open for good), or at most a few seconds.
 */
async function drain(proc: ResultPromise, lastOutputAt: () => number) {
  const closed = Promise.all([proc.stdout, proc.stderr].map((s) => (s && !s.readableEnded ? finished(s).catch(() => undefined) : undefined)));
  let done = false;
  void closed.then(() => (done = true));
  const end = Date.now() + 5000;
  await Promise.race([closed, sleep(100)]);
  while (!done && Date.now() < end && Date.now() - lastOutputAt() < 200) await Promise.race([closed, sleep(50)]);
}
