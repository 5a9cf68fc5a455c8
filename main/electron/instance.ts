import { deepLinkFromArgv, type DeepLink } from "./deep-link.js";

export interface InstanceHooks {
  /** shows, restores and focuses the window */
  focus(): void;
  open(link: DeepLink): void;
}

/**
 * A second launch of the app does not start a second runtime: Electron hands its command
 * line to the first instance, which comes to the front and opens any deep link it carried.
 */
export function handleSecondInstance(argv: readonly string[], hooks: InstanceHooks): void {
  hooks.focus();
  const link = deepLinkFromArgv(argv);
  if (link) hooks.open(link);
}

/** The connection the preload exposes, carried to it as one command-line argument. */
export const CONNECTION_ARG = "--glasspane-connection=";

export function connectionArg(server: string, token: string): string {
  return CONNECTION_ARG + Buffer.from(JSON.stringify({ server, token })).toString("base64");
}
