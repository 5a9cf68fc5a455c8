import type { StepResponse } from "../../actions/types.js";
import type { StepBody } from "../glasspane-client.js";

/** What a planned call does, for the permission policy. */
export type CallKind = "launch" | "keyboard" | "pointer" | "observe";

/** One unit the loop runs for the model: one action-endpoint step (maybe a batch) or a program launch. */
export interface CallPlan {
  /** the ACP toolCallId */
  id: string;
  title: string;
  kinds: CallKind[];
  /** the model's own payload, as it goes into the trace */
  payload: unknown;
  step?: StepBody;
  launch?: { app: string; args: string[] };
  /** OpenAI pending_safety_checks: each needs a person's yes */
  safetyChecks?: Array<{ id: string; code?: string | null; message?: string | null }>;
}

export type CallOutcome =
  /** `note`: the call itself was not run (refused, cancelled); the response is a screenshot in its place */
  | { kind: "done"; response: StepResponse; note?: string }
  | { kind: "launched"; result: unknown }
  | { kind: "rejected"; reason: string }
  | { kind: "error"; message: string }
  /** not run: the prompt was cancelled or an earlier call of the turn was refused */
  | { kind: "skipped"; reason: string };

export interface ModelTurn {
  /** the model's text (and reasoning summaries), in order */
  text: string[];
  calls: CallPlan[];
  refusal: boolean;
  /** the SDK request and response, for the trace (images left out by the trace writer) */
  request: unknown;
  response: unknown;
}

export interface PromptInput {
  text: string[];
  images: Array<{ mediaType: string; data: string }>;
}

/** One model API behind the loop: keeps its own conversation in its own wire format. */
export interface Provider {
  addUser(input: PromptInput): void;
  next(signal: AbortSignal): Promise<ModelTurn>;
  /** the outcomes of the last turn's calls, in order; builds the dialect's replies */
  answer(outcomes: CallOutcome[]): Promise<void>;
}

/** The step options every provider passes through from the session config. */
export interface StepDefaults {
  settle?: StepBody["settle"];
  /** sizes the screenshot when the tool declares none (the toolset, the GA computer tool) */
  budget?: string;
}
