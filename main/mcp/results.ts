import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { GlasspaneError } from "../shared/errors.js";

/** A tool's answer: the route's JSON as structured content, and as text for clients that read only text. */
export function json(value: object): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

export function image(data: Buffer, mimeType: string): CallToolResult["content"][number] {
  return { type: "image", data: data.toString("base64"), mimeType };
}

/**
 * A failed call is a tool result with isError (MCP: the model sees it and can correct
 * itself), carrying the same error code the HTTP API's problem+json would.
 */
export function failure(err: unknown): CallToolResult {
  const text =
    err instanceof GlasspaneError
      ? `${err.code}: ${err.message}`
      : `internal: ${(err as Error)?.message ?? String(err)}`;
  return { content: [{ type: "text", text }], isError: true };
}
