import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DesktopService } from "../desktop/desktop.js";
import type { DesktopStartOptions } from "../desktop/types.js";
import { createHttpServer, type App, type HttpOptions } from "../http/server.js";
import { ProcessManager } from "../processes/manager.js";
import { StreamService } from "../stream/service.js";
import { defaultStateDir } from "../shared/paths.js";
import { version } from "./version.js";

/** Everything `glasspane server` can be told; the HTTP options pass straight through. */
export interface RuntimeConfig extends Omit<HttpOptions, "version" | "uiDir"> {
  host: string;
  port: number;
  /** start a desktop at boot with these options */
  desktop?: DesktopStartOptions;
  stateDir?: string;
}

export interface Runtime {
  url: string;
  http: App;
  desktop: DesktopService;
  stream: StreamService;
  processes: ProcessManager;
  close(): Promise<void>;
}

/** The composition root: config -> services -> HTTP server. Nothing else wires things together. */
export async function startRuntime(config: RuntimeConfig): Promise<Runtime> {
  const stateDir = config.stateDir ?? defaultStateDir();
  mkdirSync(stateDir, { recursive: true });
  const processes = new ProcessManager(stateDir);
  const desktop = new DesktopService(processes, stateDir);
  // a server reachable only on loopback offers only loopback ICE candidates
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(config.host);
  const stream = new StreamService(desktop, processes, { defaultHostAddresses: loopback ? ["127.0.0.1"] : undefined });
  const uiDir = fileURLToPath(new URL("../../../renderer/", import.meta.url));
  const http = await createHttpServer({ ...config, version, uiDir }, { desktop, stream });
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
    stream,
    processes,
    close: () =>
      (closing ??= (async () => {
        await http.close().catch(() => undefined);
        await stream.shutdown().catch(() => undefined);
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
