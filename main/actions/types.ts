import type { ScreenWaitResult } from "../desktop/types.js";
import type { ActionStep } from "./schema.js";
import type { Size } from "./scale.js";

/** The Glasspane section beside a dialect's reply. */
export interface StepReport {
  scale: { screenshot: Size; display: Size };
  actions: Array<{ status: "ok" | "error" | "skipped"; error?: string; ms: number }>;
  settle: ScreenWaitResult | null;
  timings: { actionsMs: number[]; settleMs: number; captureMs: number; encodeMs: number; totalMs: number };
  /** OpenAI pending_safety_checks, passed back for the caller to acknowledge */
  pendingSafetyChecks?: Array<{ id: string; code?: string | null; message?: string | null }>;
}

export interface StepResponse {
  dialect: ActionStep["dialect"];
  /** the dialect's own reply: Anthropic tool_result blocks, an OpenAI computer_call_output, or native results */
  result: unknown;
  glasspane: StepReport;
}

/** What the HTTP action endpoint asks of the actions service. */
export interface ComputerActions {
  step(request: ActionStep): Promise<StepResponse>;
}
