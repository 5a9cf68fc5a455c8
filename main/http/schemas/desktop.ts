import { Type, type TSchema } from "typebox";
import { LIMITS } from "../../shared/limits.js";

/**
 * One schema per desktop route, field for field as the sandbox-agent SDK's types
 * (`components["schemas"]`). Optional fields accept null, as the SDK allows.
 * These produce validation, the problem+json 400, the OpenAPI document and the TS types.
 */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Int = (opts: Record<string, unknown> = {}) => Type.Integer({ minimum: -2147483648, maximum: 2147483647, ...opts });
/** a point on the screen: never negative, at most X11's largest coordinate */
const Coord = (description: string) => Int({ minimum: 0, maximum: LIMITS.coordinate.max, description });
/** a window position: may lie off screen, within X11's 16-bit coordinates */
const WindowCoord = (description: string) => Int({ minimum: LIMITS.coordinate.min, maximum: LIMITS.coordinate.max, description });
const range = (r: { min: number; max: number }, description?: string) => Int({ minimum: r.min, maximum: r.max, ...(description ? { description } : {}) });

export const MouseButton = Type.Enum(["left", "middle", "right"]);
export const ScreenshotFormat = Type.Enum(["png", "jpeg", "webp"]);
export const SelectionQuery = Type.Enum(["clipboard", "primary"]);
export const SelectionWrite = Type.Enum(["clipboard", "primary", "both"]);

export const DesktopStartRequest = Type.Object(
  {
    width: Opt(range(LIMITS.screenSize, "screen width in pixels (1440)")),
    height: Opt(range(LIMITS.screenSize, "screen height in pixels (900)")),
    dpi: Opt(range(LIMITS.dpi, "(96)")),
    displayNum: Opt(Int({ minimum: 0, maximum: 65000, description: "first X display number to try; probed upward (99)" })),
    stateDir: Opt(Type.String({ minLength: 1, maxLength: 4095 })),
    recordingFps: Opt(range(LIMITS.fps)),
    streamVideoCodec: Opt(Type.Enum(["vp8", "vp9", "h264"])),
    streamAudioCodec: Opt(Type.String()),
    streamFrameRate: Opt(range(LIMITS.fps)),
    webrtcPortRange: Opt(Type.String({ pattern: "^[0-9]{1,5}-[0-9]{1,5}$" })),
  },
  { additionalProperties: false },
);

export const DesktopResolution = Type.Object({ width: Int(), height: Int(), dpi: Opt(Int()) });
export const DesktopErrorInfo = Type.Object({ code: Type.String(), message: Type.String() });
export const DesktopProcessInfo = Type.Object({
  name: Type.String(),
  pid: Opt(Int()),
  running: Type.Boolean(),
  logPath: Opt(Type.String()),
});
export const DesktopWindowInfo = Type.Object({
  id: Type.String({ description: "decimal X11 window id" }),
  title: Type.String(),
  x: Int(),
  y: Int(),
  width: Int(),
  height: Int(),
  isActive: Type.Boolean(),
});
export const DesktopControlInfo = Type.Object({
  holder: Type.String({ description: "who holds the lease, as it named itself" }),
  since: Type.String({ description: "when it was taken (ISO 8601)" }),
  expiresAt: Type.String({ description: "when it lapses unless the holder gives input first" }),
});
export const DesktopControlQuery = Type.Object(
  {
    holder: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "a name for the person taking control, shown to the others" })),
    force: Type.Optional(Type.Boolean({ description: "take the lease over from its current holder" })),
    access_token: Type.Optional(Type.String({ description: "the token, for clients that cannot send a header" })),
  },
  { additionalProperties: false },
);
export const DesktopStatusResponse = Type.Object({
  state: Type.Enum(["inactive", "install_required", "starting", "active", "stopping", "failed"]),
  display: Opt(Type.String()),
  resolution: Opt(DesktopResolution),
  startedAt: Opt(Type.String()),
  lastError: Opt(DesktopErrorInfo),
  missingDependencies: Type.Optional(Type.Array(Type.String())),
  installCommand: Opt(Type.String()),
  processes: Type.Optional(Type.Array(DesktopProcessInfo)),
  runtimeLogPath: Opt(Type.String()),
  windows: Type.Optional(Type.Array(DesktopWindowInfo)),
  capturePath: Opt(Type.String({ description: "Glasspane: the active screen-capture path" })),
  captureFallbackReason: Opt(Type.String({ description: "Glasspane: why faster capture paths were passed over (also in runtime.log)" })),
  control: Opt(DesktopControlInfo),
});
export const DesktopDisplayInfoResponse = Type.Object({ display: Type.String(), resolution: DesktopResolution });

