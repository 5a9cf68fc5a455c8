/** Shapes of the git API (`POST /v1/git/*`). Paths are resolved like the file API's, inside a volume when one is named. */

export interface GitTarget {
  /** the repository's folder (absolute, ~/..., or relative to the file API's base) */
  path?: string | null;
  volume?: string | null;
}

export interface GitInitRequest extends GitTarget {
  initialBranch?: string | null;
  bare?: boolean | null;
}

export interface GitCloneRequest extends GitTarget {
  url: string;
  /** the folder to clone into: `path` (created; must be empty or missing) */
  depth?: number | null;
  branch?: string | null;
  timeoutMs?: number | null;
}

export interface GitExecRequest extends GitTarget {
  args: string[];
  timeoutMs?: number | null;
  maxOutputBytes?: number | null;
}

export interface GitExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

export interface GitFileChange {
  path: string;
  /** the path before a rename or copy */
  from?: string;
  /** one porcelain letter: M modified, A added, D deleted, R renamed, C copied, T type changed, U unmerged */
  status: string;
}

export interface GitStatus {
  path: string;
  /** null on a detached HEAD */
  branch: string | null;
  /** null before the first commit */
  commit: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  staged: GitFileChange[];
  unstaged: GitFileChange[];
  untracked: string[];
  conflicted: string[];
  clean: boolean;
}

export interface Git {
  init(request: GitInitRequest): Promise<{ path: string; branch: string | null }>;
  clone(request: GitCloneRequest): Promise<{ path: string; branch: string | null; commit: string | null }>;
  status(request: GitTarget): Promise<GitStatus>;
  /** runs `git <args>` in the repository; a non-zero exit is a 422 problem with git's message */
  exec(request: GitExecRequest): Promise<GitExecResult>;
}
