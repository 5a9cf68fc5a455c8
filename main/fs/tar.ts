import path from "node:path";
import * as tar from "tar";
import { conflict, invalid } from "../shared/errors.js";
import type { FsUploadResult } from "./types.js";

/** The response lists at most this many paths (`truncated` says when there were more). */
const MAX_LISTED_PATHS = 1024;
const EXTRACTED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory"]);

/**
 * Extracts the tar (or tar.gz) file `archive` into `dest`. The whole archive is read
 * once before anything is written, so a corrupt archive or an entry that would land
 * outside `dest` (absolute, or climbing with "..") is a 400 with nothing extracted.
 * Regular files and directories are extracted; links, devices and FIFOs are skipped.
 */
export async function extractTar(archive: string, dest: string): Promise<FsUploadResult> {
  const extracted: string[] = [];
  const skipped: string[] = [];
  let escaping: string | undefined;
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const rel = relativeEntryPath(entry.path);
        if (rel === undefined) escaping ??= entry.path;
        else if (rel === "") return;
        else if (EXTRACTED_TYPES.has(entry.type)) extracted.push(path.join(dest, rel));
        else skipped.push(path.join(dest, rel));
      },
    });
  } catch (err) {
    throw invalid(`the body is not a valid tar archive: ${(err as Error).message}`);
  }
  if (escaping !== undefined) throw invalid(`tar entry "${escaping}" escapes the destination ${dest}`);

  try {
    await tar.x({
      file: archive,
      cwd: dest,
      strict: true,
      // running as root must not hand files to whatever uid the archive names
      preserveOwner: false,
      filter: (_p, entry) => "type" in entry && EXTRACTED_TYPES.has(entry.type),
    });
  } catch (err) {
    // e.g. TAR_SYMLINK_ERROR: an entry would be written through a symlink already in dest
    const code = (err as NodeJS.ErrnoException).code;
    if (code?.startsWith("TAR_")) throw conflict(`extracting into ${dest} stopped part way: ${(err as Error).message}`);
    throw err;
  }
  return {
    paths: extracted.slice(0, MAX_LISTED_PATHS),
    truncated: extracted.length > MAX_LISTED_PATHS,
    skipped: skipped.slice(0, MAX_LISTED_PATHS),
  };
}

/** The entry's path relative to the destination ("" for the destination itself), or undefined when it escapes. */
function relativeEntryPath(entryPath: string): string | undefined {
  if (path.isAbsolute(entryPath) || /^[a-zA-Z]:/.test(entryPath)) return undefined;
  const slashed = entryPath.replaceAll("\\", "/");
  // any ".." segment is refused (node-tar would skip it too), even one that stays inside
  if (slashed.split("/").includes("..")) return undefined;
  const normal = path.posix.normalize(slashed);
  return normal === "." || normal === "./" ? "" : normal.replace(/\/$/, "");
}
