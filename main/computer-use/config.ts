import type { ImageBudget, SettleOptions } from "../actions/schema.js";
import { LIMITS } from "../shared/limits.js";

export type ProviderName = "anthropic" | "openai" | "openai-compatible";
export const PROVIDERS: ProviderName[] = ["anthropic", "openai", "openai-compatible"];

export const ANTHROPIC_TOOLS = ["computer_20250124", "computer_20251124", "computer_toolset_20260801"] as const;
const IMAGE_BUDGETS: ImageBudget[] = ["anthropic", "anthropic-2576", "original"];
export const OPENAI_TOOLS = ["computer_use_preview", "computer"] as const;

/**
 * What may need a person's yes before it runs. `launch`: starting a program;
 * `terminal_input`: typing or pressing keys while a terminal window has the focus;
 * `keyboard` / `pointer`: every such action; `all`: every action.
 */
export type PermissionCategory = "launch" | "terminal_input" | "keyboard" | "pointer" | "all";
export const PERMISSION_CATEGORIES: PermissionCategory[] = ["launch", "terminal_input", "keyboard", "pointer", "all"];

/** One session's settings: from `session/new`'s `_meta.computerUse`, `session/set_config_option` and the environment. */
export interface AgentConfig {
  provider: ProviderName;
  model: string;
  /** the computer tool version declared to the model (Anthropic / OpenAI); derived from the model when absent */
  tool?: string;
  baseUrl?: string;
  apiKey?: string;
  /** model turns per prompt before it ends with max_turn_requests */
  maxSteps: number;
  /** screenshots kept in the model's context; older ones become a short note */
  maxImages: number;
  /** settle options of every step (the action endpoint's defaults when absent) */
  settle?: SettleOptions | false;
  /** the image budget screenshots are scaled to (anthropic 1568 px / 1.15 MP, anthropic-2576, original); default: anthropic, original for OpenAI */
  imageBudget?: ImageBudget;
  /** the screenshot size declared to the model; default: the display scaled to the image budget */
  screenshotSize?: { width: number; height: number };
  permissions: PermissionCategory[];
  maxTokens: number;
  /** retries of a 429 / 5xx / connection error, with exponential backoff from retryBaseMs */
  maxRetries: number;
  retryBaseMs: number;
  /** record the screen for the whole session */
  record: boolean;
  /** extra system instructions */
  system?: string;
}

export const DEFAULT_MODELS: Record<ProviderName, string> = {
  anthropic: "claude-sonnet-4-5",
  openai: "computer-use-preview",
  "openai-compatible": "qwen2.5-vl-7b-instruct",
};

/** The provider the environment has a key for (Anthropic first), or Anthropic. */
function defaultProvider(env: NodeJS.ProcessEnv): ProviderName {
  if (env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN) return "anthropic";
  if (env.OPENAI_API_KEY) return "openai";
  return "anthropic";
}

export function defaultConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const provider = defaultProvider(env);
  return {
    provider,
    model: DEFAULT_MODELS[provider],
    maxSteps: 50,
    maxImages: 3,
    permissions: ["launch", "terminal_input"],
    maxTokens: 4096,
    maxRetries: 3,
    retryBaseMs: 500,
    record: false,
  };
}

const int = (v: unknown, name: string, min: number, max: number): number => {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return n;
};
const str = (v: unknown, name: string): string => {
  if (typeof v !== "string" || v === "") throw new Error(`${name} must be a non-empty string`);
  return v;
};

