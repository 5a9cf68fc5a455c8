import OpenAI from "openai";
import type { ComputerCallOutput } from "../../actions/openai.js";
import { openaiTool, type AgentConfig } from "../config.js";
import { kindOfAction, LAUNCH_TOOL, SYSTEM_PROMPT, launchInput } from "./common.js";
import type { CallOutcome, CallPlan, ModelTurn, PromptInput, Provider, StepDefaults } from "./types.js";

type InputItem = Record<string, unknown>;

/**
 * OpenAI Responses with `computer_use_preview` or the GA `computer` tool. The conversation
 * lives on the API side (previous_response_id, truncation auto): each request carries only
 * the new items, so only the newest screenshot is ever sent.
 */
export class OpenAIResponsesProvider implements Provider {
  private readonly client: OpenAI;
  private readonly tool: Record<string, unknown>;
  private previous: string | undefined;
  private input: InputItem[] = [];
  private plans: CallPlan[] = [];

  constructor(
    private readonly config: AgentConfig,
    screenshot: { width: number; height: number },
    private readonly defaults: StepDefaults,
    env: NodeJS.ProcessEnv,
  ) {
    this.client = new OpenAI({ apiKey: config.apiKey ?? env.OPENAI_API_KEY ?? "missing", baseURL: config.baseUrl ?? env.OPENAI_BASE_URL ?? undefined, maxRetries: 0, timeout: 600_000 });
    const type = openaiTool(config);
    this.tool = type === "computer_use_preview" ? { type, display_width: screenshot.width, display_height: screenshot.height, environment: "linux" } : { type };
  }

  addUser(input: PromptInput): void {
    const content: InputItem[] = input.text.map((text) => ({ type: "input_text", text }));
    for (const i of input.images) content.push({ type: "input_image", image_url: `data:${i.mediaType};base64,${i.data}`, detail: "auto" });
    this.input.push({ role: "user", content });
  }

  async next(signal: AbortSignal): Promise<ModelTurn> {
    const body: Record<string, unknown> = {
      model: this.config.model,
      instructions: SYSTEM_PROMPT + (this.config.system ? `\n\n${this.config.system}` : ""),
      tools: [this.tool, { type: "function", name: LAUNCH_TOOL.name, description: LAUNCH_TOOL.description, parameters: LAUNCH_TOOL.parameters, strict: false }],
      input: this.input,
      truncation: "auto",
      reasoning: { summary: "concise" },
      ...(this.previous ? { previous_response_id: this.previous } : {}),
      max_output_tokens: this.config.maxTokens,
    };
    const response = await this.client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming, { signal });
    this.previous = response.id;
    this.input = [];
    const text: string[] = [];
    const plans: CallPlan[] = [];
    let refusal = false;
    for (const item of response.output) {
      if (item.type === "message") {
        for (const c of item.content) {
          if (c.type === "output_text") text.push(c.text);
          else if (c.type === "refusal") {
            refusal = true;
            text.push(c.refusal);
          }
        }
      } else if (item.type === "reasoning") {
        for (const s of item.summary ?? []) text.push(s.text);
      } else if (item.type === "computer_call") {
        const call = item as unknown as { call_id: string; action?: { type: string }; actions?: Array<{ type: string }>; pending_safety_checks?: CallPlan["safetyChecks"] };
        const actions = call.actions ?? (call.action ? [call.action] : []);
        plans.push({
          id: call.call_id,
          title: actions.map((a) => a.type).join(", ") || "computer",
          kinds: actions.map((a) => kindOfAction(a.type)),
          payload: item,
          step: { dialect: "openai", tool: this.tool, call: item as unknown as Record<string, unknown>, acknowledgeSafetyChecks: true, ...this.defaults },
          safetyChecks: call.pending_safety_checks?.length ? call.pending_safety_checks : undefined,
        });
      } else if (item.type === "function_call" && item.name === LAUNCH_TOOL.name) {
        const launch = launchInput(item.arguments);
        plans.push({ id: item.call_id, title: `Launch ${launch.app}`, kinds: ["launch"], payload: item, launch });
      } else if (item.type === "function_call") {
        plans.push({ id: item.call_id, title: `Unknown tool ${item.name}`, kinds: ["observe"], payload: item });
      }
    }
    this.plans = plans;
    return { text, calls: plans, refusal, request: body, response };
  }

  async answer(outcomes: CallOutcome[]): Promise<void> {
    this.plans.forEach((plan, i) => {
      const o = outcomes[i]!;
      if (plan.step) {
        if (o.kind === "done") {
          this.input.push(o.response.result as ComputerCallOutput as unknown as InputItem);
          if (o.note) this.input.push({ role: "user", content: [{ type: "input_text", text: `The ${plan.title} action was not run: ${o.note}` }] });
        }
        // a computer_call needs its output with a screenshot: the loop fetched one for refusals
        else if (o.kind === "error" || o.kind === "rejected" || o.kind === "skipped") this.input.push({ role: "user", content: [{ type: "input_text", text: `The ${plan.title} action was not run: ${o.kind === "error" ? o.message : o.reason}` }] });
      } else {
        const output = o.kind === "launched" ? JSON.stringify(o.result) : o.kind === "error" ? `error: ${o.message}` : o.kind === "done" ? "done" : `not run: ${o.reason}`;
        this.input.push({ type: "function_call_output", call_id: plan.id, output });
      }
    });
    this.plans = [];
  }
}
