import { statfsSync } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { invalid } from "./errors.js";

/**
 * Creating directories without Node's `mkdir({ recursive: true })`, which never returns on
 * some kernel file systems (on /proc it retries forever, on the event loop when sync). Here
 * the missing part of the path is found by walking up once, refused when it would land on
 * a kernel file system, and created one component at a time: a bounded number of calls.
 */

/** statfs magic numbers of file systems the kernel makes up: nothing may be created there. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: "proc",
  0x62656572: "sysfs",
  0x27e0eb: "cgroup",
  0x63677270: "cgroup2",
  0x64626720: "debugfs",
  0x74726163: "tracefs",
  0x73636673: "securityfs",
  0xcafe4a11: "bpf",
  0x6165676c: "pstore",
  0xde5e81e4: "efivarfs",
  0x42494e4d: "binfmt_misc",
  0x1cd1: "devpts",
};
/** Linux's limits: a whole path, and one name in it. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

/** The kernel file system `existing` lies on, if it is one. */
export function pseudoFileSystem(existing: string): string | undefined {
  try {
    return PSEUDO_FS[statfsSync(existing).type];
  } catch {
    return undefined;
  }
}

/** Shape checks that need no system call: NUL, over-long paths and names. */
export function checkPathShape(p: string, what = "path"): void {
  if (p.includes("\0")) throw invalid(`${what} must not contain NUL bytes`);
  if (Buffer.byteLength(p) >= PATH_MAX) throw invalid(`${what} is longer than ${PATH_MAX - 1} bytes`);
  const long = p.split("/").find((name) => Buffer.byteLength(name) > NAME_MAX);
  if (long !== undefined) throw invalid(`${what} has a name longer than ${NAME_MAX} bytes ("${long.slice(0, 40)}...")`);
}

/** Refuses `p` when it lies (or would be created) on a kernel file system. */
export function refusePseudo(existing: string, p: string, what: string): void {
  const kind = pseudoFileSystem(existing);
  if (kind) throw invalid(`${what}: ${p} lies on the kernel's ${kind} file system, where nothing can be created or copied`);
}

/** `mkdir -p p`, async. Errors are node:fs errors (with their errno code), or a 400 for a kernel file system. */
export async function makeDirectory(p: string, what = "directory"): Promise<void> {
  const target = path.resolve(p);
  checkPathShape(target, what);
  const missing: string[] = [];
  let probe = target;
  for (;;) {
    const st = await fsp.stat(probe).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" && probe !== path.dirname(probe)) return undefined;
      throw err;
    });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${probe} is not a directory`), { code: "ENOTDIR" });
      break;
    }
    missing.push(probe);
    probe = path.dirname(probe);
  }
  refusePseudo(probe, target, what);
  for (const dir of missing.reverse()) {
    await fsp.mkdir(dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === "EEXIST" && (await fsp.stat(dir)).isDirectory()) return;
      throw err;
    });
  }
}
