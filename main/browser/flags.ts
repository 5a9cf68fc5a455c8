import { invalid } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import type { BrowserStartOptions } from "./types.js";

/**
 * The flags every Chromium of this project runs with (DESIGN.md, decision 7): no sandbox (a
 * container has no user namespaces), no GPU (Xvfb has none), nothing that phones home or
 * updates itself, no first-run dialogs. Test helpers that launch Chromium can share this list.
 */
export const CHROMIUM_REQUIRED_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
] as const;

/** The managed browser's flags: the required ones, no default-browser question, no keyring prompt. */
export const FIXED_FLAGS = [...CHROMIUM_REQUIRED_FLAGS, "--no-default-browser-check", "--password-store=basic"] as const;

/**
 * Flags Glasspane sets itself: the DevTools port stays on loopback (port 0: Chromium picks
 * a free one and writes it to DevToolsActivePort), the profile is ours, and no web origin
 * may open the DevTools socket directly.
 */
const RESERVED = ["--remote-debugging-port", "--remote-debugging-address", "--remote-debugging-pipe", "--user-data-dir", "--remote-allow-origins"];

/** The command line of one browser start (after the Debian wrapper's own flags). */
export function chromiumArgs(options: BrowserStartOptions, profileDir: string): string[] {
  const args: string[] = [...FIXED_FLAGS, `--user-data-dir=${profileDir}`, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"];
  const size = options.windowSize;
  if (size) {
    const { min, max } = LIMITS.windowSize;
    if (size.width < min || size.height < min || size.width > max || size.height > max) {
      throw invalid(`windowSize must be between ${min} and ${max} pixels each way (got ${size.width}x${size.height})`);
    }
    if (options.maximized) throw invalid("give windowSize or maximized, not both");
    args.push("--window-position=0,0", `--window-size=${size.width},${size.height}`);
  } else if (options.maximized !== false) {
    args.push("--start-maximized");
  }
  if (options.proxy) {
    const { server, bypass } = options.proxy;
    if (!server.trim() || /\s/.test(server)) throw invalid(`proxy.server must be a proxy address such as http://host:3128 (got "${server}")`);
    args.push(`--proxy-server=${server}`);
    if (bypass) args.push(`--proxy-bypass-list=${bypass}`);
  }
  const extra = options.args ?? [];
  if (extra.length > LIMITS.browserFlags.max) throw invalid(`at most ${LIMITS.browserFlags.max} extra flags (got ${extra.length})`);
  for (const flag of extra) {
    if (!flag.startsWith("--") || flag.length > LIMITS.browserFlagLength.max) {
      throw invalid(`each extra flag must start with "--" and be at most ${LIMITS.browserFlagLength.max} characters (got "${flag.slice(0, 80)}")`);
    }
    const name = flag.split("=")[0]!;
    if (RESERVED.includes(name)) throw invalid(`${name} is set by Glasspane and cannot be given`);
    args.push(flag);
  }
  const url = options.url ?? "about:blank";
  if (url.length > LIMITS.urlLength.max) throw invalid(`url is longer than ${LIMITS.urlLength.max} characters`);
  if (url.startsWith("-")) throw invalid(`url must be a URL, not a flag (got "${url.slice(0, 80)}")`);
  args.push(url);
  return args;
}
