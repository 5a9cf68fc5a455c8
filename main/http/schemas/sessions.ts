import { Type } from "typebox";
import { Opt } from "./desktop.js";
import { VolumeParam } from "./fs.js";

/**
 * Agents, ACP and config schemas, field for field as the sandbox-agent SDK's types
 * (`components["schemas"]["Agent*" | "Acp*" | "McpServerConfig" | "SkillsConfig"]`).
 */
const Flag = Opt(Type.Boolean());
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const StringMap = Type.Record(Type.String(), Type.String());

export const AgentQuery = Type.Object(
  {
    config: Opt(Type.Boolean({ description: "include configOptions, read by starting the agent (slower)" })),
    no_cache: Opt(Type.Boolean({ description: "read configOptions again instead of the cached ones" })),
  },
  { additionalProperties: false },
);
export const AgentParams = Type.Object({ agent: Type.String({ minLength: 1, maxLength: 100 }) });

export const AgentCapabilities = Type.Object({
  commandExecution: Type.Boolean(),
  errorEvents: Type.Boolean(),
  fileAttachments: Type.Boolean(),
  fileChanges: Type.Boolean(),
  images: Type.Boolean(),
  itemStarted: Type.Boolean(),
  mcpTools: Type.Boolean(),
  permissions: Type.Boolean(),
  planMode: Type.Boolean(),
  questions: Type.Boolean(),
  reasoning: Type.Boolean(),
  sessionLifecycle: Type.Boolean(),
  sharedProcess: Type.Boolean(),
  status: Type.Boolean(),
  streamingDeltas: Type.Boolean(),
  textMessages: Type.Boolean(),
  toolCalls: Type.Boolean(),
  toolResults: Type.Boolean(),
});

export const AgentInfo = Type.Object({
  id: Type.String(),
  installed: Type.Boolean(),
  credentialsAvailable: Type.Boolean({ description: "an API key the agent can use is in the server's environment" }),
  capabilities: AgentCapabilities,
  version: Opt(Type.String()),
  path: Opt(Type.String()),
  configOptions: Opt(Type.Array(Type.Unknown())),
  configError: Opt(Type.String()),
  serverStatus: Opt(Type.Object({ status: Type.Enum(["running", "stopped"]), uptimeMs: Opt(Type.Integer()) })),
});
export const AgentListResponse = Type.Object({ agents: Type.Array(AgentInfo) });

export const AgentInstallRequest = Type.Object(
  {
    reinstall: Flag,
    agentVersion: Opt(Type.String({ minLength: 1, maxLength: 64, description: "npm version of the agent's ACP package (default: the pinned one)" })),
    agentProcessVersion: Opt(Type.String({ minLength: 1, maxLength: 64, description: "used as agentVersion when that is absent" })),
  },
  { additionalProperties: false },
);
export const AgentInstallResponse = Type.Object({
  already_installed: Type.Boolean(),
  artifacts: Type.Array(Type.Object({ kind: Type.String(), path: Type.String(), source: Type.String(), version: Opt(Type.String()) })),
});

export const AcpServerListResponse = Type.Object({
  servers: Type.Array(Type.Object({ serverId: Type.String(), agent: Type.String(), createdAtMs: Type.Integer() })),
});
export const AcpParams = Type.Object({ server_id: Type.String({ minLength: 1, maxLength: 200, description: "client-chosen ACP server id" }) });
export const AcpPostQuery = Type.Object(
  {
    agent: Opt(Type.String({ minLength: 1, maxLength: 100, description: "agent id; required on the first POST, which creates the server" })),
    volume: VolumeParam,
  },
  { additionalProperties: false },
);
export const AcpEnvelope = Type.Object(
  {
    jsonrpc: Type.String(),
    id: Type.Optional(Type.Unknown()),
    method: Opt(Type.String()),
    params: Type.Optional(Type.Unknown()),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Type.Unknown()),
  },
  { description: "one JSON-RPC 2.0 message" },
);

const enabledTimeout = { enabled: Flag, timeoutMs: Opt(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })) };
const LocalMcp = (type: string) =>
  Type.Object(
    { type: Type.Literal(type), command: Type.String({ minLength: 1 }), args: Type.Optional(Type.Array(Type.String())), env: Opt(StringMap), cwd: Opt(Type.String()), ...enabledTimeout },
    { additionalProperties: false },
  );
const RemoteMcp = (type: string) =>
  Type.Object(
    {
      type: Type.Literal(type),
      url: Type.String({ minLength: 1 }),
      headers: Opt(StringMap),
      envHeaders: Opt(StringMap),
      bearerTokenEnvVar: Opt(Type.String()),
      oauth: Opt(Type.Record(Type.String(), Type.Unknown())),
      transport: Opt(Type.String()),
      ...enabledTimeout,
    },
    { additionalProperties: false },
  );
export const McpServerConfig = Type.Union([LocalMcp("local"), RemoteMcp("remote"), LocalMcp("stdio"), RemoteMcp("http")]);
export const McpConfigQuery = Type.Object({ directory: Name("absolute directory the entry belongs to"), mcpName: Name("entry name") }, { additionalProperties: false });

export const SkillsConfig = Type.Object(
  {
    sources: Type.Array(
      Type.Object(
        { type: Type.String({ minLength: 1 }), source: Type.String({ minLength: 1 }), ref: Opt(Type.String()), skills: Opt(Type.Array(Type.String())), subpath: Opt(Type.String()) },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);
export const SkillsConfigQuery = Type.Object({ directory: Name("absolute directory the entry belongs to"), skillName: Name("entry name") }, { additionalProperties: false });
