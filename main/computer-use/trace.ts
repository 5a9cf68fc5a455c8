import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { LIMITS } from "../shared/limits.js";

/** The kinds of line a trace holds, in time order. */
export type TraceKind =
  | "session"
  | "prompt"
  | "model_request"
  | "model_response"
  | "model_error"
  | "action"
  | "permission"
  | "message"
  | "recording"
  | "end";

/**
 * One session's trace: `trace.jsonl` (one JSON object a line, `t` = ms since the session
 * began, `at` = wall clock) and `images/NNNN.<ext>`, every screenshot the model saw. Bounded:
 * past LIMITS.traceBytes lines are still written but images are not (the line says so).
 */
export class TraceWriter {
  private readonly t0 = performance.now();
  private bytes = 0;
  private images = 0;
  private made = false;
  readonly dir: string;

  constructor(root: string, readonly id: string, private readonly maxBytes: number = LIMITS.traceBytes.max) {
    this.dir = path.join(root, id);
  }

  /** The folder appears with the first line (a session that never prompts leaves no trace). */
  private ensureDir(): void {
    if (this.made) return;
    mkdirSync(path.join(this.dir, "images"), { recursive: true });
    this.made = true;
  }

  /** ms since the session began; every line and every timing uses this clock */
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  write(kind: TraceKind, data: Record<string, unknown>): void {
    const line = `${JSON.stringify({ t: this.now(), at: new Date().toISOString(), kind, ...data })}\n`;
    this.bytes += Buffer.byteLength(line);
    try {
      this.ensureDir();
      appendFileSync(path.join(this.dir, "trace.jsonl"), line);
    } catch {
      // a trace that cannot be written must not end the session
    }
  }

  /** Stores an image the model saw; returns its path inside the trace, or null past the budget. */
  image(base64: string, mediaType: string): string | null {
    const data = Buffer.from(base64, "base64");
    if (this.bytes + data.length > this.maxBytes) return null;
    this.bytes += data.length;
    const ext = mediaType.split("/")[1] ?? "bin";
    const name = `images/${String(++this.images).padStart(4, "0")}.${ext}`;
    try {
      this.ensureDir();
      writeFileSync(path.join(this.dir, name), data);
    } catch {
      return null;
    }
    return name;
  }
}

/** A deep copy of a model request with every base64 image replaced by a short note (the files hold them). */
export function withoutImages(value: unknown): unknown {
  if (typeof value === "string") {
    if (value.startsWith("data:image/")) return `[image ${value.length} chars]`;
    return value.length > 20_000 ? `${value.slice(0, 20_000)}… [${value.length} chars]` : value;
  }
  if (Array.isArray(value)) return value.map(withoutImages);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === "data" && typeof v === "string" && v.length > 200 ? `[base64 ${v.length} chars]` : withoutImages(v);
    return out;
  }
  return value;
}
