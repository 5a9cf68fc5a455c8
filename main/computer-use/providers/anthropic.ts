import Anthropic from "@anthropic-ai/sdk";
import type { BetaContentBlock, BetaContentBlockParam, BetaToolResultBlockParam, BetaToolUnion } from "@anthropic-ai/sdk/resources/beta/messages/messages";

/** A turn of the conversation as we keep it (the SDK's BetaMessageParam, user and assistant only). */
interface BetaMessageParam {
  role: "user" | "assistant";
  content: BetaContentBlockParam[];
}
import type { ToolResult } from "../../actions/anthropic.js";
import { anthropicTool, type AgentConfig } from "../config.js";
import { kindOfAction, LAUNCH_TOOL, SYSTEM_PROMPT, launchInput, OLD_SCREENSHOT_NOTE } from "./common.js";
import type { CallOutcome, CallPlan, ModelTurn, PromptInput, Provider, StepDefaults } from "./types.js";

const BETAS: Record<string, string[]> = {
  computer_20250124: ["computer-use-2025-01-24"],
  computer_20251124: ["computer-use-2025-11-24"],
  computer_toolset_20260801: [],
};

/** What each Anthropic action is, for the permission policy. */
function kindOf(action: string): CallPlan["kinds"][number] {
  if (action === "hold_key") return "keyboard";
  return kindOfAction(action);
}
/**
 * Anthropic Messages with the computer tool the model takes (20250124, 20251124 or the
 * 20260801 toolset). The model's tool_use blocks go to the action endpoint as they are;
 * its tool_result blocks come back ready.
 */
export class AnthropicProvider implements Provider {
  private readonly client: Anthropic;
  private readonly messages: BetaMessageParam[] = [];
  private readonly tool: Record<string, unknown>;
  private pending: { plans: CallPlan[]; blocks: BetaContentBlock[] } | undefined;

  constructor(
    private readonly config: AgentConfig,
    screenshot: { width: number; height: number },
    private readonly defaults: StepDefaults,
    env: NodeJS.ProcessEnv,
  ) {
    this.client = new Anthropic({
      apiKey: config.apiKey ?? env.ANTHROPIC_API_KEY ?? null,
      authToken: env.ANTHROPIC_AUTH_TOKEN ?? null,
      baseURL: config.baseUrl ?? env.ANTHROPIC_BASE_URL ?? undefined,
      maxRetries: 0, // the loop retries, so every attempt is traced
      timeout: 600_000,
    });
    const type = anthropicTool(config);
    this.tool =
      type === "computer_toolset_20260801"
        ? { type }
        : { type, name: "computer", display_width_px: screenshot.width, display_height_px: screenshot.height, ...(type === "computer_20251124" ? { enable_zoom: true } : {}) };
  }

  addUser(input: PromptInput): void {
    const content: BetaContentBlockParam[] = input.text.map((text) => ({ type: "text", text }));
    for (const i of input.images) content.push({ type: "image", source: { type: "base64", media_type: i.mediaType as "image/png", data: i.data } });
    this.messages.push({ role: "user", content });
  }

