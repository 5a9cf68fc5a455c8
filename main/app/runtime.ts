import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DesktopService } from "../desktop/desktop.js";
import type { RecordingService } from "../desktop/recording/recorder.js";
import type { StreamService } from "../stream/service.js";
import type { ActionService } from "../actions/service.js";
import type { BrowserService } from "../browser/service.js";
import { DesktopRegistry } from "../desktops/registry.js";
import type { DesktopStartOptions } from "../desktop/types.js";
import { WorkspaceFs } from "../fs/workspace.js";
import { GitService } from "../git/service.js";
import { VolumeService } from "../volumes/service.js";
import { AgentRunService } from "../sessions/run.js";
import { createHttpServer, type App, type HttpOptions } from "../http/server.js";
import { ProcessManager } from "../processes/manager.js";
import { ProcessService } from "../processes/service.js";
import { DEFAULT_PROCESS_CONFIG } from "../processes/types.js";
import { SessionService } from "../sessions/service.js";
import { TraceStore } from "../sessions/traces.js";
import { McpFrontDoor } from "../mcp/server.js";
import { RuntimeMetrics } from "../metrics/registry.js";
import type { DesktopSample } from "../metrics/types.js";
import { startOpsServer, type OpsServer } from "../http/ops-server.js";
import { readinessCheck } from "./readiness.js";
import { defaultStateDir } from "../shared/paths.js";
import { lockStateDir, type StateLock } from "./state-lock.js";
import { version } from "./version.js";

/** Everything `glasspane server` can be told; the HTTP options pass straight through. */
export interface RuntimeConfig extends Omit<HttpOptions, "version" | "uiDir"> {
  host: string;
  port: number;
  /** start a desktop at boot with these options */
  desktop?: DesktopStartOptions;
  stateDir?: string;
  /** confine /v1/fs to this directory (default: the whole file system, as the reference) */
  fsRoot?: string;
  /** disk budget of all recordings together, every desktop's (default 2 GiB) */
  recordingBudgetBytes?: number;
  /** desktops running at once, the default one included (`--max-desktops`, default 8) */
  maxDesktops?: number;
  /** how long a POSTed ACP request waits for the agent's answer (10 min) */
  acpRequestTimeoutMs?: number;
  /** serve /metrics and the health routes without a token on this port too (the ops listener) */
  metricsPort?: number;
  /** the ops listener's address (127.0.0.1) */
  metricsHost?: string;
}

export interface Runtime {
  url: string;
  http: App;
  /** every desktop; the fields below are the default one's */
  desktops: DesktopRegistry;
  desktop: DesktopService;
  recordings: RecordingService;
  stream: StreamService;
  actions: ActionService;
  browser: BrowserService;
  processes: ProcessManager;
  sessions: SessionService;
  metrics: RuntimeMetrics;
  /** the ops listener's URL, when --metrics-port was given */
  metricsUrl?: string;
  close(): Promise<void>;
}

/** The composition root: config -> services -> HTTP server. Nothing else wires things together. */
export async function startRuntime(config: RuntimeConfig): Promise<Runtime> {
  const stateDir = config.stateDir ?? defaultStateDir();
  mkdirSync(stateDir, { recursive: true });
  const lock = lockStateDir(stateDir);
  try {
    return await startOnLockedDir(config, stateDir, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startOnLockedDir(config: RuntimeConfig, stateDir: string, lock: StateLock): Promise<Runtime> {
  const limits = { ...DEFAULT_PROCESS_CONFIG };
  const processes = new ProcessManager(stateDir, {
    maxLogBytes: () => limits.maxLogBytesPerProcess,
    maxFinishedProcesses: () => limits.maxFinishedProcesses,
  });
  const processApi = new ProcessService(processes, limits);
  // a server reachable only on loopback offers only loopback ICE candidates
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(config.host);
  const desktops = new DesktopRegistry(processes, {
    stateDir,
    maxDesktops: config.maxDesktops,
    recordingBudgetBytes: config.recordingBudgetBytes,
    streamHostAddresses: loopback ? ["127.0.0.1"] : undefined,
    observeAction: (phase, ms) => metrics.observeAction(phase, ms),
  });
  // MCP, the computer-use agent and ACP sessions work on the default desktop
  const { desktop, recordings, browser, stream, actions } = desktops.defaultUnit;
  const fs = new WorkspaceFs({ root: config.fsRoot });
  const volumes = new VolumeService(stateDir, fs);
  const git = new GitService(processes, volumes);
  const traces = new TraceStore(path.join(stateDir, "traces"));
  traces.prune();
  let endpoint: { url: string; token?: string } | undefined;
  const sessions = new SessionService(processes, {
    stateDir,
    runtime: () => endpoint,
    traceDir: traces.dir,
    beforeTracingAgent: () => traces.prune(),
    requestTimeoutMs: config.acpRequestTimeoutMs,
    display: async () => {
      const status = await desktop.status();
      return status.state === "active" ? (status.display ?? undefined) : undefined;
    },
  });
  const runs = new AgentRunService(sessions);
  const metrics = new RuntimeMetrics({
    desktops: () =>
      Promise.all(
        desktops.all().map(async (unit): Promise<DesktopSample> => {
          const [status, streaming, recorded] = await Promise.all([unit.desktop.status(), unit.stream.status(), unit.recordings.list()]);
          return {
            id: unit.id,
            state: status.state,
            viewers: { webrtc: streaming.viewers - streaming.websocketViewers, websocket: streaming.websocketViewers },
            recordingBytes: recorded.reduce((sum, r) => sum + r.bytes, 0),
          };
        }),
      ),
    desktopsCapacity: () => desktops.max,
    processes: () => processes.list().map((p) => p.info()),
    agentSessions: () => sessions.listServers().length,
  });
  const ready = readinessCheck(desktop, config.desktop !== undefined);
  const mcp = new McpFrontDoor({ desktop, processes: processApi, fs, actions }, { name: "glasspane", version });
  const uiDir = fileURLToPath(new URL("../../../renderer/dist/", import.meta.url));
  const http = await createHttpServer({ ...config, version, uiDir }, { desktops, fs, processes: processApi, sessions, traces, mcp, volumes, git, runs, metrics, ready });
  const host = config.host;
  await http.listen({ host, port: config.port });
  const address = http.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  // the built-in computer-use agent calls back on loopback when the server listens on every address
  const local = host === "0.0.0.0" || host === "::" ? `http://127.0.0.1:${port}` : url;
  endpoint = { url: local, token: config.token };
  let ops: OpsServer | undefined;
  if (config.metricsPort !== undefined) {
    const metricsHost = config.metricsHost ?? "127.0.0.1";
    try {
      ops = await startOpsServer({ host: metricsHost, port: config.metricsPort, guard: { host: metricsHost, allowedHosts: config.allowedHosts } }, { metrics, ready });
    } catch (err) {
      await http.close().catch(() => undefined);
      throw err;
    }
  }

  let closing: Promise<void> | undefined;
  const runtime: Runtime = {
    url,
    http,
    desktops,
    desktop,
    recordings,
    stream,
    actions,
    browser,
    processes,
    sessions,
    metrics,
    metricsUrl: ops?.url,
    close: () =>
      (closing ??= (async () => {
        await ops?.close().catch(() => undefined);
        await http.close().catch(() => undefined);
        runs.close();
        await sessions.shutdown();
        await desktops.close();
        await processes.shutdown();
        lock.release();
      })()),
  };
  if (config.desktop) {
    try {
      await desktop.start(config.desktop);
    } catch (err) {
      await runtime.close();
      throw err;
    }
  }
  return runtime;
}
