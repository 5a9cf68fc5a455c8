import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Starts `glasspane server --no-token` on a free port with its own state directory, as a
 * user would (the bin script); resolves with its base URL once it listens (30 s deadline).
 */
export async function startGlasspane(stateDir: string, env: NodeJS.ProcessEnv = process.env, args: string[] = []): Promise<{ server: ChildProcess; base: string }> {
  const server = spawn(process.execPath, [path.join(repoRoot, "bin", "glasspane.js"), "server", "--port", "0", "--no-token", "--state-dir", stateDir, ...args], {
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

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The reference server's binary (`sandbox-agent`, from the @sandbox-agent/cli dev dependency). */
export function referenceBinary(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve("@sandbox-agent/cli-linux-x64/package.json")), "bin", "sandbox-agent");
  } catch {
    throw new Error("the reference server is not installed: npm install (devDependency @sandbox-agent/cli pulls @sandbox-agent/cli-linux-x64)");
  }
}

/** Starts the reference `sandbox-agent server` on `port` with HOME = `stateDir` (its state goes there). */
export function spawnReference(port: number, stateDir: string): ChildProcess {
  return spawn(referenceBinary(), ["server", "--no-token", "--no-telemetry", "--host", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, HOME: stateDir, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
  });
}

/** The median wall time of `n` sequential runs of `fn`, in ms. */
export async function medianMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}
