/** `glasspane://session/<id>` and `glasspane://recording/<id>`: what a deep link opens. */
export type DeepLink = { kind: "session"; id: string } | { kind: "recording"; id: string };

export const SCHEME = "glasspane";

const ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** The link a URL names, or undefined for anything else (other schemes, unknown kinds, odd ids). */
export function parseDeepLink(url: string): DeepLink | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${SCHEME}:`) return undefined;
  // glasspane://recording/rec_1 puts "recording" in the host; glasspane:recording/rec_1 in the path
  const parts = [u.host, ...u.pathname.split("/")].filter(Boolean).map(decodeURIComponent);
  if (parts.length !== 2) return undefined;
  const [kind, id] = parts as [string, string];
  if ((kind !== "session" && kind !== "recording") || !ID.test(id)) return undefined;
  return { kind, id };
}

/** The first deep link on a command line (how Linux hands one to the app, and to a second instance). */
export function deepLinkFromArgv(argv: readonly string[]): DeepLink | undefined {
  for (const arg of argv) {
    if (arg.startsWith(`${SCHEME}:`)) {
      const link = parseDeepLink(arg);
      if (link) return link;
    }
  }
  return undefined;
}

/** Where the UI shows a link: the fragment of the renderer's address. */
export function routeFor(link: DeepLink): string {
  return link.kind === "recording" ? `#recordings?play=${encodeURIComponent(link.id)}` : `#sessions/${encodeURIComponent(link.id)}`;
}
