import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxAgent } from "sandbox-agent";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface TestServer {
  url: string;
  token: string | undefined;
  sdk: SandboxAgent;
  child: ChildProcess;
  stateDir: string;
  /** everything the server printed so far (stdout and stderr) */
  output(): string;
  /** fetch against the server with the token applied */
  fetch(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * Starts `glasspane server` exactly as a user does (the bin script, a free port, its own
 * state directory) and connects the published sandbox-agent SDK to it.
 */
export async function startServer(
  opts: { token?: string; desktop?: boolean; args?: string[]; env?: NodeJS.ProcessEnv; stateDir?: string; /** like `ulimit -n` */ maxOpenFiles?: number } = {},
): Promise<TestServer> {
  // a given state directory belongs to the caller (e.g. to restart on it) and is kept
  const ownsStateDir = !opts.stateDir;
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), "glasspane-test-"));
  const args = [path.join(repoRoot, "bin", "glasspane.js"), "server", "--port", "0", "--state-dir", stateDir];
  args.push(...(opts.token ? ["--token", opts.token] : ["--no-token"]));
  if (opts.desktop) args.push("--desktop");
  args.push(...(opts.args ?? []));
  const [file, argv] = opts.maxOpenFiles ? ["prlimit", [`--nofile=${opts.maxOpenFiles}`, "--", process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${output}`)), 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const sdk = await SandboxAgent.connect({ baseUrl: url, token: opts.token, waitForHealth: { timeoutMs: 10_000 } } as any);
  const headers: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  return {
    url,
    token: opts.token,
    sdk,
    child,
    stateDir,
    output: () => output,
    fetch: (p, init = {}) => fetch(url + p, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) }, signal: init.signal ?? AbortSignal.timeout(30_000) }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 8000);
        await exited;
        clearTimeout(killer);
      }
      if (ownsStateDir && !process.env.GLASSPANE_KEEP_TEST_STATE) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true; fails the test with `what` after `ms`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 10_000, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
