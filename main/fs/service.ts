import { constants, createWriteStream, statSync, type Stats } from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { conflict, GlasspaneError, invalid } from "../shared/errors.js";
import { withDeadline } from "../shared/deadline.js";
import { makeDirectory, refusePseudo } from "../shared/directories.js";
import { fsError } from "./errors.js";
import { isWithin, outsideRoot, resolvePath, type PathPolicy } from "./paths.js";
import { extractTar } from "./tar.js";
import type { FileSystem, FsEntry, FsEntryType, FsFileStream, FsStat, FsUploadResult, FsWriteResult } from "./types.js";

export interface FsOptions {
  /** `~` and, without a root, the base of relative paths (default: os.homedir()) */
  home?: string;
  /** confine every path to this directory (default: the whole file system, as the reference) */
  root?: string;
  /** largest file one PUT may write (default 1 GiB; streamed to disk, not held in memory) */
  maxWriteBytes?: number;
  /** largest tar archive one upload-batch may send (default 1 GiB) */
  maxUploadBytes?: number;
}

/** Deadline for one metadata call (stat, readdir, rename ...): a hung network mount answers 504. */
const OP_DEADLINE_MS = 30_000;
/** Deadline for copying or deleting a tree and for extracting an archive. */
const TREE_DEADLINE_MS = 300_000;
const GiB = 1024 * 1024 * 1024;
/** A file that claims size 0 (/proc, /sys) is read into memory, up to this much. */
const SIZELESS_READ_LIMIT = 16 * 1024 * 1024;

/** The file API on node:fs/promises. Every call is bounded by a deadline. */
export class FsService implements FileSystem {
  protected readonly policy: PathPolicy;
  private readonly maxWriteBytes: number;
  private readonly maxUploadBytes: number;

  constructor(options: FsOptions = {}) {
    const home = path.resolve(options.home ?? os.homedir());
    const root = options.root === undefined ? undefined : path.resolve(options.root);
    if (root !== undefined && !statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      throw invalid(`the file-system root ${root} is not an existing directory`);
    }
    this.policy = { home, base: root ?? home, root };
    this.maxWriteBytes = options.maxWriteBytes ?? GiB;
    this.maxUploadBytes = options.maxUploadBytes ?? GiB;
  }

  async list(input?: string | null): Promise<FsEntry[]> {
    const dir = await this.resolve(input ?? this.policy.base);
    const st = await this.op(fsp.stat(dir), dir, "list");
    if (!st.isDirectory()) throw conflict(`${dir} is not a directory`);
    const names = await this.op(fsp.readdir(dir), dir, "list");
    names.sort();
    const entries: FsEntry[] = [];
    // stat in small batches: a huge directory must not open thousands of requests at once
    for (let i = 0; i < names.length; i += 64) {
      const batch = names.slice(i, i + 64).map(async (name): Promise<FsEntry | undefined> => {
        const full = path.join(dir, name);
        // a dangling symlink is still listed (as a file); an entry gone meanwhile is not
        const entrySt = await fsp.stat(full).catch(() => fsp.lstat(full).catch(() => undefined));
        return entrySt && { name, ...describe(full, entrySt) };
      });
      for (const e of await this.op(Promise.all(batch), dir, "list")) if (e) entries.push(e);
    }
    return entries;
  }

  async stat(input: string): Promise<FsStat> {
    const p = await this.resolve(input);
    return describe(p, await this.op(fsp.stat(p), p, "stat"));
  }

