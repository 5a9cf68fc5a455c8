import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ProcessManager } from "../processes/manager.js";
import { conflict, GlasspaneError, invalid, notFound } from "../shared/errors.js";
import { sleep } from "../shared/deadline.js";
import { AcpServer } from "./acp-server.js";
import { AGENTS, findAgent, type AgentDefinition } from "./agents.js";
import { ConfigStore } from "./config-store.js";
import { AgentInstaller } from "./installer.js";
import { mcpServersFor } from "./mcp-servers.js";
import { probeConfigOptions } from "./probe.js";
import type {
  AcpEnvelope,
  AcpServerInfo,
  AcpStreamListener,
  AcpSubscription,
  AgentInfo,
  AgentInstallRequest,
  AgentInstallResponse,
  McpConfigQuery,
  Sessions,
  SkillsConfigQuery,
} from "./types.js";

export interface SessionServiceOptions {
  stateDir: string;
  /** how long a POSTed request waits for the agent's answer (10 min: a prompt may run long) */
  requestTimeoutMs?: number;
  /** the desktop's DISPLAY while one runs, so an agent can use it */
  display?: () => Promise<string | undefined>;
  /** the environment agents inherit (the server's) */
  env?: NodeJS.ProcessEnv;
  /** the runtime's own URL and token, for the built-in agents that call its API (known once it listens) */
  runtime?: () => { url: string; token?: string } | undefined;
  /** where the computer-use agent's traces go */
  traceDir?: string;
  /** called before an agent of ours that writes traces starts (the store keeps itself within its budget) */
  beforeTracingAgent?: () => void;
}

const MAX_SERVERS = 32;
const MAX_SERVER_ID_LENGTH = 200;
/** The SDK opens its SSE stream in the same tick as the first POST: a GET may arrive before the server exists. */
const BOOTSTRAP_GRACE_MS = 2000;

/**
 * Agent sessions: the agent registry and installs, and the ACP servers that carry
 * JSON-RPC between HTTP clients and agent processes (owner `agent` in the process manager).
 */
export class SessionService implements Sessions {
  private readonly servers = new Map<string, AcpServer>();
  private readonly creating = new Map<string, Promise<AcpServer>>();
  private readonly installer: AgentInstaller;
  private readonly configCache = new Map<string, { options: unknown[] | null; error: string | null }>();
  private readonly mcp = new ConfigStore("mcp");
  private readonly skills = new ConfigStore("skills");
  private readonly requestTimeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private closed = false;

  constructor(
    private readonly processes: ProcessManager,
    private readonly options: SessionServiceOptions,
  ) {
    this.installer = new AgentInstaller(processes, path.join(options.stateDir, "agents"));
    this.requestTimeoutMs = options.requestTimeoutMs ?? 600_000;
    this.env = options.env ?? process.env;
  }

  async listAgents(options: { config?: boolean; noCache?: boolean }): Promise<AgentInfo[]> {
    const infos: AgentInfo[] = [];
    for (const agent of AGENTS) infos.push(await this.agentInfo(agent, options));
    return infos;
  }

  getAgent(id: string, options: { config?: boolean; noCache?: boolean }): Promise<AgentInfo> {
    return this.agentInfo(this.definition(id), options);
  }

  async installAgent(id: string, request: AgentInstallRequest): Promise<AgentInstallResponse> {
    const agent = this.definition(id);
    if (agent.script) return { already_installed: true, artifacts: [{ kind: "agent_process", path: agent.script, source: "builtin", version: "1.0.0" }] };
    const version = request.agentVersion ?? request.agentProcessVersion ?? undefined;
    const result = await this.installer.install(agent, { version, reinstall: request.reinstall ?? false });
    if (!result.already_installed) this.configCache.delete(agent.id);
    return result;
  }

  listServers(): AcpServerInfo[] {
    return [...this.servers.values()].map((s) => s.info());
  }

  async post(serverId: string, agentId: string | undefined, body: unknown): Promise<AcpEnvelope | undefined> {
    const envelope = checkEnvelope(body);
    let server = this.servers.get(serverId);
    if (!server) {
      if (!agentId) throw invalid(`missing the "agent" query parameter, which the first POST to /v1/acp/${serverId} needs (e.g. ?agent=mock)`);
      server = await this.create(serverId, agentId);
    } else if (agentId && agentId !== server.agent) {
      throw conflict(`ACP server ${serverId} runs agent "${server.agent}", not "${agentId}"`);
    }
    const isRequest = typeof envelope.method === "string" && envelope.id !== undefined && envelope.id !== null;
    if (isRequest) return server.request(envelope.method === "session/new" ? this.withDirectoryMcp(envelope) : envelope);
    await server.send(envelope);
    return undefined;
  }

