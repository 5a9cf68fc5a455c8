import type { Readable } from "node:stream";

/** Shapes of the file-system contract (field for field as the sandbox-agent SDK's `Fs*` types). */

/** "file" and "directory" as the SDK; special files say what they are (Glasspane addition). */
export type FsEntryType = "file" | "directory" | "fifo" | "socket" | "characterDevice" | "blockDevice";

export interface FsStat {
  /** absolute path after `~` expansion and resolution */
  path: string;
  entryType: FsEntryType;
  size: number;
  /** RFC 3339 modification time */
  modified?: string | null;
}

export interface FsEntry extends FsStat {
  name: string;
}

export interface FsWriteResult {
  path: string;
  bytesWritten: number;
}

export interface FsFileStream {
  path: string;
  size: number;
  stream: Readable;
}

export interface FsUploadResult {
  /** extracted files and directories, absolute, at most `maxListedPaths` of them */
  paths: string[];
  truncated: boolean;
  /** entries that were not extracted: links, devices, FIFOs (Glasspane addition) */
  skipped: string[];
}

/**
 * Files and directories of the machine the server runs on. Paths are absolute, `~` or
 * `~/...` (the server user's home), or relative to the base directory (the home, or the
 * root when one is configured). Errors are GlasspaneErrors: 400 malformed path, 403
 * outside the root or not permitted, 404 missing, 409 wrong kind of entry or destination exists.
 */
export interface FileSystem {
  list(path?: string | null): Promise<FsEntry[]>;
  stat(path: string): Promise<FsStat>;
  /** a regular file's bytes as a stream; the caller must consume or destroy it */
  readFile(path: string): Promise<FsFileStream>;
  /** writes `body` (at most `expectedBytes` when known) atomically; creates parent directories */
  writeFile(path: string, body: Readable | Buffer | undefined, expectedBytes?: number): Promise<FsWriteResult>;
  /** a non-empty directory needs `recursive` */
  delete(path: string, recursive: boolean): Promise<{ path: string }>;
  /** mkdir -p */
  mkdir(path: string): Promise<{ path: string }>;
  /** `overwrite` replaces an existing destination entirely */
  move(from: string, to: string, overwrite: boolean): Promise<{ from: string; to: string }>;
  /** copies a file or a directory tree */
  copy(from: string, to: string, overwrite: boolean): Promise<{ from: string; to: string }>;
  /** extracts a tar (optionally gzipped) archive into the directory `path` */
  uploadBatch(path: string | null | undefined, body: Readable | Buffer | undefined, expectedBytes?: number): Promise<FsUploadResult>;
}