  async next(signal: AbortSignal): Promise<ModelTurn> {
    this.prune();
    const body = {
      model: this.config.model,
      max_tokens: this.config.maxTokens,
      system: [{ type: "text" as const, text: SYSTEM_PROMPT + (this.config.system ? `\n\n${this.config.system}` : ""), cache_control: { type: "ephemeral" as const } }],
      tools: [this.tool as unknown as BetaToolUnion, { name: LAUNCH_TOOL.name, description: LAUNCH_TOOL.description, input_schema: LAUNCH_TOOL.parameters } as BetaToolUnion],
      messages: withCacheMark(this.messages),
      betas: BETAS[this.tool.type as string],
    };
    const response = await this.client.beta.messages.create(body as Parameters<Anthropic["beta"]["messages"]["create"]>[0] & { stream?: false }, { signal });
    this.messages.push({ role: "assistant", content: response.content as BetaContentBlockParam[] });
    const text: string[] = [];
    const plans: CallPlan[] = [];
    const computer: Array<BetaContentBlock & { type: "tool_use" }> = [];
    for (const block of response.content) {
      if (block.type === "text") text.push(block.text);
      else if (block.type === "thinking") text.push(block.thinking);
      else if (block.type === "tool_use") {
        const toolset = (block as { toolset_name?: string }).toolset_name;
        if (block.name === LAUNCH_TOOL.name) plans.push({ id: block.id, title: `Launch ${String((block.input as { app?: unknown }).app)}`, kinds: ["launch"], payload: block, launch: launchInput(block.input) });
        else if (toolset === "computer" || block.name === "computer") computer.push(block);
        else plans.push({ id: block.id, title: `Unknown tool ${block.name}`, kinds: ["observe"], payload: block });
      }
    }
    if (computer.length) {
      // one step for the turn's computer calls: the executor's batch rules decide what runs
      const actionName = (b: (typeof computer)[number]) => (this.tool.type === "computer_toolset_20260801" ? b.name : String((b.input as { action?: unknown }).action));
      const steps = this.tool.type === "computer_toolset_20260801" ? [computer] : computer.map((b) => [b]);
      for (const group of steps) {
        plans.push({
          id: group[0]!.id,
          title: group.map(actionName).join(", "),
          kinds: group.map((b) => kindOf(actionName(b))),
          payload: group,
          step: { dialect: "anthropic", tool: this.tool, content: group, ...this.defaults },
        });
      }
    }
    this.pending = { plans, blocks: response.content };
    return { text, calls: plans, refusal: response.stop_reason === "refusal", request: body, response };
  }

  async answer(outcomes: CallOutcome[]): Promise<void> {
    const plans = this.pending?.plans ?? [];
    const results: BetaToolResultBlockParam[] = [];
    plans.forEach((plan, i) => {
      const o = outcomes[i]!;
      const uses = (Array.isArray(plan.payload) ? plan.payload : [plan.payload]) as Array<{ id: string; toolset_name?: string }>;
      if (o.kind === "done") results.push(...((o.response.result as ToolResult[]) as BetaToolResultBlockParam[]));
      else {
        const text = o.kind === "launched" ? JSON.stringify(o.result) : o.kind === "error" ? o.message : o.reason;
        for (const u of uses) {
          const r: BetaToolResultBlockParam & { toolset_name?: string } = { type: "tool_result", tool_use_id: u.id, content: [{ type: "text", text }] };
          if (o.kind !== "launched") r.is_error = true;
          if (u.toolset_name) r.toolset_name = u.toolset_name;
          results.push(r);
        }
      }
    });
    this.pending = undefined;
    if (results.length) this.messages.push({ role: "user", content: results });
  }

  /** Only the last maxImages screenshots stay; older ones become a note. */
  private prune(): void {
    let kept = 0;
    for (let m = this.messages.length - 1; m >= 0; m--) {
      const content = this.messages[m]!.content;
      for (let b = content.length - 1; b >= 0; b--) {
        const block = content[b]!;
        if (block.type !== "tool_result" || !Array.isArray(block.content)) continue;
        for (let c = block.content.length - 1; c >= 0; c--) {
          if (block.content[c]!.type !== "image") continue;
          if (kept < this.config.maxImages) kept++;
          else block.content[c] = { type: "text", text: OLD_SCREENSHOT_NOTE };
        }
      }
    }
  }
}

/** Prompt caching: a breakpoint on the last block of the newest user turn (the prefix before it is reused). */
function withCacheMark(messages: BetaMessageParam[]): BetaMessageParam[] {
  const out = messages.map((m) => ({ ...m, content: m.content.map((b) => ({ ...b })) }));
  for (let i = out.length - 1; i >= 0; i--) {
    const m = out[i]!;
    if (m.role !== "user" || m.content.length === 0) continue;
    (m.content[m.content.length - 1] as { cache_control?: unknown }).cache_control = { type: "ephemeral" };
    break;
  }
  return out;
}

