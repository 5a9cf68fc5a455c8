import type { AgentCapabilities } from "./types.js";

/** What an agent's process needs to start here: program, arguments, extra environment. */
export interface LaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The server's environment as an agent sees it, with the desktop's display and the agent's own home. */
export interface LaunchContext {
  env: NodeJS.ProcessEnv;
  /** the installed program (node_modules/.bin/<bin>), or the mock agent's script */
  program: string;
  /** a folder of the state directory the agent may keep its own files in */
  home: string;
}

export interface AgentDefinition {
  id: string;
  /** npm package of the ACP program; absent for the built-in mock */
  npmPackage?: string;
  /** default pinned version */
  version?: string;
  /** name of the program in node_modules/.bin */
  bin?: string;
  /** environment variables that carry a credential this agent can use */
  credentialEnv: string[];
  capabilities: AgentCapabilities;
  launch(ctx: LaunchContext): LaunchPlan;
}

const NONE: AgentCapabilities = {
  commandExecution: false,
  errorEvents: false,
  fileAttachments: false,
  fileChanges: false,
  images: false,
  itemStarted: false,
  mcpTools: false,
  permissions: false,
  planMode: false,
  questions: false,
  reasoning: false,
  sessionLifecycle: false,
  sharedProcess: false,
  status: false,
  streamingDeltas: false,
  textMessages: false,
  toolCalls: false,
  toolResults: false,
};

const CODING: AgentCapabilities = {
  ...NONE,
  commandExecution: true,
  errorEvents: true,
  fileChanges: true,
  images: true,
  mcpTools: true,
  permissions: true,
  planMode: true,
  reasoning: true,
  sessionLifecycle: true,
  sharedProcess: true,
  status: true,
  streamingDeltas: true,
  textMessages: true,
  toolCalls: true,
  toolResults: true,
};

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** TOML string literal for a codex `-c key=value` override. */
const toml = (s: string) => JSON.stringify(s);

/**
 * The agents Glasspane knows, with pinned default versions. Every launch honours the
 * standard variables of the server's environment (`ANTHROPIC_BASE_URL`,
 * `OPENAI_BASE_URL`, the API keys); an agent that ignores them (codex) gets them
 * translated into its own flags.
 */
export const AGENTS: AgentDefinition[] = [
  {
    id: "claude",
    npmPackage: "@zed-industries/claude-agent-acp",
    version: "0.23.1",
    bin: "claude-agent-acp",
    credentialEnv: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
    capabilities: CODING,
    launch: ({ program }) => ({
      command: program,
      args: [],
      env: {
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        // as root Claude Code refuses to skip permissions unless it knows it is in a sandbox
        ...(isRoot() ? { IS_SANDBOX: "1" } : {}),
      },
    }),
  },
  {
    id: "codex",
    npmPackage: "@zed-industries/codex-acp",
    version: "0.16.0",
    bin: "codex-acp",
    credentialEnv: ["OPENAI_API_KEY", "CODEX_API_KEY"],
    capabilities: CODING,
    launch: ({ program, env, home }) => {
      // Glasspane's computer is the sandbox: codex's own (bubblewrap and a helper binary
      // its npm package lacks) cannot run here, and every command would fail in it
      const args: string[] = ["-c", 'sandbox_mode="danger-full-access"'];
      const base = env.OPENAI_BASE_URL;
      // codex-acp ignores OPENAI_BASE_URL: a provider entry pointing at it does the same
      if (base) {
        args.push(
          "-c",
          `model_providers.glasspane={name="glasspane",base_url=${toml(base)},env_key="OPENAI_API_KEY",wire_api="responses"}`,
          "-c",
          'model_provider="glasspane"',
        );
      }
      const extra: Record<string, string> = { CODEX_HOME: env.CODEX_HOME ?? home };
      // its codex-api-key auth method reads CODEX_API_KEY; the standard key stands in for it
      if (!env.CODEX_API_KEY && env.OPENAI_API_KEY) extra.CODEX_API_KEY = env.OPENAI_API_KEY;
      return { command: program, args, env: extra };
    },
  },
  {
    id: "gemini",
    npmPackage: "@google/gemini-cli",
    version: "0.61.0",
    bin: "gemini",
    credentialEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    capabilities: { ...CODING, planMode: false },
    launch: ({ program }) => ({ command: program, args: ["--experimental-acp"], env: {} }),
  },
  {
    id: "opencode",
    npmPackage: "opencode-ai",
    version: "1.18.33",
    bin: "opencode",
    credentialEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY"],
    capabilities: CODING,
    launch: ({ program }) => ({ command: program, args: ["acp"], env: {} }),
  },
  {
    id: "mock",
    credentialEnv: [],
    capabilities: { ...NONE, permissions: true, sessionLifecycle: true, streamingDeltas: true, textMessages: true, toolCalls: true, toolResults: true },
    launch: ({ program }) => ({ command: process.execPath, args: [program], env: {} }),
  },
];

export function findAgent(id: string): AgentDefinition | undefined {
  return AGENTS.find((a) => a.id === id);
}
