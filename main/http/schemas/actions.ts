import { Type } from "typebox";
import { LIMITS } from "../../shared/limits.js";
import { ActionStep } from "../../actions/schema.js";

/** The action endpoint takes the step schema of main/actions/schema.ts (MCP uses the same). */
export const ActionStepRequest = ActionStep;

export const ActionStepResponse = Type.Object({
  dialect: Type.String(),
  result: Type.Unknown({ description: "the dialect's reply: tool_result blocks, a computer_call_output, or native results" }),
  glasspane: Type.Unknown({ description: "scale used, per-action status and timings, settle outcome, pending safety checks" }),
});

const Ms = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max, description }));

export const DesktopWaitRequest = Type.Object(
  {
    until: Type.Enum(["change", "still"]),
    quietMs: Ms("still: no change for this long (120)"),
    timeoutMs: Ms("give up after this long (5000)"),
    region: Type.Optional(
      Type.Object(
        {
          x: Type.Integer({ minimum: LIMITS.coordinate.min, maximum: LIMITS.coordinate.max }),
          y: Type.Integer({ minimum: LIMITS.coordinate.min, maximum: LIMITS.coordinate.max }),
          width: Type.Integer({ minimum: 1, maximum: LIMITS.coordinate.max }),
          height: Type.Integer({ minimum: 1, maximum: LIMITS.coordinate.max }),
        },
        { additionalProperties: false, description: "only changes touching this display rectangle count" },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DesktopWaitResponse = Type.Object({
  changed: Type.Boolean(),
  timedOut: Type.Boolean(),
  waitedMs: Type.Number(),
  sinceLastChangeMs: Type.Union([Type.Number(), Type.Null()]),
});
