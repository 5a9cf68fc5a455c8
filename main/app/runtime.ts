import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DesktopService } from "../desktop/desktop.js";
import type { DesktopStartOptions } from "../desktop/types.js";
import { RecordingService } from "../desktop/recording/recorder.js";
import { createHttpServer, type App, type HttpOptions } from "../http/server.js";
import { ProcessManager } from "../processes/manager.js";
import { defaultStateDir } from "../shared/paths.js";
import { version } from "./version.js";

/** Everything `glasspane server` can be told; the HTTP options pass straight through. */
export interface RuntimeConfig extends Omit<HttpOptions, "version" | "uiDir"> {
  host: string;
  port: number;
  /** start a desktop at boot with these options */
  desktop?: DesktopStartOptions;
  stateDir?: string;
  /** disk budget of all recordings together (default 2 GiB) */
  recordingBudgetBytes?: number;
}

export interface Runtime {
  url: string;
  http: App;
  desktop: DesktopService;
  recordings: RecordingService;
  processes: ProcessManager;
  close(): Promise<void>;
}

/** The composition root: config -> services -> HTTP server. Nothing else wires things together. */
export async function startRuntime(config: RuntimeConfig): Promise<Runtime> {
  const stateDir = config.stateDir ?? defaultStateDir();
  mkdirSync(stateDir, { recursive: true });
  const processes = new ProcessManager(stateDir);
  const desktop = new DesktopService(processes, stateDir);
  const recordings = new RecordingService(processes, desktop, { budgetBytes: config.recordingBudgetBytes });
  const uiDir = fileURLToPath(new URL("../../../renderer/", import.meta.url));
  const http = await createHttpServer({ ...config, version, uiDir }, { desktop, recordings });
  const host = config.host;
  await http.listen({ host, port: config.port });
  const address = http.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const runtime: Runtime = {
    url,
    http,
    desktop,
    recordings,
    processes,
    close: () =>
      (closing ??= (async () => {
        await http.close().catch(() => undefined);
        await recordings.close();
        await desktop.shutdown();
        await processes.shutdown();
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
