// Runs inside the sandbox of test/deploy.test.ts, whose root file system is read-only as in the
// pod: starts the runtime with a desktop, uses what writes files (screenshot, a launched app, a
// recording, the browser, the stream) and prints one JSON line with what each call answered.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./server.js";

const stateDir = process.argv[2];
const base = "http://127.0.0.1:2468";
const headers = { authorization: "Bearer t", "content-type": "application/json" };

function rootWrite(): string {
  try {
    writeFileSync("/usr/.glasspane-read-only-probe", "x");
    return "written";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

async function call(method: string, route: string, body?: unknown): Promise<number> {
  const res = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  await res.arrayBuffer();
  return res.status;
}

const server = spawn(process.execPath, [path.join(repoRoot, "bin", "glasspane.js"), "server", "--host", "127.0.0.1", "--port", "2468",
  "--token", "t", "--desktop", "--state-dir", stateDir], { stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
server.stderr.on("data", (d) => (stderr += d));
const result: Record<string, unknown> = { rootWrite: rootWrite(), uid: process.getuid?.() };
try {
  const deadline = Date.now() + 120_000;
  let state = "";
  while (Date.now() < deadline && state !== "active") {
    state = await fetch(base + "/v1/desktop/status", { headers, signal: AbortSignal.timeout(10_000) })
      .then((r) => r.json() as Promise<{ state: string }>).then((s) => s.state, () => "unreachable");
    if (state !== "active") await new Promise((r) => setTimeout(r, 250));
  }
  result.desktop = state;
  result.screenshot = await call("GET", "/v1/desktop/screenshot");
  result.launch = await call("POST", "/v1/desktop/launch", { app: "xterm", wait: true });
  result.recordingStart = await call("POST", "/v1/desktop/recording/start", {});
  await new Promise((r) => setTimeout(r, 1000));
  result.recordingStop = await call("POST", "/v1/desktop/recording/stop");
  result.browser = await call("POST", "/v1/desktop/browser/start", {});
  result.stream = await call("POST", "/v1/desktop/stream/start", {});
} catch (e) {
  result.error = String(e);
} finally {
  server.kill("SIGTERM");
  const exited = await new Promise<boolean>((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), 30_000);
    server.once("exit", () => (clearTimeout(timer), resolve(true)));
  });
  if (!exited) server.kill("SIGKILL");
  result.stderr = stderr.slice(-2000);
  console.log(JSON.stringify(result));
}
