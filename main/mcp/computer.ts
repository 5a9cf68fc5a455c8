import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { StepResponse } from "../actions/types.js";
import { image } from "./results.js";

/** An image in the native reply of the action service (main/actions/service.ts). */
interface NativeImage {
  mediaType: string;
  width: number;
  height: number;
  data: string;
}
interface NativeReply {
  results: Array<{ status: string; error?: string; position?: { x: number; y: number }; image?: NativeImage }>;
  screenshot: NativeImage | null;
}

/**
 * The `computer` tool's answer: a text block with each action's outcome and the scale
 * used, then the images (zooms, mid-batch screenshots, the settled screenshot) in order.
 * A batch whose first failure stopped it is an error result; the outcomes say which.
 */
export function computerResult(res: StepResponse): CallToolResult {
  const reply = res.result as NativeReply;
  const images: CallToolResult["content"] = [];
  const results = reply.results.map((r, index) => {
    const { image: img, ...rest } = r;
    if (!img) return { index, ...rest };
    images.push(image(Buffer.from(img.data, "base64"), img.mediaType));
    return { index, ...rest, image: { mediaType: img.mediaType, width: img.width, height: img.height } };
  });
  const shot = reply.screenshot;
  if (shot) images.push(image(Buffer.from(shot.data, "base64"), shot.mediaType));
  const summary = {
    results,
    screenshot: shot ? { mediaType: shot.mediaType, width: shot.width, height: shot.height } : null,
    scale: res.glasspane.scale,
    settle: res.glasspane.settle,
  };
  const failed = reply.results.some((r) => r.status === "error");
  return { content: [{ type: "text", text: JSON.stringify(summary) }, ...images], ...(failed ? { isError: true } : {}) };
}