// Query fields are plain optionals: a query string cannot carry null, and a nullable
// union would let coercion turn "0" into null instead of rejecting it.
const screenshotFields = {
  format: Type.Optional(ScreenshotFormat),
  quality: Type.Optional(Int({ minimum: 1, maximum: 100, description: "jpeg/webp quality (85)" })),
  scale: Type.Optional(Type.Number({ minimum: 0.1, maximum: 1, description: "(1.0)" })),
  showCursor: Type.Optional(Type.Boolean()),
};
export const DesktopScreenshotQuery = Type.Object(screenshotFields, { additionalProperties: false });
export const DesktopRegionScreenshotQuery = Type.Object(
  {
    x: Coord("left edge"),
    y: Coord("top edge"),
    width: range({ min: 1, max: LIMITS.coordinate.max }),
    height: range({ min: 1, max: LIMITS.coordinate.max }),
    ...screenshotFields,
  },
  { additionalProperties: false },
);

export const DesktopMousePositionResponse = Type.Object({
  x: Int(),
  y: Int(),
  screen: Opt(Int()),
  window: Opt(Type.String()),
});
export const DesktopMouseMoveRequest = Type.Object({ x: Coord("x"), y: Coord("y") }, { additionalProperties: false });
export const DesktopMouseClickRequest = Type.Object(
  { x: Coord("x"), y: Coord("y"), button: Opt(MouseButton), clickCount: Opt(range(LIMITS.clickCount)) },
  { additionalProperties: false },
);
export const DesktopMouseButtonRequest = Type.Object(
  { button: Opt(MouseButton), x: Opt(Coord("x")), y: Opt(Coord("y")) },
  { additionalProperties: false },
);
export const DesktopMouseDragRequest = Type.Object(
  { startX: Coord("start x"), startY: Coord("start y"), endX: Coord("end x"), endY: Coord("end y"), button: Opt(MouseButton) },
  { additionalProperties: false },
);
export const DesktopMouseScrollRequest = Type.Object(
  {
    x: Coord("x"),
    y: Coord("y"),
    deltaX: Opt(range({ min: -LIMITS.scrollNotches.max, max: LIMITS.scrollNotches.max }, "wheel notches; negative = left")),
    deltaY: Opt(range({ min: -LIMITS.scrollNotches.max, max: LIMITS.scrollNotches.max }, "wheel notches; negative = up")),
  },
  { additionalProperties: false },
);

export const DesktopActionResponse = Type.Object({ ok: Type.Boolean() });
export const DesktopKeyboardTypeRequest = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: LIMITS.typeTextLength.max }), delayMs: Opt(range({ min: 0, max: LIMITS.typeDelayMs.max })) },
  { additionalProperties: false },
);
export const DesktopKeyModifiers = Type.Object(
  { ctrl: Opt(Type.Boolean()), shift: Opt(Type.Boolean()), alt: Opt(Type.Boolean()), cmd: Opt(Type.Boolean()) },
  { additionalProperties: false },
);
export const DesktopKeyboardPressRequest = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: LIMITS.keyNameLength.max }), modifiers: Opt(DesktopKeyModifiers) },
  { additionalProperties: false },
);
export const DesktopKeyRequest = Type.Object({ key: Type.String({ minLength: 1, maxLength: LIMITS.keyNameLength.max }) }, { additionalProperties: false });

export const DesktopClipboardQuery = Type.Object({ selection: Type.Optional(SelectionQuery) }, { additionalProperties: false });
export const DesktopClipboardResponse = Type.Object({ text: Type.String(), selection: Type.String() });
export const DesktopClipboardWriteRequest = Type.Object(
  { text: Type.String({ maxLength: LIMITS.clipboardTextLength.max }), selection: Opt(SelectionWrite) },
  { additionalProperties: false },
);

export const DesktopWindowListResponse = Type.Object({ windows: Type.Array(DesktopWindowInfo) });
export const WindowIdParams = Type.Object({ id: Type.String() });
export const DesktopWindowMoveRequest = Type.Object({ x: WindowCoord("left edge"), y: WindowCoord("top edge") }, { additionalProperties: false });
export const DesktopWindowResizeRequest = Type.Object(
  { width: range(LIMITS.windowSize), height: range(LIMITS.windowSize) },
  { additionalProperties: false },
);

export const DesktopLaunchRequest = Type.Object(
  { app: Type.String({ minLength: 1 }), args: Opt(Type.Array(Type.String())), wait: Opt(Type.Boolean()) },
  { additionalProperties: false },
);
export const DesktopLaunchResponse = Type.Object({ processId: Type.String(), pid: Opt(Int()), windowId: Opt(Type.String()) });
export const DesktopOpenRequest = Type.Object({ target: Type.String({ minLength: 1 }) }, { additionalProperties: false });
export const DesktopOpenResponse = Type.Object({ processId: Type.String(), pid: Opt(Int()) });

/** The 200 answer of the screenshot routes: image bytes in the requested format. */
export const ScreenshotResponse = {
  description: "the image, as image/png, image/jpeg or image/webp",
  content: Object.fromEntries(["image/png", "image/jpeg", "image/webp"].map((t) => [t, { schema: { type: "string", format: "binary" } }])),
};
