import type { Readable } from "node:stream";
import { Type, type Static, type TSchema } from "typebox";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import * as D from "../http/schemas/desktop.js";
import * as A from "../http/schemas/actions.js";
import * as F from "../http/schemas/fs.js";
import * as P from "../http/schemas/processes.js";
import { NativeStep } from "../actions/schema.js";
import { LIMITS } from "../shared/limits.js";
import { GlasspaneError } from "../shared/errors.js";
import { computerResult } from "./computer.js";
import { image, json } from "./results.js";
import type { McpServices } from "./types.js";

/**
 * One MCP tool: its input (and, where the route has one, output) schema is the HTTP
 * route's own TypeBox schema, so a tool and its route cannot drift apart.
 */
export interface McpTool<S extends TSchema = TSchema> {
  name: string;
  description: string;
  input: S;
  output?: TSchema;
  annotations?: ToolAnnotations;
  run(args: Static<S>, services: McpServices): Promise<CallToolResult>;
}

const tool = <S extends TSchema>(t: McpTool<S>): McpTool => t as unknown as McpTool;
const ok = { ok: true };
const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
const onDesktop: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
const NoInput = Type.Object({}, { additionalProperties: false });

/** The `computer` tool takes the native step of the action executor, without the dialect tag. */
const { dialect: _dialect, ...nativeStepFields } = NativeStep.properties;
const ComputerInput = Type.Object(nativeStepFields, { additionalProperties: false });

/** write_file: the route takes raw bytes; a tool call carries them as text or base64. */
const WriteFileInput = Type.Object(
  {
    path: F.FsPathQuery.properties.path,
    content: Type.String({ maxLength: Math.ceil((LIMITS.toolFileBytes.max * 4) / 3) + 4, description: "the file's new content" }),
    encoding: Type.Optional(Type.Enum(["utf8", "base64"], { description: "how `content` is written (utf8)" })),
  },
  { additionalProperties: false },
);