  async subscribe(serverId: string, lastEventId: number | undefined, listener: AcpStreamListener): Promise<AcpSubscription> {
    let server = this.servers.get(serverId);
    const end = Date.now() + BOOTSTRAP_GRACE_MS;
    while (!server && (this.creating.has(serverId) || Date.now() < end) && !this.closed) {
      await (this.creating.get(serverId)?.catch(() => undefined) ?? sleep(25));
      server = this.servers.get(serverId);
    }
    if (!server) throw notFound(`unknown ACP server "${serverId}"; a POST with ?agent=<id> creates it`);
    return server.subscribe(lastEventId ?? 0, listener);
  }

  remove(serverId: string): void {
    const server = this.servers.get(serverId);
    if (!server) return;
    this.servers.delete(serverId);
    server.remove();
  }

  getMcpConfig(q: McpConfigQuery): unknown {
    return this.mcp.get(q.directory, q.mcpName);
  }

  setMcpConfig(q: McpConfigQuery, config: unknown): void {
    this.mcp.set(q.directory, q.mcpName, config);
  }

  deleteMcpConfig(q: McpConfigQuery): void {
    this.mcp.delete(q.directory, q.mcpName);
  }

  getSkillsConfig(q: SkillsConfigQuery): unknown {
    return this.skills.get(q.directory, q.skillName);
  }

  setSkillsConfig(q: SkillsConfigQuery, config: unknown): void {
    this.skills.set(q.directory, q.skillName, config);
  }

  deleteSkillsConfig(q: SkillsConfigQuery): void {
    this.skills.delete(q.directory, q.skillName);
  }

  /** A session opened in a directory also gets the MCP servers stored for it (`/v1/config/mcp`). */
  private withDirectoryMcp(envelope: AcpEnvelope): AcpEnvelope {
    const params = envelope.params as { cwd?: unknown; mcpServers?: unknown } | undefined;
    if (!params || typeof params.cwd !== "string") return envelope;
    let stored: Record<string, unknown>;
    try {
      stored = this.mcp.all(params.cwd);
    } catch {
      return envelope; // an unreadable config is the agent's session without it, not a failed session
    }
    const passed = Array.isArray(params.mcpServers) ? (params.mcpServers as { name?: unknown }[]) : [];
    const added = mcpServersFor(stored, passed, this.env);
    return added.length ? { ...envelope, params: { ...params, mcpServers: [...passed, ...added] } } : envelope;
  }

  /** Stops every agent (their process groups included) and waits for them, up to `waitMs`. */
  async shutdown(waitMs = 3000): Promise<void> {
    this.closed = true;
    const procs = [...this.servers.values()].map((s) => s.processId).flatMap((id) => (id ? [this.processes.get(id)] : []));
    for (const id of [...this.servers.keys()]) this.remove(id);
    await Promise.all(procs.map((p) => p?.stop(waitMs)));
  }

  /**
   * Spawns the agent of a new server (installing it first when needed). Concurrent first
   * POSTs to one id share the one creation.
   */
  private create(serverId: string, agentId: string): Promise<AcpServer> {
    const inFlight = this.creating.get(serverId);
    if (inFlight) {
      return inFlight.then((s) => {
        if (s.agent !== agentId) throw conflict(`ACP server ${serverId} runs agent "${s.agent}", not "${agentId}"`);
        return s;
      });
    }
    const agent = this.definition(agentId);
    if (serverId.length > MAX_SERVER_ID_LENGTH) throw invalid(`server id is longer than ${MAX_SERVER_ID_LENGTH} characters`);
    if (this.servers.size + this.creating.size >= MAX_SERVERS) throw conflict(`${MAX_SERVERS} ACP servers are running; delete one first`);
    if (this.closed) throw new GlasspaneError("conflict", 503, "the server is shutting down");
    const job = (async () => {
      const server = new AcpServer(serverId, agent.id, this.requestTimeoutMs);
      const proc = await this.spawnAgent(agent, `acp ${serverId}`, (line) => server.receive(line));
      server.attach(proc);
      this.servers.set(serverId, server);
      return server;
    })().finally(() => this.creating.delete(serverId));
    this.creating.set(serverId, job);
    return job;
  }

