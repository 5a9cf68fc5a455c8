// The built-in `computer-use` ACP agent. The runtime starts it as a child process of our
// own node entry point (`node agent.js`), under the process manager like every agent, so
// it goes through the very same stdio transport, SSE stream, process list and cleanup.
// It drives the desktop only through the runtime's action endpoint
// (GLASSPANE_URL / GLASSPANE_TOKEN) and writes its traces under GLASSPANE_TRACE_DIR.
import { randomUUID } from "node:crypto";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { applySetting, DEFAULT_MODELS, defaultConfig, PROVIDERS, type AgentConfig } from "./config.js";
import { GlasspaneClient } from "./glasspane-client.js";
import { ComputerUseSession } from "./session.js";
import { TraceWriter } from "./trace.js";

const env = process.env;
const glasspane = new GlasspaneClient(env.GLASSPANE_URL ?? "http://127.0.0.1:2468", env.GLASSPANE_TOKEN || undefined);
const traceDir = env.GLASSPANE_TRACE_DIR ?? "traces";

const MAX_STEPS = ["10", "25", "50", "100", "200"];
const PERMISSIONS = ["launch,terminal_input", "none", "launch", "all"];

function configOptions(c: AgentConfig): acp.SessionConfigOption[] {
  const select = (id: string, name: string, value: string, values: string[], category?: string): acp.SessionConfigOption => ({
    id,
    name,
    type: "select",
    currentValue: value,
    options: [...new Set([value, ...values])].map((v) => ({ value: v, name: v })),
    ...(category ? { category } : {}),
  }) as acp.SessionConfigOption;
  return [
    select("provider", "Provider", c.provider, PROVIDERS),
    select("model", "Model", c.model, [DEFAULT_MODELS[c.provider]], "model"),
    select("maxSteps", "Max steps", String(c.maxSteps), MAX_STEPS),
    select("maxImages", "Screenshots kept", String(c.maxImages), ["1", "2", "3", "5", "10"]),
    select("permissions", "Ask before", c.permissions.length ? c.permissions.join(",") : "none", PERMISSIONS),
  ];
}

class ComputerUseAgent implements acp.Agent {
  private readonly sessions = new Map<string, ComputerUseSession>();

  constructor(private readonly conn: acp.AgentSideConnection) {}

  async initialize(_params: acp.InitializeRequest): Promise<acp.InitializeResponse> {
    return {
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: { loadSession: false, promptCapabilities: { image: true, audio: false, embeddedContext: true } },
      agentInfo: { name: "glasspane-computer-use", title: "Glasspane computer use", version: "1.0.0" },
      authMethods: [],
    };
  }

  async authenticate(_params: acp.AuthenticateRequest): Promise<acp.AuthenticateResponse> {
    return {};
  }

  async newSession(params: acp.NewSessionRequest): Promise<acp.NewSessionResponse> {
    const config = defaultConfig(env);
    const given = ((params._meta as Record<string, unknown> | undefined)?.computerUse ?? {}) as Record<string, unknown>;
    if (typeof given !== "object" || given === null) throw acp.RequestError.invalidParams({}, "_meta.computerUse must be an object");
    // the provider first: it resets the model to the provider's default
    for (const [k, v] of Object.entries(given).sort(([a], [b]) => (a === "provider" ? -1 : b === "provider" ? 1 : 0))) {
      try {
        applySetting(config, k, v);
      } catch (err) {
        throw acp.RequestError.invalidParams({ setting: k }, (err as Error).message);
      }
    }
    const sessionId = `cu-${randomUUID()}`;
    const session = new ComputerUseSession(sessionId, config, this.conn, glasspane, new TraceWriter(traceDir, sessionId), env);
    this.sessions.set(sessionId, session);
    await session.startRecording();
    return { sessionId, configOptions: configOptions(config), _meta: { traceId: sessionId } };
  }

  async setSessionConfigOption(params: acp.SetSessionConfigOptionRequest): Promise<acp.SetSessionConfigOptionResponse> {
    const session = this.session(params.sessionId);
    try {
      applySetting(session.config, params.configId, (params as { value?: unknown }).value);
    } catch (err) {
      throw acp.RequestError.invalidParams({ configId: params.configId }, (err as Error).message);
    }
    return { configOptions: configOptions(session.config) };
  }

  prompt(params: acp.PromptRequest): Promise<acp.PromptResponse> {
    return this.session(params.sessionId).prompt(params);
  }

  async cancel(params: acp.CancelNotification): Promise<void> {
    this.sessions.get(params.sessionId)?.cancel();
  }

  /** Stops every session's recording (the agent is going away). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.stopRecording()));
  }

  private session(id: string): ComputerUseSession {
    const session = this.sessions.get(id);
    if (!session) throw acp.RequestError.invalidParams({ sessionId: id }, `unknown session ${id}`);
    return session;
  }
}

let agent: ComputerUseAgent | undefined;
const stream = acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
const connection = new acp.AgentSideConnection((client) => (agent = new ComputerUseAgent(client)), stream);
const end = async () => {
  await Promise.race([agent?.close(), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(0);
};
// the client closing our stdin (the ACP server deleted) or a stop ends the agent
void connection.closed.then(end);
process.once("SIGTERM", () => void end());
