import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import * as tar from "tar";
import { invalid, notFound } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import type { TraceInfo, Traces } from "./types.js";

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/**
 * The computer-use agent's traces on disk (`<state>/traces/<sessionId>/trace.jsonl` and
 * `images/`): listed, bundled as one tar, deleted. All of them together stay within
 * LIMITS.tracesTotalBytes: past it the oldest go first.
 */
export class TraceStore implements Traces {
  constructor(readonly dir: string) {}

  list(): TraceInfo[] {
    if (!existsSync(this.dir)) return [];
    const infos = readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && ID.test(e.name))
      .map((e) => this.info(e.name));
    return infos.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  get(id: string): TraceInfo {
    this.check(id);
    return this.info(id);
  }

  /** A tar stream of the trace's folder (`<id>/trace.jsonl`, `<id>/images/...`). */
  bundle(id: string): Readable {
    this.check(id);
    return tar.create({ cwd: this.dir, portable: true }, [id]) as unknown as Readable;
  }

  remove(id: string): void {
    this.check(id);
    rmSync(path.join(this.dir, id), { recursive: true, force: true });
  }

  /** Drops the oldest traces until all of them fit `budgetBytes` (the newest always stays). */
  prune(budgetBytes: number = LIMITS.tracesTotalBytes.max): void {
    const all = this.list();
    let total = all.reduce((n, t) => n + t.bytes, 0);
    for (const t of all.slice(0, -1)) {
      if (total <= budgetBytes) break;
      rmSync(path.join(this.dir, t.id), { recursive: true, force: true });
      total -= t.bytes;
    }
  }

  private check(id: string): void {
    if (!ID.test(id)) throw invalid(`"${id}" is not a trace id`);
    if (!existsSync(path.join(this.dir, id, "trace.jsonl"))) throw notFound(`no trace "${id}"`);
  }

  private info(id: string): TraceInfo {
    const dir = path.join(this.dir, id);
    const file = path.join(dir, "trace.jsonl");
    let bytes = 0;
    let images = 0;
    for (const name of safeList(path.join(dir, "images"))) {
      images++;
      bytes += statSync(path.join(dir, "images", name)).size;
    }
    let lines: string[] = [];
    try {
      lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
      bytes += statSync(file).size;
    } catch {
      // a trace being created
    }
    const parse = (l: string | undefined) => {
      try {
        return l ? (JSON.parse(l) as { at?: string; kind?: string; stopReason?: string }) : undefined;
      } catch {
        return undefined;
      }
    };
    const first = parse(lines[0]);
    const last = parse(lines.at(-1));
    const steps = lines.filter((l) => l.includes('"kind":"model_response"')).length;
    const actions = lines.filter((l) => l.includes('"kind":"action"')).length;
    const createdAtMs = first?.at ? Date.parse(first.at) : statSafe(dir);
    return {
      id,
      createdAtMs,
      updatedAtMs: last?.at ? Date.parse(last.at) : createdAtMs,
      bytes,
      steps,
      actions,
      images,
      lastStopReason: last?.kind === "end" ? (last.stopReason ?? null) : null,
    };
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function statSafe(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
