import type { GitFileChange, GitStatus } from "./types.js";

/**
 * Parses `git status --porcelain=v2 --branch -z`, git's documented machine format (stable
 * across git versions, NUL-separated so no path needs unquoting). See git-status(1),
 * "Porcelain Format Version 2".
 */
export function parsePorcelainV2(output: string, repoPath: string): GitStatus {
  const status: GitStatus = { path: repoPath, branch: null, commit: null, upstream: null, ahead: 0, behind: 0, staged: [], unstaged: [], untracked: [], conflicted: [], clean: true };
  const fields = output.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const record = fields[i]!;
    if (record === "") continue;
    if (record.startsWith("# ")) {
      const [, key, ...rest] = record.split(" ");
      const value = rest.join(" ");
      if (key === "branch.oid") status.commit = value === "(initial)" ? null : value;
      else if (key === "branch.head") status.branch = value === "(detached)" ? null : value;
      else if (key === "branch.upstream") status.upstream = value;
      else if (key === "branch.ab") {
        const m = /^\+(\d+) -(\d+)$/.exec(value);
        if (m) [status.ahead, status.behind] = [Number(m[1]), Number(m[2])];
      }
      continue;
    }
    const kind = record[0];
    if (kind === "?") status.untracked.push(record.slice(2));
    else if (kind === "1") {
      // 1 <XY> <sub> <mH> <mI> <mW> <hH> <hI> <path>
      const parts = splitFields(record, 8);
      addChange(status, parts[1]!, { path: parts[8]! });
    } else if (kind === "2") {
      // 2 <XY> <sub> <mH> <mI> <mW> <hH> <hI> <X><score> <path>, then the original path as the next field
      const parts = splitFields(record, 9);
      addChange(status, parts[1]!, { path: parts[9]!, from: fields[++i] });
    } else if (kind === "u") {
      // u <XY> <sub> <m1> <m2> <m3> <mW> <h1> <h2> <h3> <path>
      status.conflicted.push(splitFields(record, 10)[10]!);
    }
    // "!" (ignored) is not asked for
  }
  status.clean = status.staged.length + status.unstaged.length + status.untracked.length + status.conflicted.length === 0;
  return status;
}

/** Splits off the first `n` space-separated fields; the rest (a path, which may hold spaces) is the last element. */
function splitFields(record: string, n: number): string[] {
  const out: string[] = [];
  let rest = record;
  for (let k = 0; k < n; k++) {
    const at = rest.indexOf(" ");
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

function addChange(status: GitStatus, xy: string, change: Omit<GitFileChange, "status">) {
  const [x, y] = [xy[0]!, xy[1]!];
  const clean = (c: GitFileChange) => (c.from === undefined ? { path: c.path, status: c.status } : c);
  if (x !== ".") status.staged.push(clean({ ...change, status: x }));
  if (y !== ".") status.unstaged.push({ path: change.path, status: y });
}
