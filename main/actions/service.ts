import * as anthropic from "./anthropic.js";
import * as openai from "./openai.js";
import type { Desktop } from "../desktop/types.js";
import { ActionExecutor, type PhaseObserver, type StepRequest, type StepResult } from "./executor.js";
import type { ActionStep } from "./schema.js";
import type { ComputerActions, StepReport, StepResponse } from "./types.js";

/**
 * One model step in any dialect: translate the model's payload into native actions, run
 * them through the executor, answer in the dialect's own reply format.
 */
export class ActionService implements ComputerActions {
  readonly executor: ActionExecutor;
  private readonly scroll = new openai.ScrollCarry();

  /** `observe` hears each timed phase of every call (the runtime's metrics) */
  constructor(desktop: Desktop, observe?: PhaseObserver) {
    this.executor = new ActionExecutor(desktop, observe);
  }

  async step(req: ActionStep): Promise<StepResponse> {
    const common: Omit<StepRequest, "actions"> = { settle: req.settle, image: req.image, budget: req.budget };
    switch (req.dialect) {
      case "anthropic": {
        const tool = req.tool as anthropic.AnthropicTool;
        const blocks = anthropic.computerBlocks(tool, Array.isArray(req.content) ? req.content : [req.content]);
        const size = anthropic.declaredSize(tool);
        const result = await this.executor.run({
          ...common,
          budget: req.budget ?? "anthropic",
          screenshotSize: size,
          actions: blocks.map((b) => anthropic.translate(tool, b)),
        });
        return { dialect: "anthropic", result: anthropic.toolResults(blocks, result), glasspane: report(result) };
      }
      case "openai": {
        const tool = req.tool as openai.OpenAITool;
        const call = req.call as openai.ComputerCall;
        const list = openai.callActions(call);
        const result = await this.executor.run({
          ...common,
          budget: req.budget ?? "original",
          screenshotSize: openai.declaredSize(tool),
          actions: list.map((a) => openai.translate(a, this.scroll, req.scrollPixelsPerNotch)),
        });
        const glasspane = report(result);
        glasspane.pendingSafetyChecks = call.pending_safety_checks ?? [];
        return { dialect: "openai", result: openai.callOutput(call, result, req.acknowledgeSafetyChecks === true), glasspane };
      }
      case "native": {
        const result = await this.executor.run({ ...common, budget: req.budget ?? "original", screenshotSize: req.screenshotSize, actions: req.actions });
        return {
          dialect: "native",
          result: {
            results: result.outcomes.map((o) => ({
              status: o.status,
              ...(o.error ? { error: o.error } : {}),
              ...(o.position ? { position: o.position } : {}),
              ...(o.image ? { image: imageJson(o.image) } : {}),
            })),
            screenshot: result.screenshot ? imageJson(result.screenshot) : null,
          },
          glasspane: report(result),
        };
      }
    }
  }
}

function imageJson(i: { contentType: string; data: Buffer; width: number; height: number }) {
  return { mediaType: i.contentType, width: i.width, height: i.height, data: i.data.toString("base64") };
}

function report(r: StepResult): StepReport {
  return {
    scale: r.scale,
    actions: r.outcomes.map((o) => ({ status: o.status, ...(o.error ? { error: o.error } : {}), ms: o.ms })),
    settle: r.settle ?? null,
    timings: r.timings,
  };
}
