import { copyFileSync, fstatSync, ftruncateSync, readlinkSync } from "node:fs";
import { RUNTIME_LOG_MAX_BYTES } from "../shared/bounded-log.js";

/**
 * Keeps the server's own output file (the daemon log, or `glasspane server > file`)
 * within RUNTIME_LOG_MAX_BYTES: once stdout is a regular file past half of it, the file
 * is copied to `<file>.1` and emptied. The file is opened for appending (the daemon does),
 * so writes after the truncation start at its new end.
 */
export function capOutputFile(checkEveryMs = 30_000): void {
  let target: string;
  try {
    if (!fstatSync(1).isFile()) return;
    target = readlinkSync("/proc/self/fd/1");
  } catch {
    return;
  }
  const check = () => {
    try {
      if (fstatSync(1).size <= RUNTIME_LOG_MAX_BYTES / 2) return;
      copyFileSync(target, `${target}.1`);
      ftruncateSync(1, 0);
    } catch {
      // a log that cannot be trimmed must not stop the server
    }
  };
  check();
  setInterval(check, checkEveryMs).unref();
}
