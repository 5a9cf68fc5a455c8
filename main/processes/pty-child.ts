import { spawn as spawnPty, type IPty } from "node-pty";
import type { Child, ChildStarter } from "./child.js";
import { signalName } from "./os.js";
import { checkDescriptorsForSpawn, spawnFailure } from "./spawn-errors.js";

/** A child on a pseudo-terminal (node-pty): one `pty` output stream, input, resize and flow control. */
export const startPtyChild: ChildStarter = async (spec, { file, args, cols, rows }, sink) => {
  checkDescriptorsForSpawn(spec.command);
  let proc: IPty;
  try {
    proc = spawnPty(file, args, {
      name: "xterm-256color",
      cols,
      rows,
      cwd: spec.cwd ?? process.cwd(),
      env: { ...process.env, TERM: "xterm-256color", ...spec.env } as Record<string, string>,
      encoding: null, // raw bytes: a terminal may carry anything
    });
  } catch (err) {
    throw spawnFailure(spec.command, err as Error, " on a terminal");
  }
  proc.onData((d) => sink.output("pty", Buffer.from(d as unknown as Buffer)));
  proc.onExit(({ exitCode, signal }) => {
    release();
    sink.exit(signal ? null : exitCode, signal ? (signalName(signal) as NodeJS.Signals) : null);
  });
  // node-pty keeps the master side open until its socket is destroyed
  const release = () => (proc as unknown as { _socket?: { destroy(): void } })._socket?.destroy();
  const child: Child = {
    kind: "pty",
    pid: proc.pid,
    // a tty child leads its own session, so its group is everything it started
    group: true,
    writable: true,
    write(data) {
      proc.write(data as unknown as string);
      return data.length;
    },
    kill: (signal) => proc.kill(signal),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    resize: (c, r) => proc.resize(c, r),
    release,
  };
  return child;
};