export const TOOLS: McpTool[] = [
  tool({
    name: "screenshot",
    description:
      "Take a screenshot of the whole desktop. Coordinates of the other tools are display pixels; with scale < 1 multiply what you see by 1/scale.",
    input: D.DesktopScreenshotQuery,
    annotations: readOnly,
    async run(q, { desktop }) {
      const scale = q.scale ?? 1;
      const shot = await desktop.screenshot({ format: q.format ?? "png", quality: q.quality ?? 85, scale, showCursor: q.showCursor ?? false });
      const { resolution } = await desktop.displayInfo();
      const note = `display ${resolution.width}x${resolution.height}${scale !== 1 ? `, image scaled by ${scale}` : ""}`;
      return { content: [image(shot.data, shot.contentType), { type: "text", text: note }] };
    },
  }),
  tool({
    name: "computer",
    description:
      "Run a batch of computer-use actions (move, click, mouse_down/up, drag, scroll, key, type, wait, screenshot, zoom, cursor_position) in order, then wait for the screen to settle and return one screenshot. Coordinates are in the screenshot space (screenshotSize, or the display). The first failing action stops the batch.",
    input: ComputerInput,
    annotations: onDesktop,
    async run(step, { actions }) {
      return computerResult(await actions.step({ dialect: "native", ...step }));
    },
  }),
  tool({
    name: "click",
    description: "Click at display pixel (x, y); clickCount 2 double-clicks.",
    input: D.DesktopMouseClickRequest,
    output: D.DesktopMousePositionResponse,
    annotations: onDesktop,
    run: async (b, { desktop }) => json(await desktop.mouseClick(b.x, b.y, b.button ?? "left", b.clickCount ?? 1)),
  }),
  tool({
    name: "move",
    description: "Move the pointer to display pixel (x, y).",
    input: D.DesktopMouseMoveRequest,
    output: D.DesktopMousePositionResponse,
    annotations: onDesktop,
    run: async (b, { desktop }) => json(await desktop.mouseMove(b.x, b.y)),
  }),
  tool({
    name: "drag",
    description: "Press a button at (startX, startY), move to (endX, endY) and release.",
    input: D.DesktopMouseDragRequest,
    output: D.DesktopMousePositionResponse,
    annotations: onDesktop,
    run: async (b, { desktop }) => json(await desktop.mouseDrag(b.startX, b.startY, b.endX, b.endY, b.button ?? "left")),
  }),
  tool({
    name: "scroll",
    description: "Scroll the wheel at (x, y) by deltaX/deltaY notches (negative = left/up).",
    input: D.DesktopMouseScrollRequest,
    output: D.DesktopMousePositionResponse,
    annotations: onDesktop,
    run: async (b, { desktop }) => json(await desktop.mouseScroll(b.x, b.y, b.deltaX ?? 0, b.deltaY ?? 0)),
  }),
  tool({
    name: "type",
    description: "Type text (any Unicode) into the focused window.",
    input: D.DesktopKeyboardTypeRequest,
    output: D.DesktopActionResponse,
    annotations: onDesktop,
    async run(b, { desktop }) {
      await desktop.typeText(b.text, b.delayMs ?? 0);
      return json(ok);
    },
  }),
  tool({
    name: "key",
    description: "Press a key or chord: xdotool names (Return, ctrl+shift+t, Page_Up) or DOM names (Enter, ArrowLeft).",
    input: D.DesktopKeyboardPressRequest,
    output: D.DesktopActionResponse,
    annotations: onDesktop,
    async run(b, { desktop }) {
      await desktop.pressKey(b.key, b.modifiers ?? undefined);
      return json(ok);
    },
  }),
  tool({
    name: "wait",
    description: "Wait until the screen changes, or until it has stayed still for quietMs (XDamage, not a blind sleep).",
    input: A.DesktopWaitRequest,
    output: A.DesktopWaitResponse,
    annotations: readOnly,
    run: async (b, { desktop }) => json(await desktop.waitForScreen(b)),
  }),
  tool({
    name: "list_windows",
    description: "The desktop's windows with their ids, titles, geometry and which one is active.",
    input: NoInput,
    output: D.DesktopWindowListResponse,
    annotations: readOnly,
    run: async (_b, { desktop }) => json({ windows: await desktop.windows() }),
  }),
  tool({
    name: "focus_window",
    description: "Raise and focus the window with this id (from list_windows).",
    input: D.WindowIdParams,
    output: D.DesktopWindowInfo,
    annotations: onDesktop,
    run: async (b, { desktop }) => json(await desktop.focusWindow(b.id)),
  }),
  tool({
    name: "launch",
    description: "Start a GUI program on the desktop (it must be on PATH); wait: true waits up to 5 s for its window.",
    input: D.DesktopLaunchRequest,
    output: D.DesktopLaunchResponse,
    annotations: { ...onDesktop, openWorldHint: true },
    run: async (b, { desktop }) => json(await desktop.launch(b.app, b.args ?? [], b.wait ?? false)),
  }),
  tool({
    name: "open",
    description: "Open a file or URL on the desktop with its default application (xdg-open).",
    input: D.DesktopOpenRequest,
    output: D.DesktopOpenResponse,
    annotations: { ...onDesktop, openWorldHint: true },
    run: async (b, { desktop }) => json(await desktop.open(b.target)),
  }),
  tool({
    name: "clipboard_get",
    description: "Read the clipboard (or the primary selection) as text.",
    input: D.DesktopClipboardQuery,
    output: D.DesktopClipboardResponse,
    annotations: readOnly,
    async run(q, { desktop }) {
      const selection = q.selection ?? "clipboard";
      return json({ text: await desktop.clipboardGet(selection), selection });
    },
  }),
  tool({
    name: "clipboard_set",
    description: "Put text on the clipboard, the primary selection, or both.",
    input: D.DesktopClipboardWriteRequest,
    output: D.DesktopActionResponse,
    annotations: onDesktop,
    async run(b, { desktop }) {
      await desktop.clipboardSet(b.text, b.selection ?? "clipboard");
      return json(ok);
    },
  }),
  tool({
    name: "run_command",
    description: "Run a program to completion (no shell: use command \"sh\", args [\"-c\", \"...\"] for one) and return its exit code, stdout and stderr.",
    input: P.ProcessRunRequest,
    output: P.ProcessRunResponse,
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    run: async (b, { processes }) => json(await processes.run(b)),
  }),
  tool({
    name: "read_file",
    description: `Read a file of the machine the server runs on (at most ${LIMITS.toolFileBytes.max} bytes): UTF-8 text as text, anything else as a base64 blob.`,
    input: F.FsPathQuery,
    annotations: readOnly,
    async run(q, { fs }) {
      const stat = await fs.stat(q.path);
      if (stat.entryType !== "file") throw new GlasspaneError("conflict", 409, `${stat.path} is a ${stat.entryType}, not a file`);
      const file = await fs.readFile(q.path);
      const bytes = await readAll(file.stream, LIMITS.toolFileBytes.max, file.path);
      const text = utf8(bytes);
      return text !== undefined
        ? { content: [{ type: "text", text }] }
        : { content: [{ type: "resource", resource: { uri: `file://${file.path}`, mimeType: "application/octet-stream", blob: bytes.toString("base64") } }] };
    },
  }),
  tool({
    name: "write_file",
    description: "Write a file (atomically; parent directories are created) on the machine the server runs on.",
    input: WriteFileInput,
    output: F.FsWriteResponse,
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    async run(b, { fs }) {
      const bytes = Buffer.from(b.content, b.encoding === "base64" ? "base64" : "utf8");
      if (bytes.length > LIMITS.toolFileBytes.max) {
        throw new GlasspaneError("payload_too_large", 413, `content is ${bytes.length} bytes; write_file takes at most ${LIMITS.toolFileBytes.max}`);
      }
      return json(await fs.writeFile(b.path, bytes, bytes.length));
    },
  }),
];

async function readAll(stream: Readable, max: number, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > max) throw new GlasspaneError("payload_too_large", 413, `${path} is larger than ${max} bytes; read_file returns at most that`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
