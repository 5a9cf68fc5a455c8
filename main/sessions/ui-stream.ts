import type { UIMessageChunk } from "./types.js";

/**
 * Turns ACP session updates into the chunks of the AI SDK's UI message stream (the `ai`
 * package's `UIMessageChunk`): text and reasoning as start/delta/end, tool calls as
 * dynamic tools (their names are the agent's, not the client's) with input and output.
 */
export function uiChunks(messageId: string) {
  let textId: string | undefined;
  let reasoningId: string | undefined;
  let parts = 0;
  const tools = new Map<string, { name: string; input?: unknown; inputSent: boolean; done: boolean }>();

  const closeText = (): UIMessageChunk[] => {
    const out: UIMessageChunk[] = [];
    if (textId) out.push({ type: "text-end", id: textId });
    if (reasoningId) out.push({ type: "reasoning-end", id: reasoningId });
    textId = reasoningId = undefined;
    return out;
  };

  return {
    *begin(metadata: Record<string, unknown>): Generator<UIMessageChunk> {
      yield { type: "start", messageId, messageMetadata: metadata };
      yield { type: "start-step" };
    },

    update(update: Record<string, unknown>): UIMessageChunk[] {
      const kind = update.sessionUpdate;
      if (kind === "agent_message_chunk" || kind === "agent_thought_chunk") {
        const content = update.content as { type?: string; text?: string } | undefined;
        if (content?.type !== "text" || !content.text) return [];
        const out: UIMessageChunk[] = [];
        if (kind === "agent_message_chunk") {
          if (reasoningId) out.push({ type: "reasoning-end", id: reasoningId }), (reasoningId = undefined);
          if (!textId) out.push({ type: "text-start", id: (textId = `text-${++parts}`) });
          out.push({ type: "text-delta", id: textId, delta: content.text });
        } else {
          if (textId) out.push({ type: "text-end", id: textId }), (textId = undefined);
          if (!reasoningId) out.push({ type: "reasoning-start", id: (reasoningId = `reasoning-${++parts}`) });
          out.push({ type: "reasoning-delta", id: reasoningId, delta: content.text });
        }
        return out;
      }
      if (kind === "tool_call" || kind === "tool_call_update") {
        const id = String(update.toolCallId ?? "");
        if (!id) return [];
        const out: UIMessageChunk[] = closeText();
        let tool = tools.get(id);
        if (!tool) {
          tool = { name: toolName(update), inputSent: false, done: false };
          tools.set(id, tool);
          out.push({ type: "tool-input-start", toolCallId: id, toolName: tool.name, dynamic: true });
        }
        const status = update.status as string | undefined;
        const hasInput = update.rawInput !== undefined && update.rawInput !== null;
        if (tool.done) return out;
        // the input is known once the agent sends it (an update may refine it); at the latest when the call ends
        if (hasInput && JSON.stringify(update.rawInput) !== JSON.stringify(tool.input)) {
          tool.input = update.rawInput;
          tool.inputSent = true;
          out.push({ type: "tool-input-available", toolCallId: id, toolName: tool.name, input: tool.input, dynamic: true, ...(update.title ? { title: String(update.title) } : {}) });
        } else if (!tool.inputSent && (status === "completed" || status === "failed")) {
          tool.inputSent = true;
          out.push({ type: "tool-input-available", toolCallId: id, toolName: tool.name, input: {}, dynamic: true });
        }
        if (status === "completed") {
          out.push({ type: "tool-output-available", toolCallId: id, output: toolOutput(update), dynamic: true });
          tool.done = true;
        } else if (status === "failed") {
          out.push({ type: "tool-output-error", toolCallId: id, errorText: textOf(update.content) || JSON.stringify(update.rawOutput ?? "the tool failed"), dynamic: true });
          tool.done = true;
        }
        return out;
      }
      return [];
    },

    error(text: string): UIMessageChunk[] {
      return [...closeText(), { type: "error", errorText: text }];
    },

    end(stopReason: string | undefined): UIMessageChunk[] {
      return [...closeText(), { type: "finish-step" }, { type: "finish", finishReason: finishReason(stopReason), messageMetadata: { stopReason: stopReason ?? null } }];
    },
  };
}

/** ACP stop reasons -> the AI SDK's finish reasons. */
function finishReason(stop: string | undefined): string {
  switch (stop) {
    case "end_turn":
      return "stop";
    case "max_tokens":
    case "max_turn_requests":
      return "length";
    case "refusal":
      return "content-filter";
    case "error":
      return "error";
    default:
      return "other";
  }
}

function toolName(update: Record<string, unknown>): string {
  const meta = update._meta as { claudeCode?: { toolName?: string } } | undefined;
  return meta?.claudeCode?.toolName ?? (typeof update.kind === "string" ? update.kind : undefined) ?? (typeof update.title === "string" ? update.title : "tool");
}

function toolOutput(update: Record<string, unknown>): unknown {
  if (update.rawOutput !== undefined && update.rawOutput !== null) return update.rawOutput;
  return textOf(update.content);
}

/** The text of an ACP tool call's content blocks. */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return "";
  return content
    .map((c: { type?: string; content?: { type?: string; text?: string } }) => (c?.type === "content" && c.content?.type === "text" ? (c.content.text ?? "") : ""))
    .filter(Boolean)
    .join("\n");
}