/** Applies one setting (a `_meta.computerUse` key or a config option id) to `config`; throws a message on a bad value. */
export function applySetting(config: AgentConfig, key: string, value: unknown): void {
  switch (key) {
    case "provider": {
      const p = str(value, "provider") as ProviderName;
      if (!PROVIDERS.includes(p)) throw new Error(`provider must be one of ${PROVIDERS.join(", ")}`);
      if (p !== config.provider) {
        config.provider = p;
        config.model = DEFAULT_MODELS[p];
        config.tool = undefined;
      }
      return;
    }
    case "model":
      config.model = str(value, "model");
      return;
    case "tool": {
      const t = str(value, "tool");
      if (![...ANTHROPIC_TOOLS, ...OPENAI_TOOLS].includes(t as never)) throw new Error(`tool must be one of ${[...ANTHROPIC_TOOLS, ...OPENAI_TOOLS].join(", ")}`);
      config.tool = t;
      return;
    }
    case "baseUrl":
      config.baseUrl = str(value, "baseUrl");
      return;
    case "apiKey":
      config.apiKey = str(value, "apiKey");
      return;
    case "maxSteps":
      config.maxSteps = int(value, "maxSteps", 1, LIMITS.agentSteps.max);
      return;
    case "maxImages":
      config.maxImages = int(value, "maxImages", LIMITS.agentImages.min, LIMITS.agentImages.max);
      return;
    case "maxTokens":
      config.maxTokens = int(value, "maxTokens", 1, 1_000_000);
      return;
    case "maxRetries":
      config.maxRetries = int(value, "maxRetries", 0, 20);
      return;
    case "retryBaseMs":
      config.retryBaseMs = int(value, "retryBaseMs", 0, 60_000);
      return;
    case "settle":
      if (value !== false && (typeof value !== "object" || value === null || Array.isArray(value))) throw new Error("settle must be false or {quietMs, firstChangeMs, timeoutMs}");
      config.settle = value as SettleOptions | false;
      return;
    case "imageBudget": {
      const b = str(value, "imageBudget");
      if (!IMAGE_BUDGETS.includes(b as ImageBudget)) throw new Error(`imageBudget must be one of ${IMAGE_BUDGETS.join(", ")}`);
      config.imageBudget = b as ImageBudget;
      return;
    }
    case "screenshotSize": {
      const s = value as { width?: unknown; height?: unknown };
      config.screenshotSize = { width: int(s?.width, "screenshotSize.width", 1, LIMITS.screenSize.max), height: int(s?.height, "screenshotSize.height", 1, LIMITS.screenSize.max) };
      return;
    }
    case "permissions": {
      const list = typeof value === "string" ? (value === "none" ? [] : value.split(",").map((s) => s.trim())) : value;
      if (!Array.isArray(list) || !list.every((c) => PERMISSION_CATEGORIES.includes(c))) throw new Error(`permissions must be a list of ${PERMISSION_CATEGORIES.join(", ")} (or "none")`);
      config.permissions = list as PermissionCategory[];
      return;
    }
    case "record":
      config.record = value === true || value === "true";
      return;
    case "system":
      config.system = str(value, "system");
      return;
    default:
      throw new Error(`unknown computer-use setting "${key}"`);
  }
}

/** The Anthropic computer tool a model takes: the toolset for 5.x, 20251124 for Opus 4.5+ / Sonnet 4.6, else 20250124. */
export function anthropicTool(config: AgentConfig): (typeof ANTHROPIC_TOOLS)[number] {
  if (config.tool && (ANTHROPIC_TOOLS as readonly string[]).includes(config.tool)) return config.tool as (typeof ANTHROPIC_TOOLS)[number];
  const m = config.model;
  if (/-5[-.]|fable|mythos/.test(m)) return "computer_toolset_20260801";
  if (/opus-4-[5-9]|sonnet-4-[6-9]|opus-4\.[5-9]|sonnet-4\.[6-9]/.test(m)) return "computer_20251124";
  return "computer_20250124";
}

/** The OpenAI computer tool: computer_use_preview for the computer-use-preview model, the GA tool otherwise. */
export function openaiTool(config: AgentConfig): (typeof OPENAI_TOOLS)[number] {
  if (config.tool && (OPENAI_TOOLS as readonly string[]).includes(config.tool)) return config.tool as (typeof OPENAI_TOOLS)[number];
  return /computer-use-preview/.test(config.model) ? "computer_use_preview" : "computer";
}
