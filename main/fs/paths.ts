import path from "node:path";
import { invalid, GlasspaneError } from "../shared/errors.js";

/**
 * How a caller's path becomes an absolute one. Absolute paths are used as they are;
 * `~` and `~/...` expand to `home`; other relative paths resolve against `base` and may
 * not climb out of it. With a `root`, every result must also lie inside the root.
 */
export interface PathPolicy {
  home: string;
  /** where relative paths and "no path given" point: the root when set, else the home */
  base: string;
  root?: string;
}

const MAX_PATH = 4096;

export function resolvePath(input: string, policy: PathPolicy): string {
  if (typeof input !== "string" || input.length === 0) throw invalid("path must be a non-empty string");
  if (input.includes("\0")) throw invalid("path must not contain NUL bytes");
  if (input.length > MAX_PATH) throw invalid(`path is longer than ${MAX_PATH} characters`);
  let resolved: string;
  if (input === "~" || input.startsWith("~/")) {
    resolved = path.resolve(policy.home, input.slice(2));
  } else if (input.startsWith("~")) {
    throw invalid(`"${input}": only "~" and "~/..." (the server user's home) are expanded; ~user is not supported`);
  } else if (path.isAbsolute(input)) {
    resolved = path.resolve(input);
  } else {
    resolved = path.resolve(policy.base, input);
    if (!isWithin(policy.base, resolved)) {
      throw invalid(`relative path "${input}" climbs out of ${policy.base}; use an absolute path`);
    }
  }
  if (policy.root !== undefined && !isWithin(policy.root, resolved)) throw outsideRoot(input, policy.root);
  return resolved;
}

export function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

export function outsideRoot(input: string, root: string): GlasspaneError {
  return new GlasspaneError("permission_denied", 403, `"${input}" lies outside the file-system root ${root}`);
}
