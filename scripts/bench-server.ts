import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Starts `glasspane server --no-token` on a free port with its own state directory, as a
 * user would (the bin script); resolves with its base URL once it listens (30 s deadline).
 */
export async function startGlasspane(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ server: ChildProcess; base: string }> {
  const server = spawn(process.execPath, [path.join(repoRoot, "bin", "glasspane.js"), "server", "--port", "0", "--no-token", "--state-dir", stateDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      server.kill("SIGKILL");
      reject(new Error(`server did not start within 30 s: ${out}`));
    }, 30_000);
    server.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
  return { server, base };
}
