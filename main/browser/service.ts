import { existsSync, readFileSync } from "node:fs";
import type { Desktop } from "../desktop/types.js";
import type { ManagedProcess, ProcessManager } from "../processes/manager.js";
import { conflict, GlasspaneError, invalid } from "../shared/errors.js";
import { pollUntil, withDeadline } from "../shared/deadline.js";
import { LIMITS } from "../shared/limits.js";
import { processGroupAlive } from "../shared/process.js";
import { CdpBridge } from "./cdp-bridge.js";
import { devtoolsJson, requestBrowserClose, rewriteTarget, targetOf, versionOf, type VersionDocument } from "./devtools.js";
import { chromiumArgs } from "./flags.js";
import { clearActivePort, markCleanExit, prepareProfile, profileDirs, readActivePort, removeProfile, type ProfileDirs } from "./profile.js";
import type { Browser, BrowserStartOptions, BrowserStatus, CdpChannel, CdpHandlers, DiscoveryBase, DiscoveryDocument } from "./types.js";

/** Debian's Chromium (DESIGN.md decision 7); never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";
/** A cold Chromium on a loaded 2-core machine takes a few seconds to open its DevTools port. */
const START_TIMEOUT_MS = 45_000;
/** How long a CDP client waits for a browser that is being restarted after a crash. */
const RESTART_WAIT_MS = 20_000;
/** A DevTools target path a client may ask for: "page/<id>", "browser/<id>", ... */
const TARGET = /^[a-z_]{1,32}\/[A-Za-z0-9._-]{1,128}$/;

export interface BrowserServiceOptions {
  /** the browser program (Debian's /usr/bin/chromium) */
  command?: string;
}

/** One wanted browser: the process (restarted under the same id) and where its DevTools listen now. */
interface Run {
  proc: ManagedProcess;
  dirs: ProfileDirs;
  display: string;
  requested: string;
  startedAt: Date;
  /** the current Chromium's DevTools port; undefined while it is (re)starting */
  endpoint: { port: number; browserPath: string } | undefined;
  version: VersionDocument | undefined;
  /** resolves once the current Chromium answers on its DevTools port */
  ready: Promise<void>;
}

/**
 * The browser on the desktop: one Chromium on the desktop's display under the process
 * manager (owner `desktop`), restarted while wanted, reachable by CDP clients only through
 * Glasspane (its own DevTools port is on loopback).
 */
export class BrowserService implements Browser {
  private run: Run | undefined;
  private wanted = false;
  private starting: Promise<BrowserStatus> | undefined;
  private stopping: Promise<void> | undefined;
  private lastError: { code: string; message: string } | null = null;
  private readonly bridges = new Set<CdpBridge>();
  private readonly command: string;

  constructor(
    private readonly desktop: Desktop,
    private readonly processes: ProcessManager,
    private readonly stateDir: string,
    options: BrowserServiceOptions = {},
  ) {
    this.command = options.command ?? CHROMIUM;
  }

