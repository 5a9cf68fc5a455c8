import fsp from "node:fs/promises";
import path from "node:path";
import which from "which";
import type { ProcessManager, RunOutcome } from "../processes/manager.js";
import { GlasspaneError, invalid } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import type { Volumes } from "../volumes/types.js";
import { redactCredentials } from "./redact.js";
import { parsePorcelainV2 } from "./status-parser.js";
import type { Git, GitCloneRequest, GitExecRequest, GitExecResult, GitInitRequest, GitStatus, GitTarget } from "./types.js";

/** Deadline of the short commands (init, status, rev-parse); clone and exec take theirs from the request. */
const QUICK_MS = 30_000;
const CLONE_MS = 300_000;
/** git never asks on a terminal it does not have, nor pops up an askpass window on the desktop. */
const GIT_ENV: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", SSH_ASKPASS: "/bin/false", GCM_INTERACTIVE: "never", LC_ALL: "C" };

/**
 * git through Debian's git binary, every child run by the process manager (own process
 * group, killed at its deadline and on shutdown, output capped). simple-git would spawn
 * git itself, outside the process manager, so it is not used; status is git's own
 * machine format (porcelain v2), parsed in status-parser.ts.
 */
export class GitService implements Git {
  private readonly binary = which.sync("git", { nothrow: true });

  constructor(
    private readonly processes: ProcessManager,
    private readonly volumes: Volumes,
  ) {}

  async init(request: GitInitRequest) {
    const dir = await this.dir(request, true);
    const args = ["init", "--quiet"];
    if (request.initialBranch) args.push(`--initial-branch=${refName(request.initialBranch)}`);
    if (request.bare) args.push("--bare");
    await this.git(dir, args, QUICK_MS);
    const head = await this.git(dir, ["symbolic-ref", "--short", "HEAD"], QUICK_MS).catch(() => undefined);
    return { path: dir, branch: head?.stdout.trim() || null };
  }

  async clone(request: GitCloneRequest) {
    const dest = await this.dir(request, true);
    if ((await fsp.readdir(dest)).length > 0) throw new GlasspaneError("conflict", 409, `${dest} is not empty; clone into a new or empty folder`);
    const args = ["clone", "--quiet"];
    if (request.depth) args.push("--depth", String(request.depth));
    if (request.branch) args.push("--branch", refName(request.branch));
    // "--" then the URL: a URL starting with "-" cannot become an option (e.g. --upload-pack)
    args.push("--", request.url, ".");
    try {
      await this.git(dest, args, Math.min(request.timeoutMs ?? CLONE_MS, LIMITS.gitTimeoutMs.max));
    } catch (err) {
      // leave the folder as it was asked for: empty
      for (const entry of await fsp.readdir(dest).catch(() => [])) await fsp.rm(path.join(dest, entry), { recursive: true, force: true });
      throw err;
    }
    const head = await this.git(dest, ["rev-parse", "--abbrev-ref", "HEAD"], QUICK_MS).catch(() => undefined);
    const commit = await this.git(dest, ["rev-parse", "HEAD"], QUICK_MS).catch(() => undefined);
    return { path: dest, branch: head?.stdout.trim() || null, commit: commit?.stdout.trim() || null };
  }

  async status(request: GitTarget): Promise<GitStatus> {
    const dir = await this.dir(request, false);
    const out = await this.git(dir, ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"], QUICK_MS);
    return parsePorcelainV2(out.stdout, dir);
  }

  async exec(request: GitExecRequest): Promise<GitExecResult> {
    const dir = await this.dir(request, false);
    if (request.args.length > LIMITS.gitArgs.max) throw invalid(`at most ${LIMITS.gitArgs.max} arguments`);
    const timeoutMs = Math.min(request.timeoutMs ?? LIMITS.gitTimeoutMs.default, LIMITS.gitTimeoutMs.max);
    const maxOutputBytes = Math.min(request.maxOutputBytes ?? LIMITS.gitOutputBytes.default, LIMITS.gitOutputBytes.max);
    return this.git(dir, request.args, timeoutMs, maxOutputBytes);
  }

  private async dir(target: GitTarget, create: boolean): Promise<string> {
    return this.volumes.fs(target.volume).resolveDirectory(target.path, create);
  }

  /** Runs git under the process manager; a failure or a timeout is a problem naming git's (redacted) message. */
  private async git(cwd: string, args: string[], timeoutMs: number, maxOutputBytes: number = LIMITS.gitOutputBytes.default): Promise<GitExecResult> {
    if (!this.binary) throw new GlasspaneError("internal", 500, "git is not installed (Debian package git; scripts/setup.sh installs it)");
    for (const a of args) if (typeof a !== "string" || a.includes("\0") || a.length > LIMITS.gitArgLength.max) throw invalid(`a git argument is not a string of at most ${LIMITS.gitArgLength.max} characters without NUL`);
    const outcome: RunOutcome = await this.processes.run({ name: "git", command: this.binary, args, cwd, env: { ...(process.env as Record<string, string>), ...GIT_ENV } }, { timeoutMs, maxOutputBytes });
    const shown = redactCredentials(`git ${args.join(" ")}`);
    const stderr = redactCredentials(outcome.stderr.toString("utf8"));
    const stdout = redactCredentials(outcome.stdout.toString("utf8"));
    if (outcome.timedOut) throw new GlasspaneError("timeout", 504, `${shown} did not finish within ${timeoutMs} ms and was killed`, { stderr, stdout });
    if (outcome.exitCode !== 0) {
      const message = stderr.trim() || stdout.trim() || `exit code ${outcome.exitCode ?? `signal ${outcome.signal}`}`;
      throw new GlasspaneError("git_failed", 422, `${shown} failed: ${message}`, { exitCode: outcome.exitCode, stderr, stdout });
    }
    return { exitCode: 0, stdout, stderr, stdoutTruncated: outcome.stdoutTruncated, stderrTruncated: outcome.stderrTruncated, durationMs: outcome.durationMs };
  }
}

function refName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name) || name.includes("..")) throw invalid(`"${name}" is not a usable branch name`);
  return name;
}
