import OpenAI from "openai";
import { NativeAction } from "../../actions/schema.js";
import type { AgentConfig } from "../config.js";
import { kindOfAction, LAUNCH_TOOL, OLD_SCREENSHOT_NOTE, SYSTEM_PROMPT, launchInput, screenshotOf } from "./common.js";
import type { CallOutcome, CallPlan, ModelTurn, PromptInput, Provider, StepDefaults } from "./types.js";

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type Part = OpenAI.Chat.Completions.ChatCompletionContentPart;

/**
 * Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, ...) with a vision model:
 * a `computer` function tool whose arguments are our native actions, run by the action
 * endpoint's native dialect. Tool messages carry text only, so each screenshot follows as
 * a user image; only the last maxImages are sent.
 */
export class OpenAIChatProvider implements Provider {
  private readonly client: OpenAI;
  private readonly messages: Message[] = [];
  private plans: CallPlan[] = [];

  constructor(
    private readonly config: AgentConfig,
    private readonly screenshot: { width: number; height: number },
    private readonly defaults: StepDefaults,
    env: NodeJS.ProcessEnv,
  ) {
    this.client = new OpenAI({ apiKey: config.apiKey ?? env.OPENAI_API_KEY ?? "none", baseURL: config.baseUrl ?? env.OPENAI_BASE_URL ?? undefined, maxRetries: 0, timeout: 600_000 });
    const system = `${SYSTEM_PROMPT} Screenshots are ${screenshot.width}x${screenshot.height} pixels; coordinates are in that space.${config.system ? `\n\n${config.system}` : ""}`;
    this.messages.push({ role: "system", content: system });
  }

  addUser(input: PromptInput): void {
    const content: Part[] = input.text.map((text) => ({ type: "text", text }));
    for (const i of input.images) content.push({ type: "image_url", image_url: { url: `data:${i.mediaType};base64,${i.data}` } });
    this.messages.push({ role: "user", content });
  }

  async next(signal: AbortSignal): Promise<ModelTurn> {
    this.prune();
    const body = {
      model: this.config.model,
      max_tokens: this.config.maxTokens,
      messages: this.messages,
      tools: [
        {
          type: "function" as const,
          function: {
            name: "computer",
            description: "Run desktop actions in order and get a settled screenshot back. Coordinates are screenshot pixels.",
            parameters: { type: "object", properties: { actions: { type: "array", items: NativeAction, minItems: 1 } }, required: ["actions"] } as Record<string, unknown>,
          },
        },
        { type: "function" as const, function: { name: LAUNCH_TOOL.name, description: LAUNCH_TOOL.description, parameters: LAUNCH_TOOL.parameters as Record<string, unknown> } },
      ],
    };
    const response = await this.client.chat.completions.create(body, { signal });
    const message = response.choices[0]?.message;
    const text: string[] = [];
    const plans: CallPlan[] = [];
    if (message) {
      this.messages.push({ role: "assistant", content: message.content ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) } as Message);
      if (message.content) text.push(message.content);
      if (message.refusal) text.push(message.refusal);
      for (const call of message.tool_calls ?? []) {
        if (call.type !== "function") continue;
        if (call.function.name === LAUNCH_TOOL.name) {
          const launch = launchInput(call.function.arguments);
          plans.push({ id: call.id, title: `Launch ${launch.app}`, kinds: ["launch"], payload: call, launch });
          continue;
        }
        let actions: Array<{ type: string }> = [];
        try {
          actions = (JSON.parse(call.function.arguments) as { actions?: Array<{ type: string }> }).actions ?? [];
        } catch {
          // bad JSON: the action endpoint answers with the validation error
        }
        plans.push({
          id: call.id,
          title: actions.map((a) => a?.type).join(", ") || call.function.name,
          kinds: actions.map((a) => kindOfAction(a?.type)),
          payload: call,
          step: call.function.name === "computer" ? { dialect: "native", actions, screenshotSize: this.screenshot, ...this.defaults } : undefined,
        });
      }
    }
    this.plans = plans;
    return { text, calls: plans, refusal: !!message?.refusal || response.choices[0]?.finish_reason === "content_filter", request: body, response };
  }

  async answer(outcomes: CallOutcome[]): Promise<void> {
    const images: Part[] = [];
    this.plans.forEach((plan, i) => {
      const o = outcomes[i]!;
      let content: string;
      if (o.kind === "done") {
        const results = (o.response.result as { results: unknown[] }).results;
        content = JSON.stringify({ results: (results as Array<Record<string, unknown>>).map(({ image: _image, ...r }) => r), screenshot: "attached below" });
        const shot = screenshotOf(o.response);
        if (shot) images.push({ type: "image_url", image_url: { url: `data:${shot.mediaType};base64,${shot.data}` } });
      } else if (o.kind === "launched") content = JSON.stringify(o.result);
      else content = JSON.stringify({ error: o.kind === "error" ? o.message : `not run: ${o.reason}` });
      this.messages.push({ role: "tool", tool_call_id: plan.id, content });
    });
    if (images.length) this.messages.push({ role: "user", content: [{ type: "text", text: "The screen after your actions:" }, ...images] });
    this.plans = [];
  }

  /** Only the last maxImages images stay; older ones become a note. */
  private prune(): void {
    let kept = 0;
    for (let m = this.messages.length - 1; m >= 0; m--) {
      const msg = this.messages[m]!;
      if (msg.role !== "user" || typeof msg.content === "string") continue;
      const parts = msg.content as Part[];
      for (let p = parts.length - 1; p >= 0; p--) {
        if (parts[p]!.type !== "image_url") continue;
        if (kept < this.config.maxImages) kept++;
        else parts[p] = { type: "text", text: OLD_SCREENSHOT_NOTE };
      }
    }
  }
}