  async readFile(input: string): Promise<FsFileStream> {
    const p = await this.resolve(input);
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it
    const handle = await this.op(fsp.open(p, constants.O_RDONLY | constants.O_NONBLOCK), p, "read");
    try {
      const st = await this.op(handle.stat(), p, "read");
      if (st.isDirectory()) throw conflict(`${p} is a directory, not a file (list it with GET /v1/fs/entries)`);
      if (!st.isFile()) throw conflict(`${p} is a ${entryType(st)}, not a regular file: it has no bytes to read`);
      if (st.size === 0) {
        // /proc and /sys files report size 0 yet have content: read them here, so a read
        // error is a problem answer rather than a response cut off half way
        const data = await this.op(readAll(handle, SIZELESS_READ_LIMIT), p, "read");
        await handle.close();
        return { path: p, size: data.length, stream: Readable.from([data]) };
      }
      return { path: p, size: st.size, stream: handle.createReadStream({ start: 0, end: st.size - 1 }) };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  async writeFile(input: string, body: Readable | Buffer | undefined, expectedBytes?: number): Promise<FsWriteResult> {
    let p = await this.resolve(input);
    if (expectedBytes !== undefined && expectedBytes > this.maxWriteBytes) throw tooLarge("file", this.maxWriteBytes);
    const existing = await this.op(fsp.stat(p), p, "write").catch(ignoreMissing);
    let mode: number | undefined;
    let owner: { uid: number; gid: number } | undefined;
    if (existing) {
      if (existing.isDirectory()) throw conflict(`${p} is a directory; a file cannot replace it`);
      if (!existing.isFile()) throw conflict(`${p} exists and is not a regular file`);
      // write through a symlink to its target, and keep the file's permissions
      p = await this.op(fsp.realpath(p), p, "write");
      await this.confine(p, input);
      mode = existing.mode & 0o7777;
      if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.()) owner = { uid: existing.uid, gid: existing.gid };
    }
    await this.op(makeDirectory(path.dirname(p), "the parent directory"), path.dirname(p), "create the parent of");
    // write beside the target and rename: readers never see half a file, a failed upload leaves the old one
    const temp = path.join(path.dirname(p), `.${path.basename(p)}.${randomBytes(6).toString("hex")}.glasspane-part`);
    let bytes = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        bytes += chunk.length;
        done(bytes > this.maxWriteBytes ? tooLarge("file", this.maxWriteBytes) : null, chunk);
      },
    });
    try {
      await pipeline(toStream(body), counter, createWriteStream(temp, { flags: "wx", mode: mode ?? 0o666 }));
      // a replaced file keeps its owner (when we may give it away: as root) and its exact mode
      if (owner) await fsp.chown(temp, owner.uid, owner.gid).catch(() => undefined);
      if (mode !== undefined) await this.op(fsp.chmod(temp, mode), p, "write");
      await this.op(fsp.rename(temp, p), p, "write");
    } catch (err) {
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      throw err instanceof GlasspaneError ? err : fsError(err, p, "write");
    }
    return { path: p, bytesWritten: bytes };
  }

  async delete(input: string, recursive: boolean): Promise<{ path: string }> {
    const p = await this.resolve(input);
    if (p === path.parse(p).root || p === this.policy.root) throw invalid(`refusing to delete ${p}`);
    // lstat: deleting a symlink removes the link, never what it points to
    const st = await this.op(fsp.lstat(p), p, "delete");
    if (!st.isDirectory()) await this.op(fsp.unlink(p), p, "delete");
    else if (recursive) await this.op(fsp.rm(p, { recursive: true }), p, "delete", TREE_DEADLINE_MS);
    else {
      await this.op(fsp.rmdir(p), p, "delete").catch((err) => {
        if (err instanceof GlasspaneError && err.extra.errno === "ENOTEMPTY") {
          throw conflict(`${p} is a directory that is not empty; pass recursive=true to delete it with its contents`);
        }
        throw err;
      });
    }
    return { path: p };
  }

  async mkdir(input: string): Promise<{ path: string }> {
    const p = await this.resolve(input);
    await this.op(makeDirectory(p), p, "create directory");
    return { path: p };
  }

  async move(fromInput: string, toInput: string, overwrite: boolean): Promise<{ from: string; to: string }> {
    const { from, to, fromStat } = await this.prepareTransfer(fromInput, toInput, overwrite, "move");
    if (from !== to) {
      try {
        await withDeadline(fsp.rename(from, to), OP_DEADLINE_MS, `move ${from}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw fsError(err, from, "move");
        // another file system: copy, then remove the source
        await this.op(fsp.cp(from, to, copyOptions(fromStat)), from, "move", TREE_DEADLINE_MS);
        await this.op(fsp.rm(from, { recursive: true }), from, "move", TREE_DEADLINE_MS);
      }
    }
    return { from, to };
  }

  async copy(fromInput: string, toInput: string, overwrite: boolean): Promise<{ from: string; to: string }> {
    const { from, to, fromStat } = await this.prepareTransfer(fromInput, toInput, overwrite, "copy");
    if (from === to) throw conflict(`cannot copy ${from} onto itself`);
    await this.op(fsp.cp(from, to, copyOptions(fromStat)), from, "copy", TREE_DEADLINE_MS);
    return { from, to };
  }

  async uploadBatch(input: string | null | undefined, body: Readable | Buffer | undefined, expectedBytes?: number): Promise<FsUploadResult> {
    const dest = await this.resolve(input ?? this.policy.base);
    if (expectedBytes !== undefined && expectedBytes > this.maxUploadBytes) throw tooLarge("archive", this.maxUploadBytes);
    await this.op(makeDirectory(dest), dest, "create directory");
    const spoolDir = await this.op(fsp.mkdtemp(path.join(os.tmpdir(), "glasspane-upload-")), os.tmpdir(), "create a temporary directory in");
    try {
      const archive = path.join(spoolDir, "upload.tar");
      let bytes = 0;
      const counter = new Transform({
        transform: (chunk: Buffer, _enc, done) => {
          bytes += chunk.length;
          done(bytes > this.maxUploadBytes ? tooLarge("archive", this.maxUploadBytes) : null, chunk);
        },
      });
      await pipeline(toStream(body), counter, createWriteStream(archive));
      const extracting = extractTar(archive, dest).catch((err) => {
        throw fsError(err, dest, "extract the archive into");
      });
      return await withDeadline(extracting, TREE_DEADLINE_MS, `extracting the archive into ${dest}`);
    } finally {
      await fsp.rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Checks shared by move and copy; removes the destination when `overwrite` asks for it. */
  private async prepareTransfer(fromInput: string, toInput: string, overwrite: boolean, action: string) {
    const from = await this.resolve(fromInput);
    const to = await this.resolve(toInput);
    const fromStat = await this.op(fsp.lstat(from), from, action);
    // a kernel file system's entries are not files: copying /proc would never end
    refusePseudo(from, from, `cannot ${action}`);
    if (from === to) return { from, to, fromStat };
    if (fromStat.isDirectory() && isWithin(from, to)) throw invalid(`cannot ${action} ${from} into itself (${to})`);
    const toStat = await this.op(fsp.lstat(to), to, action).catch(ignoreMissing);
    if (toStat) {
      if (!overwrite) throw conflict(`${to} already exists; pass overwrite=true to replace it`);
      if (isWithin(to, from)) throw invalid(`cannot replace ${to}: it contains ${from}`);
      await this.op(fsp.rm(to, { recursive: true }), to, "replace", TREE_DEADLINE_MS);
    }
    await this.op(makeDirectory(path.dirname(to), "the parent directory"), path.dirname(to), "create the parent of");
    return { from, to, fromStat };
  }

  protected async resolve(input: string): Promise<string> {
    const p = resolvePath(input, this.policy);
    await this.confine(p, input);
    return p;
  }

  /** With a root, the path's existing part must not lead outside it through a symlink. */
  private async confine(p: string, input: string): Promise<void> {
    const root = this.policy.root;
    if (root === undefined) return;
    const realRoot = await this.op(fsp.realpath(root), root, "resolve the root");
    for (let probe = p; ; probe = path.dirname(probe)) {
      const real = await withDeadline(fsp.realpath(probe), OP_DEADLINE_MS, `resolve ${probe}`).catch(() => undefined);
      if (real !== undefined) {
        if (!isWithin(realRoot, real)) throw outsideRoot(input, root);
        return;
      }
      if (probe === path.dirname(probe)) return;
    }
  }

  /** Runs one call under the deadline and turns errno failures into problems about `p`. */
  protected op<T>(promise: Promise<T>, p: string, action: string, ms = OP_DEADLINE_MS): Promise<T> {
    return withDeadline(
      promise.catch((err) => {
        throw err instanceof GlasspaneError ? err : fsError(err, p, action);
      }),
      ms,
      `${action} ${p}`,
    );
  }
}

function describe(p: string, st: Stats): FsStat {
  return {
    path: p,
    entryType: entryType(st),
    size: st.size,
    modified: st.mtime.toISOString(),
  };
}

/** What an entry is; the SDK knows file and directory, the others say what a special file is. */
function entryType(st: Stats): FsEntryType {
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "characterDevice";
  if (st.isBlockDevice()) return "blockDevice";
  return "file";
}

function copyOptions(st: Stats) {
  return { recursive: st.isDirectory(), errorOnExist: true, force: false, verbatimSymlinks: true, preserveTimestamps: true };
}

async function readAll(handle: fsp.FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > limit) throw tooLarge("file (it reports size 0)", limit);
    chunks.push(chunk.subarray(0, bytesRead));
  }
}

function ignoreMissing(err: unknown): undefined {
  if (err instanceof GlasspaneError && err.status === 404) return undefined;
  throw err;
}

function toStream(body: Readable | Buffer | undefined): Readable {
  if (body === undefined) return Readable.from([]);
  if (Buffer.isBuffer(body)) return Readable.from([body]);
  return body;
}

function tooLarge(what: string, limit: number): GlasspaneError {
  return new GlasspaneError("payload_too_large", 413, `the ${what} is larger than the limit of ${limit} bytes`);
}
