import fsp from "node:fs/promises";
import path from "node:path";
import { makeDirectory } from "../shared/directories.js";
import { withDeadline } from "../shared/deadline.js";
import { GlasspaneError, invalid } from "../shared/errors.js";

/**
 * Makes the desktop's state directory and its HOME (with an openbox autostart file the user
 * may edit) before the desktop changes state, so a path that cannot be one (NUL, too long,
 * a regular file, a symlink loop, /proc) is a 400 and the status stays what it was.
 * Returns the HOME.
 */
export async function prepareStateDir(stateDir: string): Promise<string> {
  if (stateDir.includes("\0")) throw invalid("stateDir must not contain NUL bytes");
  // relative to what? the server's working directory is no place a caller knows
  if (!path.isAbsolute(stateDir)) throw invalid(`stateDir must be an absolute path (got "${stateDir}")`);
  const home = path.join(stateDir, "home");
  try {
    await withDeadline(makeDirectory(path.join(home, ".config", "openbox"), "stateDir"), 10_000, `creating ${stateDir}`);
    const autostart = path.join(home, ".config", "openbox", "autostart");
    // "wx": an autostart the user edited stays as it is
    await fsp.writeFile(autostart, "# Commands run when the Glasspane desktop starts, one per line, ending with &\n", { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  } catch (err) {
    if (err instanceof GlasspaneError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOTDIR" ? "a part of it is a file, not a directory"
      : code === "ELOOP" ? "it leads into a loop of symbolic links"
      : code === "ENAMETOOLONG" ? "a name in it is too long"
      : code === "EACCES" || code === "EPERM" || code === "EROFS" ? "the server may not write there"
      : (err as Error).message;
    throw invalid(`stateDir ${stateDir} cannot hold the desktop's state: ${why}`, { errno: code });
  }
  return home;
}
