import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { invalid, notFound } from "../shared/errors.js";

/** Largest config file read or written (an entry is a few hundred bytes). */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_NAME_LENGTH = 200;

/**
 * Entries stored per directory in `<directory>/.sandbox-agent/config/<kind>.json`, one
 * JSON object keyed by entry name, as the reference keeps them (MCP servers, skills).
 */
export class ConfigStore {
  constructor(private readonly kind: "mcp" | "skills") {}

  get(directory: string, name: string): unknown {
    const entries = this.read(this.file(directory, name));
    if (!Object.hasOwn(entries, name)) throw notFound(`no ${this.kind} entry "${name}" in ${directory}`);
    return entries[name];
  }

  set(directory: string, name: string, value: unknown): void {
    const file = this.file(directory, name);
    const entries = this.read(file);
    entries[name] = value;
    const text = JSON.stringify(entries, null, 2);
    if (text.length > MAX_FILE_BYTES) throw invalid(`${this.kind} config of ${directory} would exceed ${MAX_FILE_BYTES} bytes`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  delete(directory: string, name: string): void {
    const file = this.file(directory, name);
    const entries = this.read(file);
    if (!Object.hasOwn(entries, name)) return;
    delete entries[name];
    writeFileSync(`${file}.tmp`, JSON.stringify(entries, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  private file(directory: string, name: string): string {
    if (!path.isAbsolute(directory)) throw invalid(`directory must be an absolute path (got "${directory}")`);
    if (!name || name.length > MAX_NAME_LENGTH) throw invalid(`the entry name must have 1 to ${MAX_NAME_LENGTH} characters`);
    return path.join(path.resolve(directory), ".sandbox-agent", "config", `${this.kind}.json`);
  }

  private read(file: string): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    if (text.length > MAX_FILE_BYTES) throw invalid(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  }
}
