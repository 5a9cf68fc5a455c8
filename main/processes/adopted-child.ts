import type { Child, ChildSink } from "./child.js";
import { pidStartTicks } from "./os.js";

/**
 * A process found alive after a server restart (same pid, same start time): signals
 * reach it and it is watched until it exits, but its output and exit code are lost.
 */
export function adoptChild(pid: number, startTicks: number, group: boolean, sink: ChildSink): Child {
  const timer = setInterval(() => {
    if (pidStartTicks(pid) === startTicks) return;
    clearInterval(timer);
    sink.exit(null, null, "exited (code unknown: adopted after a server restart)");
  }, 500);
  timer.unref();
  return {
    kind: "adopted",
    pid,
    group,
    writable: false,
    write() {
      throw new Error("an adopted process takes no input");
    },
    kill() {},
    pause() {},
    resume() {},
    resize() {},
    release: () => clearInterval(timer),
  };
}
