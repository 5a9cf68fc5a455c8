import { Type, type TSchema } from "typebox";

/**
 * One schema per desktop route, field for field as the sandbox-agent SDK's types
 * (`components["schemas"]`). Optional fields accept null, as the SDK allows.
 * These produce validation, the problem+json 400, the OpenAPI document and the TS types.
 */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Int = (opts: Record<string, unknown> = {}) => Type.Integer({ minimum: -2147483648, maximum: 2147483647, ...opts });
const Coord = (description: string) => Int({ minimum: 0, description });

export const MouseButton = Type.Enum(["left", "middle", "right"]);
export const ScreenshotFormat = Type.Enum(["png", "jpeg", "webp"]);
export const SelectionQuery = Type.Enum(["clipboard", "primary"]);
export const SelectionWrite = Type.Enum(["clipboard", "primary", "both"]);

export const DesktopStartRequest = Type.Object(
  {
    width: Opt(Int({ minimum: 64, maximum: 8192, description: "screen width in pixels (1440)" })),
    height: Opt(Int({ minimum: 64, maximum: 8192, description: "screen height in pixels (900)" })),
    dpi: Opt(Int({ minimum: 10, maximum: 1000, description: "(96)" })),
    displayNum: Opt(Int({ minimum: 0, maximum: 65000, description: "first X display number to try; probed upward (99)" })),
    stateDir: Opt(Type.String({ minLength: 1 })),
    recordingFps: Opt(Int({ minimum: 1, maximum: 60 })),
    streamVideoCodec: Opt(Type.Enum(["vp8", "vp9", "h264"])),
    streamAudioCodec: Opt(Type.String()),
    streamFrameRate: Opt(Int({ minimum: 1, maximum: 60 })),
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
    width: Int({ minimum: 1 }),
    height: Int({ minimum: 1 }),
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
  { x: Coord("x"), y: Coord("y"), button: Opt(MouseButton), clickCount: Opt(Int({ minimum: 1, maximum: 10 })) },
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
    deltaX: Opt(Int({ minimum: -100, maximum: 100, description: "wheel notches; negative = left" })),
    deltaY: Opt(Int({ minimum: -100, maximum: 100, description: "wheel notches; negative = up" })),
  },
  { additionalProperties: false },
);

export const DesktopActionResponse = Type.Object({ ok: Type.Boolean() });
export const DesktopKeyboardTypeRequest = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 100_000 }), delayMs: Opt(Int({ minimum: 0, maximum: 1000 })) },
  { additionalProperties: false },
);
export const DesktopKeyModifiers = Type.Object(
  { ctrl: Opt(Type.Boolean()), shift: Opt(Type.Boolean()), alt: Opt(Type.Boolean()), cmd: Opt(Type.Boolean()) },
  { additionalProperties: false },
);
export const DesktopKeyboardPressRequest = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 200 }), modifiers: Opt(DesktopKeyModifiers) },
  { additionalProperties: false },
);
export const DesktopKeyRequest = Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const DesktopClipboardQuery = Type.Object({ selection: Type.Optional(SelectionQuery) }, { additionalProperties: false });
export const DesktopClipboardResponse = Type.Object({ text: Type.String(), selection: Type.String() });
export const DesktopClipboardWriteRequest = Type.Object(
  { text: Type.String({ maxLength: 10_000_000 }), selection: Opt(SelectionWrite) },
  { additionalProperties: false },
);

export const DesktopWindowListResponse = Type.Object({ windows: Type.Array(DesktopWindowInfo) });
export const WindowIdParams = Type.Object({ id: Type.String() });
export const DesktopWindowMoveRequest = Type.Object({ x: Int(), y: Int() }, { additionalProperties: false });
export const DesktopWindowResizeRequest = Type.Object(
  { width: Int({ minimum: 1, maximum: 16384 }), height: Int({ minimum: 1, maximum: 16384 }) },
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