  async start(options: BrowserStartOptions): Promise<BrowserStatus> {
    if (this.stopping) await this.stopping;
    const requested = JSON.stringify(options ?? {});
    if (this.starting) {
      await this.starting.catch(() => undefined);
    }
    const run = this.run;
    if (run && this.wanted) {
      if (requested !== "{}" && requested !== run.requested) {
        throw conflict("the browser is already running with other options; stop it first (POST /v1/desktop/browser/stop)");
      }
      await withDeadline(run.ready, START_TIMEOUT_MS, "the browser's DevTools port");
      return this.status();
    }
    this.starting = this.launch(options ?? {}, requested);
    try {
      return await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  private async launch(options: BrowserStartOptions, requested: string): Promise<BrowserStatus> {
    const { display } = await this.desktop.displayInfo();
    if (!existsSync(this.command)) {
      throw new GlasspaneError("browser_missing", 503, `the browser needs ${this.command}; install it with: apt-get install -y chromium`);
    }
    if (options.freshProfile && options.profile) throw invalid("give profile or freshProfile, not both");
    const dirs = profileDirs(this.stateDir, options.profile, options.freshProfile ?? false);
    const args = chromiumArgs(options, dirs.dir);
    prepareProfile(dirs);
    clearActivePort(dirs);
    this.lastError = null;
    this.wanted = true;
    let proc: ManagedProcess;
    try {
      proc = await this.processes.spawn({
        name: "chromium",
        command: this.command,
        args,
        env: { DISPLAY: display },
        owner: "desktop",
        // its own group: stop and a crash take the zygote and renderers along
        processGroup: true,
        groupEndsWithLeader: true,
        restart: { mode: "while", active: () => this.wanted, maxBackoffMs: 2000 },
      });
    } catch (err) {
      this.wanted = false;
      removeProfile(dirs);
      throw err;
    }
    const run: Run = { proc, dirs, display, requested, startedAt: new Date(), endpoint: undefined, version: undefined, ready: Promise.resolve() };
    this.run = run;
    run.ready = this.awaitDevtools(run);
    run.ready.catch(() => undefined);
    proc.on("exit", () => {
      // before the manager's restart: the next Chromium writes a new port file, and opens its page without a "restore?" bubble
      run.endpoint = undefined;
      clearActivePort(dirs);
      markCleanExit(dirs);
      if (!this.wanted || this.run !== run) return;
      this.lastError = { code: "browser_exited", message: `Chromium exited (${proc.signal ?? `code ${proc.exitCode}`}); restarting it` };
      run.ready = this.awaitDevtools(run);
      run.ready.catch(() => undefined);
    });
    try {
      await withDeadline(run.ready, START_TIMEOUT_MS, "the browser's DevTools port");
    } catch (err) {
      const message = `${(err as Error).message}; its log: ${logTail(proc.logPath)}`;
      this.lastError = { code: "browser_start_failed", message };
      await this.stop();
      throw new GlasspaneError("browser_start_failed", 502, `the browser did not start: ${message}`);
    }
    return this.status();
  }

  /** Waits (without end: the caller sets the deadline) until the current Chromium answers on its DevTools port. */
  private async awaitDevtools(run: Run): Promise<void> {
    for (;;) {
      if (this.run !== run || !this.wanted) throw new GlasspaneError("browser_not_running", 409, "the browser was stopped");
      const endpoint = await pollUntil(async () => (run.proc.status === "running" ? readActivePort(run.dirs) : undefined), 1000, 25);
      if (!endpoint) continue;
      try {
        run.version = await devtoolsJson<VersionDocument>(endpoint.port, "/json/version");
        if (run.proc.status !== "running") continue;
        run.endpoint = endpoint;
        if (this.lastError?.code === "browser_exited") this.lastError = null;
        return;
      } catch {
        /* not listening yet, or it died meanwhile */
      }
    }
  }

  async stop(): Promise<BrowserStatus> {
    this.stopping ??= this.shutdown().finally(() => (this.stopping = undefined));
    await this.stopping;
    return this.status();
  }

  private async shutdown(): Promise<void> {
    this.wanted = false;
    const run = this.run;
    for (const b of [...this.bridges]) b.end(1001, "the browser was stopped");
    if (!run) return;
    if (run.endpoint && run.proc.status === "running") {
      await requestBrowserClose(run.endpoint.port, run.endpoint.browserPath, 2000);
      await run.proc.waitForExit(5000);
    }
    // whatever is left (a browser that did not answer, its helpers): SIGTERM to the group, then SIGKILL
    await run.proc.stop(5000);
    // a browser that quit by itself has its helpers reaped by the manager; stop returns once they are gone
    const pgid = run.proc.pid;
    if (pgid) await pollUntil(async () => (processGroupAlive(pgid) ? undefined : true), 3000, 25);
    removeProfile(run.dirs);
    this.run = undefined;
  }

  async status(): Promise<BrowserStatus> {
    const run = this.wanted ? this.run : undefined;
    const endpoint = run?.endpoint;
    const pages = endpoint
      ? await devtoolsJson<Array<Record<string, unknown>>>(endpoint.port, "/json/list", 2000).then((l) => l.map(targetOf).filter((t) => t.type === "page"), () => [])
      : [];
    const pid = run?.proc.status === "running" ? run.proc.pid : null;
    const windows = pid && endpoint ? await this.desktop.windowsOfPid(pid).catch(() => []) : [];
    return {
      state: !run ? "stopped" : endpoint ? "running" : this.starting ? "starting" : "restarting",
      processId: run?.proc.id ?? null,
      pid,
      restarts: run?.proc.restarts ?? 0,
      version: run?.version ? versionOf(run.version) : null,
      debuggingPort: endpoint?.port ?? null,
      cdpClients: this.bridges.size,
      pages,
      windows,
      profile: run?.dirs.name ?? null,
      profileDir: run?.dirs.dir ?? null,
      downloadsDir: run?.dirs.downloadsDir ?? null,
      display: run?.display ?? null,
      startedAt: run?.startedAt.toISOString() ?? null,
      lastError: this.lastError,
    };
  }

  /** The running browser's DevTools port, waiting (bounded) for one being restarted. */
  private async endpoint(): Promise<{ port: number; browserPath: string }> {
    const run = this.wanted ? this.run : undefined;
    if (!run) throw new GlasspaneError("browser_not_running", 409, "the browser is not running; start it with POST /v1/desktop/browser/start");
    if (!run.endpoint) await withDeadline(run.ready, RESTART_WAIT_MS, "waiting for the browser to restart");
    if (!run.endpoint || this.run !== run) throw new GlasspaneError("browser_not_running", 409, "the browser stopped while connecting");
    return run.endpoint;
  }

  async resolveTarget(target: string): Promise<string> {
    if (target !== "browser" && !TARGET.test(target)) throw invalid(`not a DevTools target: "${target.slice(0, 80)}"`);
    if (this.bridges.size >= LIMITS.cdpClients.max) throw conflict(`${this.bridges.size} CDP clients are connected already; at most ${LIMITS.cdpClients.max} at once`);
    const { port, browserPath } = await this.endpoint();
    return `ws://127.0.0.1:${port}${target === "browser" ? browserPath : `/devtools/${target}`}`;
  }

  connect(url: string, channel: CdpChannel): CdpHandlers {
    const bridge = new CdpBridge(url, channel, (b) => this.bridges.delete(b));
    this.bridges.add(bridge);
    return bridge.handlers();
  }

  async discoveryVersion(base: DiscoveryBase): Promise<DiscoveryDocument & { webSocketDebuggerUrl: string }> {
    const { port } = await this.endpoint();
    const doc = await devtoolsJson<Record<string, unknown>>(port, "/json/version");
    // the browser endpoint through Glasspane is stable: it follows the browser across restarts
    return { ...rewriteTarget(doc, base.wsOrigin, base.prefix), webSocketDebuggerUrl: `${base.wsOrigin}${base.prefix}/cdp` };
  }

  async discoveryList(base: DiscoveryBase): Promise<Array<DiscoveryDocument & { id: string; type: string }>> {
    const { port } = await this.endpoint();
    const list = await devtoolsJson<DiscoveryDocument[]>(port, "/json/list");
    return list.map((doc) => ({ ...rewriteTarget(doc, base.wsOrigin, base.prefix), id: String(doc.id ?? ""), type: String(doc.type ?? "") }));
  }
}

/** The last lines of a process log, for an error that says why a start failed. */
function logTail(file: string): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.split("\n").slice(-8).join(" | ").slice(-1500);
  } catch {
    return "(no log)";
  }
}
