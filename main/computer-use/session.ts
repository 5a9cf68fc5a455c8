import * as acp from "@agentclientprotocol/sdk";
import { sizeForBudget } from "../actions/scale.js";
import type { AgentConfig, PermissionCategory } from "./config.js";
import type { GlasspaneClient } from "./glasspane-client.js";
import { AnthropicProvider } from "./providers/anthropic.js";
import { screenshotOf } from "./providers/common.js";
import { OpenAIChatProvider } from "./providers/openai-chat.js";
import { OpenAIResponsesProvider } from "./providers/openai-responses.js";
import type { CallOutcome, CallPlan, PromptInput, Provider } from "./providers/types.js";
import { describe, withRetries } from "./retry.js";
import { TraceWriter, withoutImages } from "./trace.js";

/** Window titles that mark a terminal (typing into one needs a yes under `terminal_input`). */
const TERMINAL_TITLE = /\b(xterm|uxterm|terminal|konsole|urxvt|rxvt|alacritty|kitty|foot|tilix|terminator|bash|zsh|sh|tmux)\b|[$#]\s*$|^\w+@[\w.-]+:/i;

class Cancelled extends Error {}

/**
 * One computer-use session: the loop of model turn -> actions (through the action
 * endpoint) -> replies, with the permission policy, cancellation at step boundaries,
 * retries and the trace.
 */
export class ComputerUseSession {
  private provider: Provider | undefined;
  private abort: AbortController | undefined;
  private cancelled = false;
  private readonly allowedAlways = new Set<string>();
  private recording: { id: string; startT: number } | undefined;
  private step = 0;

  constructor(
    readonly id: string,
    readonly config: AgentConfig,
    private readonly conn: acp.AgentSideConnection,
    private readonly glasspane: GlasspaneClient,
    readonly trace: TraceWriter,
    private readonly env: NodeJS.ProcessEnv,
  ) {
  }

  /** Starts the session's screen recording (config.record); a failure is traced and told, not fatal. */
  async startRecording(): Promise<void> {
    if (!this.config.record || this.recording) return;
    try {
      const info = await this.glasspane.startRecording();
      this.recording = { id: info.id, startT: this.trace.now() };
      this.trace.write("recording", { event: "started", recordingId: info.id, startedAt: info.startedAt });
    } catch (err) {
      this.trace.write("recording", { event: "failed", error: (err as Error).message });
    }
  }

  async stopRecording(): Promise<void> {
    if (!this.recording) return;
    const rec = this.recording;
    this.recording = undefined;
    try {
      await this.glasspane.stopRecording();
      this.trace.write("recording", { event: "stopped", recordingId: rec.id, durationMs: this.trace.now() - rec.startT });
    } catch (err) {
      this.trace.write("recording", { event: "stop_failed", recordingId: rec.id, error: (err as Error).message });
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.abort?.abort();
  }

  async prompt(params: acp.PromptRequest): Promise<acp.PromptResponse> {
    if (this.abort) throw acp.RequestError.invalidRequest({ sessionId: this.id }, "a prompt is already running in this session");
    this.cancelled = false;
    this.abort = new AbortController();
    try {
      if (!this.provider) {
        const { apiKey: _key, ...shown } = this.config;
        this.trace.write("session", { sessionId: this.id, config: shown, recordingId: this.recording?.id ?? null });
      }
      const provider =
        this.provider ??
        (this.provider = await this.makeProvider().catch((err: Error) => {
          throw acp.RequestError.internalError({}, err.message);
        }));
      const input = promptInput(params.prompt);
      this.trace.write("prompt", { text: input.text, images: input.images.map((i) => this.trace.image(i.data, i.mediaType)) });
      provider.addUser(input);
      const stop = await this.loop(provider);
      this.trace.write("end", { stopReason: stop, steps: this.step });
      return { stopReason: stop };
    } catch (err) {
      if (err instanceof Cancelled || this.cancelled) {
        this.trace.write("end", { stopReason: "cancelled", steps: this.step });
        return { stopReason: "cancelled" };
      }
      const message = err instanceof acp.RequestError ? err.message : `the ${this.config.provider} model failed: ${describe(err)}`;
      this.trace.write("end", { stopReason: "error", error: message, steps: this.step });
      if (err instanceof acp.RequestError) throw err;
      throw acp.RequestError.internalError({ provider: this.config.provider, model: this.config.model }, message);
    } finally {
      this.abort = undefined;
    }
  }

  private async loop(provider: Provider): Promise<acp.StopReason> {
    for (let turnNo = 0; turnNo < this.config.maxSteps; turnNo++) {
      if (this.cancelled) return "cancelled";
      const signal = this.abort!.signal;
      const started = this.trace.now();
      const turn = await withRetries(
        async () => {
          try {
            return await provider.next(signal);
          } catch (err) {
            if (signal.aborted) throw new Cancelled();
            throw err;
          }
        },
        {
          retries: this.config.maxRetries,
          baseMs: this.config.retryBaseMs,
          signal,
          onRetry: (err, attempt, waitMs) => this.trace.write("model_error", { error: describe(err), attempt, retryInMs: waitMs }),
        },
      ).catch((err) => {
        if (!(err instanceof Cancelled) && !signal.aborted) this.trace.write("model_error", { error: describe(err), final: true });
        throw err;
      });
      this.step++;
      this.trace.write("model_request", { step: this.step, startedT: started, request: withoutImages(turn.request) });
      this.trace.write("model_response", { step: this.step, ms: Math.round(this.trace.now() - started), response: withoutImages(turn.response) });
      for (const text of turn.text) await this.say(text);
      if (turn.refusal) return "refusal";
      if (turn.calls.length === 0) return "end_turn";
      const outcomes: CallOutcome[] = [];
      let halted: string | undefined;
      for (const plan of turn.calls) {
        if (!halted && this.cancelled) halted = "the user cancelled the prompt";
        outcomes.push(halted ? await this.skipped(plan, halted) : await this.run(plan));
      }
      await provider.answer(outcomes);
      if (this.cancelled) return "cancelled";
    }
    return "max_turn_requests";
  }

  /** One planned call: permission, the action endpoint (or the launch), the tool_call updates, the trace. */
  private async run(plan: CallPlan): Promise<CallOutcome> {
    const toolCall = { toolCallId: plan.id, title: plan.title, kind: (plan.launch ? "execute" : "other") as acp.ToolKind, rawInput: plan.payload as Record<string, unknown> };
    await this.update({ sessionUpdate: "tool_call", ...toolCall, status: "pending" });
    const reason = await this.permissionReason(plan);
    if (reason) {
      const answer = await this.ask(plan, toolCall, reason);
      if (answer !== "allow") {
        const why = answer === "cancelled" ? "the user cancelled the prompt" : "the user rejected this action";
        if (answer === "cancelled") this.cancelled = true;
        return this.skipped(plan, why, answer === "cancelled" ? "cancelled" : "rejected");
      }
    }
    await this.update({ sessionUpdate: "tool_call_update", toolCallId: plan.id, status: "in_progress" });
    const t = this.trace.now();
    let outcome: CallOutcome;
    try {
      if (plan.launch) outcome = { kind: "launched", result: await this.glasspane.launch(plan.launch.app, plan.launch.args) };
      else if (plan.step) outcome = { kind: "done", response: await this.glasspane.step(plan.step) };
      else outcome = { kind: "error", message: `unknown tool: ${plan.title}` };
    } catch (err) {
      outcome = { kind: "error", message: (err as Error).message };
    }
    await this.finish(plan, outcome, t);
    return outcome;
  }

  /** A call that does not run; an OpenAI computer_call still gets a (screenshot) output, as the API requires. */
  private async skipped(plan: CallPlan, reason: string, kind: "rejected" | "skipped" | "cancelled" = "skipped"): Promise<CallOutcome> {
    let outcome: CallOutcome = kind === "rejected" ? { kind: "rejected", reason } : { kind: "skipped", reason };
    const t = this.trace.now();
    if (plan.step?.dialect === "openai") {
      const call = { ...(plan.step.call as Record<string, unknown>), action: { type: "screenshot" }, actions: undefined, pending_safety_checks: [] };
      try {
        outcome = { kind: "done", note: reason, response: await this.glasspane.step({ ...plan.step, call }) };
      } catch (err) {
        outcome = { kind: "error", message: `${reason}; the screenshot in its place failed: ${(err as Error).message}` };
      }
    }
    await this.finish(plan, outcome, t, kind === "cancelled" ? "skipped" : kind);
    return outcome;
  }

  private async finish(plan: CallPlan, outcome: CallOutcome, startT: number, notRun?: string): Promise<void> {
    const ms = Math.round((this.trace.now() - startT) * 10) / 10;
    const content: acp.ToolCallContent[] = [];
    let image: string | null = null;
    if (outcome.kind === "done") {
      const shot = screenshotOf(outcome.response);
      if (shot) {
        image = this.trace.image(shot.data, shot.mediaType);
        content.push({ type: "content", content: { type: "image", data: shot.data, mimeType: shot.mediaType } });
      }
    }
    const failed = notRun !== undefined || outcome.kind === "error" || (outcome.kind === "done" && outcome.response.glasspane.actions.some((a) => a.status !== "ok"));
    const text = outcome.kind === "error" ? outcome.message : outcome.kind === "rejected" || outcome.kind === "skipped" ? outcome.reason : outcome.kind === "done" && outcome.note ? outcome.note : undefined;
    if (text) content.unshift({ type: "content", content: { type: "text", text } });
    this.trace.write("action", {
      step: this.step,
      toolCallId: plan.id,
      title: plan.title,
      dialect: plan.step?.dialect ?? (plan.launch ? "launch" : "none"),
      payload: withoutImages(plan.payload),
      startedT: startT,
      ms,
      ...(this.recording ? { recordingOffsetMs: Math.round(startT - this.recording.startT) } : {}),
      outcome: notRun ?? outcome.kind,
      ...(text ? { message: text } : {}),
      ...(outcome.kind === "done" ? { glasspane: outcome.response.glasspane } : {}),
      ...(outcome.kind === "launched" ? { result: outcome.result } : {}),
      image,
    });
    await this.update({
      sessionUpdate: "tool_call_update",
      toolCallId: plan.id,
      status: failed ? "failed" : "completed",
      content,
      rawOutput: { outcome: notRun ?? outcome.kind, ...(outcome.kind === "done" ? { glasspane: outcome.response.glasspane } : {}), ...(outcome.kind === "launched" ? { result: outcome.result } : {}) },
    });
  }

  /** Why this call needs a yes under the session's policy, or undefined. */
  private async permissionReason(plan: CallPlan): Promise<string | undefined> {
    if (plan.safetyChecks?.length) return `the model's safety checks: ${plan.safetyChecks.map((c) => c.message ?? c.code ?? c.id).join("; ")}`;
    const p = new Set<PermissionCategory>(this.config.permissions);
    const ask = (category: PermissionCategory, why: string) => (this.allowedAlways.has(category) ? undefined : why);
    if (p.has("all")) return ask("all", "every action needs a yes in this session");
    if (plan.kinds.includes("launch") && p.has("launch")) return ask("launch", `launching ${plan.launch?.app ?? "a program"}`);
    if (plan.kinds.includes("pointer") && p.has("pointer")) return ask("pointer", "a pointer action");
    if (plan.kinds.includes("keyboard")) {
      if (p.has("keyboard")) return ask("keyboard", "a keyboard action");
      if (p.has("terminal_input") && !this.allowedAlways.has("terminal_input")) {
        const focused = await this.glasspane.focusedWindow();
        if (focused && TERMINAL_TITLE.test(focused.title)) return `typing into the terminal "${focused.title}"`;
      }
    }
    return undefined;
  }

  private async ask(plan: CallPlan, toolCall: acp.ToolCallUpdate, reason: string): Promise<"allow" | "reject" | "cancelled"> {
    const t = this.trace.now();
    const answer = await this.conn.requestPermission({
      sessionId: this.id,
      toolCall: { ...toolCall, content: [{ type: "content", content: { type: "text", text: `Needs your permission: ${reason}` } }] },
      options: [
        { optionId: "allow_once", name: "Allow", kind: "allow_once" },
        { optionId: "allow_always", name: "Always allow in this session", kind: "allow_always" },
        { optionId: "reject_once", name: "Reject", kind: "reject_once" },
      ],
    });
    const chosen = answer.outcome.outcome === "selected" ? answer.outcome.optionId : "cancelled";
    this.trace.write("permission", { toolCallId: plan.id, reason, answer: chosen, waitedMs: Math.round(this.trace.now() - t), safetyChecks: plan.safetyChecks ?? null });
    if (chosen === "allow_always") for (const c of this.config.permissions) this.allowedAlways.add(c);
    if (chosen === "cancelled" || this.cancelled) return "cancelled";
    return chosen.startsWith("allow") ? "allow" : "reject";
  }

  private async say(text: string): Promise<void> {
    if (!text) return;
    this.trace.write("message", { text });
    await this.update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } });
  }

  private update(update: acp.SessionNotification["update"]): Promise<void> {
    return this.conn.sessionUpdate({ sessionId: this.id, update });
  }

  private async makeProvider(): Promise<Provider> {
    const display = await this.glasspane.displaySize();
    const c = this.config;
    const budget = c.imageBudget ?? (c.provider === "openai" ? "original" : "anthropic");
    const size = c.screenshotSize ?? sizeForBudget(display, budget);
    // (the toolset and the GA tool declare no size: the action endpoint sizes their screenshots by the budget)
    const defaults = { budget, ...(c.settle !== undefined ? { settle: c.settle } : {}) };
    switch (c.provider) {
      case "anthropic":
        return new AnthropicProvider(c, size, defaults, this.env);
      case "openai":
        return new OpenAIResponsesProvider(c, size, defaults, this.env);
      case "openai-compatible":
        return new OpenAIChatProvider(c, size, defaults, this.env);
    }
  }
}

function promptInput(blocks: acp.ContentBlock[]): PromptInput {
  const input: PromptInput = { text: [], images: [] };
  for (const b of blocks) {
    if (b.type === "text") input.text.push(b.text);
    else if (b.type === "image") input.images.push({ mediaType: b.mimeType, data: b.data });
    else if (b.type === "resource" && "text" in b.resource) input.text.push(b.resource.text);
    else if (b.type === "resource_link") input.text.push(`${b.name}: ${b.uri}`);
  }
  if (input.text.length === 0 && input.images.length === 0) throw acp.RequestError.invalidParams({}, "the prompt has no text or image");
  return input;
}
