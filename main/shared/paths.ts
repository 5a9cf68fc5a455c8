import os from "node:os";
import path from "node:path";

/** `$XDG_STATE_HOME/glasspane`, default `~/.local/state/glasspane` (DESIGN.md decision 9). */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state");
  return path.join(base, "glasspane");
}
