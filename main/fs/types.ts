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

/** Glasspane additions for workspaces (exists, find, append, several uploaded files). */
export interface FsExists {
  path: string;
  exists: boolean;
  entryType: FsEntryType | null;
}

export interface FsFindQuery {
  /** directory to search (default: the base directory) */
  path?: string | null;
  /** glob on file names ("*.ts"); with a slash, on paths relative to `path` */
  name?: string | null;
  /** text a matching file contains (a literal, case-insensitive unless `caseSensitive`) */
  content?: string | null;
  caseSensitive?: boolean | null;
  /** search inside .git folders too (default false) */
  includeGit?: boolean | null;
  limit?: number | null;
  timeoutMs?: number | null;
}

export interface FsFindMatch {
  path: string;
  relativePath: string;
  /** the first matching line, for a content search */
  line?: { number: number; text: string };
}

export interface FsFindResult {
  root: string;
  matches: FsFindMatch[];
  /** more matched than `limit` */
  truncated: boolean;
  /** the deadline passed: `matches` holds what was found until then */
  timedOut: boolean;
}

export interface FsUploadedFile {
  fileName: string;
  path: string;
  size: number;
}

export interface WorkspaceFileSystem extends FileSystem {
  exists(path: string): Promise<FsExists>;
  find(query: FsFindQuery): Promise<FsFindResult>;
  /** adds `content` at the end of the file (created when missing) */
  append(path: string, content: string | Buffer): Promise<{ path: string; bytesWritten: number }>;
  /** writes one uploaded file atomically into the directory (created when missing) */
  writeUploaded(dir: string | null | undefined, fileName: string, body: Readable): Promise<FsUploadedFile>;
  /** the confined absolute path of a directory (git repositories, working directories) */
  resolveDirectory(path: string | null | undefined, create: boolean): Promise<string>;
}
