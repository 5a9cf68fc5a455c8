import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import fg from "fast-glob";
import { conflict, GlasspaneError, invalid } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import { FsService } from "./service.js";
import type { FsExists, FsFindMatch, FsFindQuery, FsFindResult, FsUploadedFile, WorkspaceFileSystem } from "./types.js";

/**
 * The file API plus what a chat front end needs beside it (exists, find, append, several
 * uploaded files), on the same path policy: every path goes through FsService's resolve.
 */
export class WorkspaceFs extends FsService implements WorkspaceFileSystem {
  async exists(input: string): Promise<FsExists> {
    const p = await this.resolve(input);
    const st = await this.op(fsp.stat(p), p, "stat").catch((err) => {
      // missing, or a file where the path wants a folder (a/file.txt/b): it does not exist
      if (err instanceof GlasspaneError && (err.status === 404 || err.extra.errno === "ENOTDIR")) return undefined;
      throw err;
    });
    return { path: p, exists: st !== undefined, entryType: st ? (st.isDirectory() ? "directory" : "file") : null };
  }

  async resolveDirectory(input: string | null | undefined, create: boolean): Promise<string> {
    const p = await this.resolve(input ?? this.policy.base);
    if (create) await this.op(fsp.mkdir(p, { recursive: true }), p, "create directory");
    const st = await this.op(fsp.stat(p), p, "open");
    if (!st.isDirectory()) throw conflict(`${p} is not a directory`);
    return p;
  }

  async append(input: string, content: string | Buffer): Promise<{ path: string; bytesWritten: number }> {
    const p = await this.resolve(input);
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
    if (bytes.length > LIMITS.appendBytes.max) throw invalid(`append takes at most ${LIMITS.appendBytes.max} bytes`);
    await this.op(fsp.mkdir(path.dirname(p), { recursive: true }), path.dirname(p), "create the parent of");
    const st = await this.op(fsp.stat(p), p, "append to").catch(() => undefined);
    if (st && !st.isFile()) throw conflict(`${p} is not a regular file`);
    // O_APPEND: each write lands at the end even when two appends race; earlier content stays
    await this.op(fsp.appendFile(p, bytes), p, "append to");
    return { path: p, bytesWritten: bytes.length };
  }

  async writeUploaded(dirInput: string | null | undefined, fileName: string, body: Readable): Promise<FsUploadedFile> {
    const name = path.basename(fileName);
    if (!fileName || name !== fileName.replace(/^.*[\\/]/, "") || name === "." || name === ".." || name.includes("\0")) {
      body.resume();
      throw invalid(`"${fileName}" is not a usable file name`);
    }
    const dir = await this.resolveDirectory(dirInput, true).catch((err) => {
      body.resume(); // drain the refused file, so the request ends and the problem is answered
      throw err;
    });
    const written = await this.writeFile(path.join(dir, name), body);
    return { fileName: name, path: written.path, size: written.bytesWritten };
  }

  async find(query: FsFindQuery): Promise<FsFindResult> {
    if (!query.name && !query.content) throw invalid("find needs a name pattern, a content pattern, or both");
    const root = await this.resolveDirectory(query.path, false);
    const limit = Math.min(query.limit ?? LIMITS.findResults.default, LIMITS.findResults.max);
    const timeoutMs = Math.min(query.timeoutMs ?? LIMITS.findTimeoutMs.default, LIMITS.findTimeoutMs.max);
    const deadline = Date.now() + timeoutMs;
    const nameGlob = query.name ?? "*";
    // a bare name ("*.ts", "todo.md") matches at any depth; a pattern with a slash is relative to the root
    const pattern = nameGlob.includes("/") ? nameGlob : `**/${nameGlob}`;
    const needle = query.content ? contentMatcher(query.content, query.caseSensitive ?? false) : undefined;
    const matches: FsFindMatch[] = [];
    let truncated = false;
    let timedOut = false;
    const entries = fg.stream(pattern, {
      cwd: root,
      dot: true,
      onlyFiles: true,
      followSymbolicLinks: false,
      suppressErrors: true,
      caseSensitiveMatch: query.caseSensitive ?? false,
      ignore: query.includeGit ? [] : ["**/.git/**"],
    });
    // the deadline also ends a walk that is stuck in a slow directory, not only a busy one
    const timer = setTimeout(() => {
      timedOut = true;
      (entries as unknown as Readable).destroy();
    }, timeoutMs);
    // content is searched in small parallel batches: one file at a time waits on every open and read in turn
    let batch: string[] = [];
    const flush = async (): Promise<boolean> => {
      const hits = needle ? await Promise.all(batch.map((rel) => searchFile(path.join(root, rel), needle, deadline))) : batch.map(() => undefined);
      for (let i = 0; i < batch.length; i++) {
        const hit = hits[i];
        if (hit === "timeout") return (timedOut = true), false;
        if (needle && !hit) continue;
        if (matches.length >= limit) return (truncated = true), false;
        const rel = batch[i]!;
        matches.push({ path: path.join(root, rel), relativePath: rel, ...(hit ? { line: hit } : {}) });
      }
      batch = [];
      return true;
    };
    try {
      for await (const entry of entries) {
        if (timedOut || Date.now() > deadline) {
          timedOut = true;
          break;
        }
        batch.push(String(entry));
        if (batch.length >= (needle ? CONTENT_BATCH : 1) && !(await flush())) break;
      }
      if (batch.length > 0 && !timedOut && !truncated) await flush();
    } catch (err) {
      // a destroyed walk ends its iteration with "premature close": that is the deadline
      if (!timedOut) throw err;
    } finally {
      clearTimeout(timer);
      (entries as unknown as Readable).destroy();
    }
    return { root, matches, truncated, timedOut };
  }
}

type Matcher = (text: string) => boolean;

/** Files read at once by a content search. */
const CONTENT_BATCH = 32;

function contentMatcher(pattern: string, caseSensitive: boolean): Matcher {
  const wanted = caseSensitive ? pattern : pattern.toLowerCase();
  return (text) => (caseSensitive ? text : text.toLowerCase()).includes(wanted);
}

/** The first line of a (not too large, text) file that matches, or undefined. */
async function searchFile(file: string, matches: Matcher, deadline: number): Promise<{ number: number; text: string } | undefined | "timeout"> {
  // lstat: a symlink is never followed, so a link inside the root cannot read a file outside it
  const st = await fsp.lstat(file).catch(() => undefined);
  if (!st || !st.isFile() || st.size > LIMITS.findContentFileBytes.max) return undefined;
  let data: Buffer;
  try {
    data = await fsp.readFile(file);
  } catch {
    return undefined;
  }
  if (Date.now() > deadline) return "timeout";
  if (data.subarray(0, 8000).includes(0)) return undefined; // binary
  const lines = data.toString("utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (matches(lines[i]!)) return { number: i + 1, text: lines[i]!.slice(0, 1000) };
  }
  return undefined;
}
