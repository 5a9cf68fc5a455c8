import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { ProcessManager } from "../processes/manager.js";
import { GlasspaneError, invalid } from "../shared/errors.js";
import type { AgentDefinition } from "./agents.js";
import type { AgentInstallArtifact, AgentInstallResponse } from "./types.js";

/** An npm install of an agent may download a few hundred MB on a slow link. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

export interface InstalledAgent {
  version: string;
  program: string;
}

/**
 * npm installs of agents into `<state>/agents/<id>`, one at a time per agent, run under
 * the process manager (owner `system`), so the progress is in that process's log.
 */
export class AgentInstaller {
  private readonly running = new Map<string, Promise<AgentInstallResponse>>();

  constructor(
    private readonly processes: ProcessManager,
    private readonly root: string,
  ) {}

  dir(agent: AgentDefinition): string {
    return path.join(this.root, agent.id);
  }

  /** The installed version and program, or undefined when it is not (completely) installed. */
  installed(agent: AgentDefinition): InstalledAgent | undefined {
    if (!agent.npmPackage || !agent.bin) return undefined;
    const dir = this.dir(agent);
    const program = path.join(dir, "node_modules", ".bin", agent.bin);
    const version = packageVersion(path.join(dir, "node_modules", agent.npmPackage));
    return version && existsSync(program) ? { version, program } : undefined;
  }

  install(agent: AgentDefinition, options: { version?: string; reinstall?: boolean }): Promise<AgentInstallResponse> {
    const inFlight = this.running.get(agent.id);
    if (inFlight) return inFlight;
    const job = this.run(agent, options).finally(() => this.running.delete(agent.id));
    this.running.set(agent.id, job);
    return job;
  }

  private async run(agent: AgentDefinition, options: { version?: string; reinstall?: boolean }): Promise<AgentInstallResponse> {
    const pkg = agent.npmPackage!;
    const version = options.version ?? agent.version!;
    if (!VERSION.test(version)) throw invalid(`agentVersion "${version}" is not an npm version`);
    const current = this.installed(agent);
    if (current && current.version === version && !options.reinstall) return { already_installed: true, artifacts: this.artifacts(agent) };
    const dir = this.dir(agent);
    if (options.reinstall) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const proc = await this.processes.spawn({
      name: `npm install ${agent.id}`,
      command: "npm",
      args: ["install", "--prefix", dir, "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel", "http", `${pkg}@${version}`],
      cwd: dir,
      owner: "system",
      processGroup: true,
    });
    if (!(await proc.waitForExit(INSTALL_TIMEOUT_MS))) {
      await proc.stop(2000);
      throw new GlasspaneError("install_failed", 500, `npm install ${pkg}@${version} did not finish within ${INSTALL_TIMEOUT_MS / 1000} s (process ${proc.id} has its log)`);
    }
    const now = this.installed(agent);
    if (proc.exitCode !== 0 || !now) {
      const stderr = Buffer.concat(proc.logs.filter((e) => e.stream === "stderr").map((e) => e.data)).subarray(-1500).toString("utf8").trim();
      throw new GlasspaneError("install_failed", 500, `npm install ${pkg}@${version} failed (exit ${proc.exitCode}; log in process ${proc.id}): ${stderr}`, { agent: agent.id });
    }
    return { already_installed: false, artifacts: this.artifacts(agent) };
  }

  /** The ACP program, and any native binaries its package pulled in as optional dependencies. */
  private artifacts(agent: AgentDefinition): AgentInstallArtifact[] {
    const installed = this.installed(agent)!;
    const modules = path.join(this.dir(agent), "node_modules");
    const artifacts: AgentInstallArtifact[] = [
      { kind: "agent_process", path: installed.program, source: `npm:${agent.npmPackage}@${installed.version}`, version: installed.version },
    ];
    const manifest = readJson(path.join(modules, agent.npmPackage!, "package.json"));
    for (const dep of Object.keys((manifest?.optionalDependencies as object) ?? {})) {
      const version = packageVersion(path.join(modules, dep));
      if (version) artifacts.push({ kind: "native_binary", path: path.join(modules, dep), source: `npm:${dep}@${version}`, version });
    }
    return artifacts;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function packageVersion(dir: string): string | undefined {
  const v = readJson(path.join(dir, "package.json"))?.version;
  return typeof v === "string" ? v : undefined;
}
