import { Type, type Static, type TSchema } from "typebox";
import { LIMITS } from "../shared/limits.js";

/**
 * The native action form (computer-actions.md §5.5): the one internal action model every
 * dialect is translated into and the executor runs. HTTP (`dialect: "native"`) and MCP's
 * `computer` tool take exactly this schema. Coordinates are screenshot pixels.
 */
const Coord = Type.Integer({ minimum: LIMITS.coordinate.min, maximum: LIMITS.coordinate.max });
const Modifiers = Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.keyNameLength.max }), {
  maxItems: 8,
  description: "keys held during the action (shift, ctrl, alt, super, ...)",
});
const Button = Type.Enum(["left", "middle", "right", "back", "forward"]);
const obj = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description });

export const NativeAction = Type.Union([
  obj({ type: Type.Literal("move"), x: Coord, y: Coord, modifiers: Type.Optional(Modifiers) }, "move the pointer"),
  obj(
    {
      type: Type.Literal("click"),
      x: Type.Optional(Coord),
      y: Type.Optional(Coord),
      button: Type.Optional(Button),
      count: Type.Optional(Type.Integer({ minimum: LIMITS.clickCount.min, maximum: LIMITS.clickCount.max })),
      modifiers: Type.Optional(Modifiers),
    },
    "click (at the pointer when x/y are omitted); count 2 = double, 3 = triple",
  ),
  obj({ type: Type.Literal("mouse_down"), button: Type.Optional(Button) }, "press a button at the pointer"),
  obj({ type: Type.Literal("mouse_up"), button: Type.Optional(Button) }, "release a button at the pointer"),
  obj(
    {
      type: Type.Literal("drag"),
      path: Type.Array(Type.Object({ x: Coord, y: Coord }, { additionalProperties: false }), { minItems: 2, maxItems: LIMITS.dragPathPoints.max }),
      button: Type.Optional(Button),
      modifiers: Type.Optional(Modifiers),
    },
    "press at the first point, move along the path, release at the last",
  ),
  obj(
    {
      type: Type.Literal("scroll"),
      x: Type.Optional(Coord),
      y: Type.Optional(Coord),
      dx: Type.Optional(Type.Integer({ minimum: -LIMITS.scrollNotches.max, maximum: LIMITS.scrollNotches.max })),
      dy: Type.Optional(Type.Integer({ minimum: -LIMITS.scrollNotches.max, maximum: LIMITS.scrollNotches.max })),
      modifiers: Type.Optional(Modifiers),
    },
    "wheel notches; positive dy scrolls down, positive dx right",
  ),
  obj(
    {
      type: Type.Literal("key"),
      keys: Type.String({ minLength: 1, maxLength: LIMITS.keyNameLength.max, description: "a key or chord: Return, ctrl+s, ARROWLEFT" }),
      repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.keyRepeat.max })),
      holdMs: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max, description: "hold the chord down this long" })),
    },
    "press a key or chord",
  ),
  obj({ type: Type.Literal("type"), text: Type.String({ minLength: 1, maxLength: LIMITS.typeTextLength.max }) }, "type text (any Unicode)"),
  obj({ type: Type.Literal("wait"), ms: Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max }) }, "pause"),
  obj({ type: Type.Literal("screenshot") }, "a settled screenshot at this point"),
  obj(
    {
      type: Type.Literal("zoom"),
      region: Type.Object({ x: Coord, y: Coord, width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    },
    "a region of the screenshot, captured at full resolution and scaled up to the image budget",
  ),
  obj({ type: Type.Literal("cursor_position") }, "where the pointer is, in screenshot pixels"),
]);
export type NativeAction = Static<typeof NativeAction>;

export const SettleOptions = Type.Object(
  {
    quietMs: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max, description: "still this long after a change counts as settled" })),
    firstChangeMs: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max, description: "no change this long after the actions: settled" })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.holdMs.max })),
  },
  { additionalProperties: false },
);
export type SettleOptions = Static<typeof SettleOptions>;

export const ImageBudget = Type.Enum(["anthropic", "anthropic-2576", "original"], {
  description: "image budget for the screenshot size when none is declared: anthropic = 1568 px long edge / 1.15 MP, anthropic-2576 = 2576 px / 3.75 MP, original = the display",
});
export type ImageBudget = Static<typeof ImageBudget>;

export const ImageOptions = Type.Object(
  {
    format: Type.Optional(Type.Enum(["png", "jpeg", "webp"])),
    quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    showCursor: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ImageOptions = Static<typeof ImageOptions>;

export const ScreenSize = Type.Object(
  {
    width: Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max }),
    height: Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max }),
  },
  { additionalProperties: false },
);

/** Options of one step besides the actions, shared by every dialect's request. */
export const StepOptions = {
  settle: Type.Optional(Type.Union([SettleOptions, Type.Literal(false)])),
  image: Type.Optional(ImageOptions),
  budget: Type.Optional(ImageBudget),
  scrollPixelsPerNotch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: "OpenAI scroll pixels per wheel notch (100)" })),
};

export const NativeStep = Type.Object(
  {
    dialect: Type.Literal("native"),
    actions: Type.Array(NativeAction, { minItems: 1, maxItems: LIMITS.batchActions.max }),
    /** the screenshot size the caller works in; default: from `budget` */
    screenshotSize: Type.Optional(ScreenSize),
    ...StepOptions,
  },
  { additionalProperties: false },
);
export type NativeStep = Static<typeof NativeStep>;

/** Anthropic: the tool declaration the model was given and the tool_use block(s) it emitted. */
export const AnthropicStep = Type.Object(
  {
    dialect: Type.Literal("anthropic"),
    tool: Type.Object(
      {
        type: Type.Enum(["computer_20241022", "computer_20250124", "computer_20251124", "computer_toolset_20260801"]),
        display_width_px: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max })),
        display_height_px: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max })),
        enable_zoom: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: true, description: "the computer tool (or toolset) exactly as declared to the model" },
    ),
    content: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: LIMITS.batchActions.max })], {
      description: "one tool_use block, or the assistant turn's content blocks (computer tool_use blocks are run, others ignored)",
    }),
    ...StepOptions,
  },
  { additionalProperties: false },
);
export type AnthropicStep = Static<typeof AnthropicStep>;

/** OpenAI: the tool declaration and the computer_call item the model emitted. */
export const OpenAIStep = Type.Object(
  {
    dialect: Type.Literal("openai"),
    tool: Type.Object(
      {
        type: Type.Enum(["computer_use_preview", "computer"]),
        display_width: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max })),
        display_height: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.screenSize.max })),
      },
      { additionalProperties: true },
    ),
    call: Type.Object(
      {
        type: Type.Literal("computer_call"),
        call_id: Type.String({ minLength: 1 }),
        action: Type.Optional(Type.Object({ type: Type.String() }, { additionalProperties: true })),
        actions: Type.Optional(Type.Array(Type.Object({ type: Type.String() }, { additionalProperties: true }), { maxItems: LIMITS.batchActions.max })),
        pending_safety_checks: Type.Optional(Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: true }))),
      },
      { additionalProperties: true },
    ),
    acknowledgeSafetyChecks: Type.Optional(Type.Boolean({ description: "echo pending_safety_checks as acknowledged_safety_checks" })),
    ...StepOptions,
  },
  { additionalProperties: false },
);
export type OpenAIStep = Static<typeof OpenAIStep>;

export const ActionStep = Type.Union([AnthropicStep, OpenAIStep, NativeStep]);
export type ActionStep = Static<typeof ActionStep>;
