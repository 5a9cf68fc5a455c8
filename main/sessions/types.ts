/** Shapes of the agent, ACP and config contract (field for field as the sandbox-agent SDK's types). */

export interface AgentCapabilities {
  commandExecution: boolean;
  errorEvents: boolean;
  fileAttachments: boolean;
  fileChanges: boolean;
  images: boolean;
  itemStarted: boolean;
  mcpTools: boolean;
  permissions: boolean;
  planMode: boolean;
  questions: boolean;
  reasoning: boolean;
  sessionLifecycle: boolean;
  sharedProcess: boolean;
  status: boolean;
  streamingDeltas: boolean;
  textMessages: boolean;
  toolCalls: boolean;
  toolResults: boolean;
}

export interface AgentInfo {
  id: string;
  installed: boolean;
  credentialsAvailable: boolean;
  capabilities: AgentCapabilities;
  version?: string | null;
  path?: string | null;
  configOptions?: unknown[] | null;
  configError?: string | null;
  serverStatus?: { status: "running" | "stopped"; uptimeMs?: number | null } | null;
}

export interface AgentInstallRequest {
  reinstall?: boolean | null;
  agentVersion?: string | null;
  agentProcessVersion?: string | null;
}

export interface AgentInstallArtifact {
  kind: string;
  path: string;
  source: string;
  version?: string | null;
}

export interface AgentInstallResponse {
  already_installed: boolean;
  artifacts: AgentInstallArtifact[];
}

export interface AcpServerInfo {
  serverId: string;
  agent: string;
  createdAtMs: number;
}

/** One JSON-RPC 2.0 message as it travels between client and agent. */
export interface AcpEnvelope {
  jsonrpc: string;
  id?: unknown;
  method?: string | null;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** One entry of a server's event log, as the SSE stream sends it. */
export interface AcpEvent {
  id: number;
  envelope: AcpEnvelope;
}

export interface AcpSubscription {
  close(): void;
}

export interface AcpStreamListener {
  /** where the replay starts: events before `firstId` were dropped from the capped log */
  start(info: { firstId: number; dropped: boolean }): void;
  event(event: AcpEvent): void;
  /** the server was deleted: the stream ends */
  end(): void;
}

export interface McpConfigQuery {
  directory: string;
  mcpName: string;
}

export interface SkillsConfigQuery {
  directory: string;
  skillName: string;
}

/** Everything the HTTP layer may ask of the session service. */
export interface Sessions {
  listAgents(options: { config?: boolean; noCache?: boolean }): Promise<AgentInfo[]>;
  getAgent(id: string, options: { config?: boolean; noCache?: boolean }): Promise<AgentInfo>;
  installAgent(id: string, request: AgentInstallRequest): Promise<AgentInstallResponse>;
  listServers(): AcpServerInfo[];
  /**
   * Delivers one envelope to the server (creating it with `agent` on the first POST).
   * Resolves with the agent's response for a request, or undefined for a notification or
   * a client's response.
   */
  post(serverId: string, agent: string | undefined, envelope: unknown): Promise<AcpEnvelope | undefined>;
  /** Replays the log after `lastEventId`, then streams; throws 404 for an unknown server. */
  subscribe(serverId: string, lastEventId: number | undefined, listener: AcpStreamListener): Promise<AcpSubscription>;
  /** Forgets the server and stops its agent; never waits for the agent to exit. */
  remove(serverId: string): void;
  getMcpConfig(query: McpConfigQuery): unknown;
  setMcpConfig(query: McpConfigQuery, config: unknown): void;
  deleteMcpConfig(query: McpConfigQuery): void;
  getSkillsConfig(query: SkillsConfigQuery): unknown;
  setSkillsConfig(query: SkillsConfigQuery, config: unknown): void;
  deleteSkillsConfig(query: SkillsConfigQuery): void;
}

/** One computer-use session's trace on disk. */
export interface TraceInfo {
  /** the agent's session id */
  id: string;
  createdAtMs: number;
  updatedAtMs: number;
  bytes: number;
  /** model turns */
  steps: number;
  actions: number;
  images: number;
  /** the stopReason of the last prompt that ended ("error" when it failed), null while one runs */
  lastStopReason: string | null;
}

/** Everything the HTTP layer may ask of the trace store. */
export interface Traces {
  list(): TraceInfo[];
  get(id: string): TraceInfo;
  /** one tar of the trace's JSONL and images */
  bundle(id: string): import("node:stream").Readable;
  remove(id: string): void;
}

/** One chunk of the AI SDK's UI message stream (the `ai` package's `UIMessageChunk`), as JSON. */
export type UIMessageChunk = { type: string } & Record<string, unknown>;

export interface AgentRunRequest {
  prompt: string;
  /** the agent's working directory (absolute; the route resolves a volume or a relative path) */
  cwd: string;
  model?: string | null;
  systemPrompt?: string | null;
  maxTurns?: number | null;
  allowedTools?: string[] | null;
  /**
   * What the run grants when the agent asks: "allow" every request, "reject" every one
   * (the default), or the ACP tool kinds it allows ("read", "edit", "execute", ...).
   */
  permissions?: "allow" | "reject" | string[] | null;
  /** a previous run's id (its `start` chunk's messageId): continue that session */
  resume?: string | null;
}

export interface AgentRuns {
  /**
   * Runs the prompt and yields the UI message stream's chunks until the turn ends. Aborting
   * `signal` (the client went away) cancels the turn and stops the agent.
   */
  run(agent: string, request: AgentRunRequest, signal: AbortSignal): AsyncGenerator<UIMessageChunk>;
}
