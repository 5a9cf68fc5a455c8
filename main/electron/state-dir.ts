import os from "node:os";
import path from "node:path";

/**
 * The app's own state directory, never the one `glasspane server` and the daemon use by
 * default: two runtimes on one directory would adopt and kill each other's processes.
 * `GLASSPANE_APP_STATE_DIR` overrides it; otherwise `$XDG_STATE_HOME/glasspane-app`.
 */
export function appStateDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  if (env.GLASSPANE_APP_STATE_DIR) return path.resolve(env.GLASSPANE_APP_STATE_DIR);
  const base = env.XDG_STATE_HOME || path.join(home, ".local", "state");
  return path.join(base, "glasspane-app");
}
