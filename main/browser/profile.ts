import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { invalid } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";

/** Where one browser run keeps its profile and downloads, under `<stateDir>/browser`. */
export interface ProfileDirs {
  name: string;
  dir: string;
  /** deleted when the browser stops */
  fresh: boolean;
  downloadsDir: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function profileDirs(stateDir: string, name: string | null | undefined, fresh: boolean): ProfileDirs {
  const root = path.join(stateDir, "browser");
  const downloadsDir = path.join(root, "downloads");
  if (fresh) {
    const id = `fresh-${Date.now()}-${randomBytes(3).toString("hex")}`;
    return { name: id, dir: path.join(root, "fresh", id), fresh: true, downloadsDir };
  }
  const profile = name ?? "default";
  if (!NAME.test(profile) || profile.length > LIMITS.browserProfileName.max) {
    throw invalid(`profile must be a name of letters, digits, ".", "_" and "-", at most ${LIMITS.browserProfileName.max} characters (got "${profile.slice(0, 80)}")`);
  }
  return { name: profile, dir: path.join(root, "profiles", profile), fresh: false, downloadsDir };
}

/**
 * Creates the folders and sets the preferences Glasspane relies on: downloads go to the
 * downloads folder without asking, and the last exit counts as clean (a browser restarted
 * after a crash opens its page, not a "restore pages?" bubble).
 */
export function prepareProfile(p: ProfileDirs): void {
  mkdirSync(path.join(p.dir, "Default"), { recursive: true });
  mkdirSync(p.downloadsDir, { recursive: true });
  markCleanExit(p);
}

/** Rewrites the profile's Preferences with Glasspane's settings, keeping everything else. */
export function markCleanExit(p: ProfileDirs): void {
  const file = path.join(p.dir, "Default", "Preferences");
  let prefs: Record<string, any> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    if (parsed && typeof parsed === "object") prefs = parsed;
  } catch {
    /* absent or half-written by a browser that was killed: start over */
  }
  prefs.download = { ...prefs.download, default_directory: p.downloadsDir, prompt_for_download: false, directory_upgrade: true };
  prefs.savefile = { ...prefs.savefile, default_directory: p.downloadsDir };
  prefs.profile = { ...prefs.profile, exit_type: "Normal", exited_cleanly: true };
  try {
    const tmp = `${file}.glasspane-tmp`;
    writeFileSync(tmp, JSON.stringify(prefs));
    renameSync(tmp, file);
  } catch {
    /* a profile we cannot write still runs; downloads then ask where to go */
  }
}

/** The DevTools port Chromium chose and its browser endpoint path, from `DevToolsActivePort`. */
export function readActivePort(p: ProfileDirs): { port: number; browserPath: string } | undefined {
  try {
    const [port, browserPath] = readFileSync(path.join(p.dir, "DevToolsActivePort"), "utf8").split("\n");
    const n = Number(port);
    if (!Number.isInteger(n) || n <= 0 || n > 65535 || !browserPath?.startsWith("/devtools/browser/")) return undefined;
    return { port: n, browserPath: browserPath.trim() };
  } catch {
    return undefined;
  }
}

/** Forgets the port of a browser that exited, so a restarted one is waited for. */
export function clearActivePort(p: ProfileDirs): void {
  try {
    unlinkSync(path.join(p.dir, "DevToolsActivePort"));
  } catch {
    /* not there */
  }
}

export function removeProfile(p: ProfileDirs): void {
  if (p.fresh) rmSync(p.dir, { recursive: true, force: true });
}
