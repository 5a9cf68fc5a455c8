import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
  /** how an agent of the runtime's own reaches its HTTP API, and where traces go */
  runtime?: { url: string; token?: string; traceDir: string };
}

export interface AgentDefinition {
  id: string;
  /** npm package of the ACP program; absent for the built-in agents */
  npmPackage?: string;
  /** default pinned version */
  version?: string;
  /** name of the program in node_modules/.bin */
  bin?: string;
  /** a built-in agent: the script of ours it runs with node */
  script?: string;
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

const COMPUTER_USE: AgentCapabilities = {
  ...NONE,
  errorEvents: true,
  images: true,
  permissions: true,
  reasoning: true,
  sessionLifecycle: true,
  streamingDeltas: true,
  textMessages: true,
  toolCalls: true,
  toolResults: true,
};

const script = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** Whether codex's own config.toml sets `key` at the top level (then it wins over what Glasspane would pass). */
function codexConfigSets(home: string, key: string): boolean {
  try {
    return new RegExp(`^\\s*${key}\\s*=`, "m").test(readFileSync(path.join(home, "config.toml"), "utf8").split(/^\[/m)[0]!);
  } catch {
    return false;
  }
}

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
      const codexHome = env.CODEX_HOME ?? home;
      const args: string[] = [];
      // Glasspane's computer is the sandbox: codex's own (bubblewrap and a helper binary
      // its npm package lacks) cannot run here, and every command would fail in it
      if (!codexConfigSets(codexHome, "sandbox_mode")) args.push("-c", 'sandbox_mode="danger-full-access"');
      const base = env.OPENAI_BASE_URL;
      // codex-acp ignores OPENAI_BASE_URL: a provider entry pointing at it does the same,
      // unless codex's own config chose a provider
      if (base && !codexConfigSets(codexHome, "model_provider")) {
        args.push(
          "-c",
          `model_providers.glasspane={name="glasspane",base_url=${toml(base)},env_key="OPENAI_API_KEY",wire_api="responses"}`,
          "-c",
          'model_provider="glasspane"',
        );
      }
      const extra: Record<string, string> = { CODEX_HOME: codexHome };
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
    // served by the runtime itself: our own script, no install step; it drives the desktop
    // through the runtime's action endpoint and writes its traces into the state directory
    id: "computer-use",
    script: script("../computer-use/agent.js"),
    credentialEnv: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY"],
    capabilities: COMPUTER_USE,
    launch: ({ program, runtime }) => ({
      command: process.execPath,
      args: [program],
      env: runtime ? { GLASSPANE_URL: runtime.url, GLASSPANE_TRACE_DIR: runtime.traceDir, ...(runtime.token ? { GLASSPANE_TOKEN: runtime.token } : {}) } : {},
    }),
  },
  {
    id: "mock",
    script: script("./mock-agent.js"),
    credentialEnv: [],
    capabilities: { ...NONE, permissions: true, sessionLifecycle: true, streamingDeltas: true, textMessages: true, toolCalls: true, toolResults: true },
    launch: ({ program }) => ({ command: process.execPath, args: [program], env: {} }),
  },
];

export function findAgent(id: string): AgentDefinition | undefined {
  return AGENTS.find((a) => a.id === id);
}
