// Runs inside the sandbox of test/deploy.test.ts, whose root file system is read-only as in the
// pod: starts the runtime with the container's arguments (GLASSPANE_TOKEN from the env, as the
// Secret gives it), waits for the readiness probe, reads the token-free ops port, uses what
// writes files (screenshot, a launched app, a recording, the browser, the stream) and prints
// one JSON line with what each call answered.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./server.js";

export interface PodRun {
  /** the container's args after `glasspane` */
  args: string[];
  apiPort: number;
  metricsPort: number;
  livenessPath: string;
  readinessPath: string;
}

const pod = JSON.parse(process.argv[2]) as PodRun;
const api = `http://127.0.0.1:${pod.apiPort}`;
const ops = `http://127.0.0.1:${pod.metricsPort}`;
const headers = { authorization: `Bearer ${process.env.GLASSPANE_TOKEN}`, "content-type": "application/json" };

function rootWrite(): string {
  try {
    writeFileSync("/usr/.glasspane-read-only-probe", "x");
    return "written";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

async function call(method: string, url: string, body?: unknown, withToken = true): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method, headers: withToken ? headers : {}, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

const server = spawn(process.execPath, [path.join(repoRoot, "bin", "glasspane.js"), ...pod.args], { stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
server.stderr.on("data", (d) => (stderr += d));
const result: Record<string, unknown> = { rootWrite: rootWrite(), uid: process.getuid?.() };
try {
  // as the kubelet does: poll the readiness probe until it passes
  const deadline = Date.now() + 150_000;
  let ready = 0;
  while (Date.now() < deadline && ready !== 200) {
    ready = await call("GET", ops + pod.readinessPath, undefined, false).then((r) => r.status, () => 0);
    if (ready !== 200) await new Promise((r) => setTimeout(r, 500));
  }
  result.ready = ready;
  result.live = (await call("GET", ops + pod.livenessPath, undefined, false)).status;
  const metrics = await call("GET", ops + "/metrics", undefined, false);
  result.metrics = metrics.status;
  result.desktopsInUse = /^glasspane_desktops_in_use (\d+)/m.exec(metrics.text)?.[1];
  result.apiWithoutToken = (await call("GET", api + "/v1/desktop/status", undefined, false)).status;
  result.screenshot = (await call("GET", api + "/v1/desktop/screenshot")).status;
  result.launch = (await call("POST", api + "/v1/desktop/launch", { app: "xterm", wait: true })).status;
  result.recordingStart = (await call("POST", api + "/v1/desktop/recording/start", {})).status;
  await new Promise((r) => setTimeout(r, 1000));
  result.recordingStop = (await call("POST", api + "/v1/desktop/recording/stop")).status;
  result.browser = (await call("POST", api + "/v1/desktop/browser/start", {})).status;
  result.stream = (await call("POST", api + "/v1/desktop/stream/start", {})).status;
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