  /** Starts an agent's ACP process under the process manager, its stdout framed into `onLine`. */
  async spawnAgent(agent: AgentDefinition, name: string, onLine: (line: Buffer) => void) {
    let program = agent.script ?? "";
    if (!agent.script) {
      const installed = this.installer.installed(agent) ?? (await this.installer.install(agent, {}), this.installer.installed(agent));
      if (!installed) throw new GlasspaneError("install_failed", 500, `agent ${agent.id} is not installed and could not be`);
      program = installed.program;
    }
    const home = path.join(this.installer.dir(agent), "home");
    mkdirSync(home, { recursive: true });
    const endpoint = this.options.runtime?.();
    const runtime = endpoint && this.options.traceDir ? { ...endpoint, traceDir: this.options.traceDir } : undefined;
    if (agent.script && runtime) this.options.beforeTracingAgent?.();
    const plan = agent.launch({ env: this.env, program, home, runtime });
    const display = await this.options.display?.().catch(() => undefined);
    return this.processes.spawn({
      name: `${agent.id} (${name})`,
      command: plan.command,
      args: plan.args,
      cwd: os.homedir(),
      env: { ...plan.env, ...(display ? { DISPLAY: display } : {}) },
      owner: "agent",
      stdin: true,
      processGroup: true,
      stdoutLines: onLine,
    });
  }

  private async agentInfo(agent: AgentDefinition, options: { config?: boolean; noCache?: boolean }): Promise<AgentInfo> {
    const installed = agent.script ? { version: "1.0.0", program: agent.script } : this.installer.installed(agent);
    const live = [...this.servers.values()].filter((s) => s.agent === agent.id && s.running);
    const info: AgentInfo = {
      id: agent.id,
      installed: !!installed,
      credentialsAvailable: agent.credentialEnv.length === 0 || agent.credentialEnv.some((k) => !!this.env[k]),
      capabilities: agent.capabilities,
      version: installed?.version ?? null,
      path: installed?.program ?? null,
      serverStatus: live.length
        ? { status: "running", uptimeMs: Date.now() - Math.min(...live.map((s) => s.createdAtMs)) }
        : { status: "stopped", uptimeMs: null },
    };
    if (options.config) {
      if (!installed) info.configError = `agent ${agent.id} is not installed; install it to read its config options`;
      else {
        const key = `${agent.id}@${installed.version}`;
        let probed = options.noCache ? undefined : this.configCache.get(key);
        if (!probed) {
          probed = await probeConfigOptions(this, agent, this.env);
          this.configCache.set(key, probed);
        }
        info.configOptions = probed.options;
        if (probed.error) info.configError = probed.error;
      }
    }
    return info;
  }

  private definition(id: string): AgentDefinition {
    const agent = findAgent(id);
    if (!agent) throw new GlasspaneError("unsupported_agent", 400, `unsupported agent "${id}"; known agents: ${AGENTS.map((a) => a.id).join(", ")}`, { agent: id });
    return agent;
  }
}

/** A single JSON-RPC 2.0 message: a request, a notification, or a response. */
function checkEnvelope(body: unknown): AcpEnvelope {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("the body must be one JSON-RPC 2.0 envelope (a JSON object; batches are not supported)");
  }
  const e = body as Record<string, unknown>;
  if (e.jsonrpc !== "2.0") throw invalid(`the envelope needs "jsonrpc": "2.0"`);
  const id = e.id;
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") throw invalid("the envelope's id must be a string, a number or null");
  if (e.method !== undefined) {
    if (typeof e.method !== "string" || e.method === "") throw invalid("the envelope's method must be a non-empty string");
    if ("result" in e || "error" in e) throw invalid("an envelope with a method carries no result or error");
    return e as unknown as AcpEnvelope;
  }
  const isResponse = ("result" in e) !== ("error" in e);
  if (!isResponse || id === undefined || id === null) {
    throw invalid("the envelope is neither a request/notification (method) nor a response (id and exactly one of result or error)");
  }
  return e as unknown as AcpEnvelope;
}
