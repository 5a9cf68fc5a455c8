import type { StepResponse } from "../../actions/types.js";
import type { CallKind } from "./types.js";

export const SYSTEM_PROMPT =
  "You operate a Linux desktop (X11, openbox) through the computer tool. Take a screenshot when you need to see the screen. " +
  "Use the launch_program tool to start a program (for example xterm). When the task is done, answer with a short summary and no tool call.";

export const OLD_SCREENSHOT_NOTE = "[an older screenshot was removed to keep the context small]";

/** Starting a program: a tool of our own beside the computer tool, so the policy can ask first. */
export const LAUNCH_TOOL = {
  name: "launch_program",
  description: "Start a program on the desktop (it must be on PATH), e.g. xterm or chromium; answers with its process id and window id.",
  parameters: {
    type: "object" as const,
    properties: {
      app: { type: "string", description: "program name on PATH" },
      args: { type: "array", items: { type: "string" }, description: "arguments" },
    },
    required: ["app"],
    additionalProperties: false,
  },
};

export function launchInput(input: unknown): { app: string; args: string[] } {
  const i = (typeof input === "string" ? safeJson(input) : input) as { app?: unknown; args?: unknown };
  return { app: String(i?.app ?? ""), args: Array.isArray(i?.args) ? i.args.map(String) : [] };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}

/** What a native (or OpenAI) action type is, for the permission policy. */
export function kindOfAction(type: string): CallKind {
  if (type === "key" || type === "type" || type === "keypress") return "keyboard";
  if (type === "screenshot" || type === "zoom" || type === "cursor_position" || type === "wait") return "observe";
  return "pointer";
}

/** The settled screenshot of a step, whatever its dialect. */
export function screenshotOf(res: StepResponse): { mediaType: string; data: string } | undefined {
  const r = res.result as any;
  if (res.dialect === "anthropic") {
    for (const block of [...(r as any[])].reverse()) {
      const image = (block.content ?? []).find((c: any) => c.type === "image");
      if (image) return { mediaType: image.source.media_type, data: image.source.data };
    }
    return undefined;
  }
  if (res.dialect === "openai") {
    const m = /^data:([^;]+);base64,(.*)$/.exec(r?.output?.image_url ?? "");
    return m ? { mediaType: m[1]!, data: m[2]! } : undefined;
  }
  return r?.screenshot ? { mediaType: r.screenshot.mediaType, data: r.screenshot.data } : undefined;
}
