/** Shapes of the browser contract (`/v1/desktop/browser/*`), as the HTTP layer sees them. */
import type { WindowInfo } from "../desktop/types.js";

export type BrowserState = "stopped" | "starting" | "running" | "restarting";

/** `POST /v1/desktop/browser/start` body; every field is optional. */
export interface BrowserStartOptions {
  /** the page opened at start (about:blank) */
  url?: string | null;
  /** an inner window size; absent: maximized */
  windowSize?: { width: number; height: number } | null;
  /** fill the screen (the default unless windowSize is given) */
  maximized?: boolean | null;
  /** a named profile kept under the state directory ("default") */
  profile?: string | null;
  /** a new empty profile, deleted when the browser stops (overrides profile) */
  freshProfile?: boolean | null;
  /** further Chromium flags, each starting with "--" */
  args?: string[] | null;
  /** --proxy-server and --proxy-bypass-list */
  proxy?: { server: string; bypass?: string | null } | null;
}

export interface BrowserVersion {
  /** "Chrome/131.0.6778.204" */
  browser: string;
  protocolVersion: string;
  userAgent: string;
  v8Version: string | null;
}

/** One target of the browser (a tab, a worker ...), from its /json/list. */
export interface BrowserTarget {
  id: string;
  type: string;
  title: string;
  url: string;
}

export interface BrowserStatus {
  state: BrowserState;
  /** the Chromium process in GET /v1/processes */
  processId: string | null;
  pid: number | null;
  restarts: number;
  version: BrowserVersion | null;
  /** the browser's own DevTools port, bound to 127.0.0.1 only */
  debuggingPort: number | null;
  /** CDP clients connected through Glasspane right now */
  cdpClients: number;
  /** the browser's tabs (/json/list has every target) */
  pages: BrowserTarget[];
  /** the browser's windows on the desktop, for the window and action endpoints */
  windows: WindowInfo[];
  profile: string | null;
  profileDir: string | null;
  /** where downloads land; readable through /v1/fs */
  downloadsDir: string | null;
  display: string | null;
  startedAt: string | null;
  lastError: { code: string; message: string } | null;
}

/** A CDP discovery document (`/json/version`, `/json/list`) with its endpoints pointing back at Glasspane. */
export interface DiscoveryBase {
  /** "ws://host:port" of the request, where the rewritten WebSocket URLs point */
  wsOrigin: string;
  /** the path prefix of Glasspane's browser routes, "/v1/desktop/browser" */
  prefix: string;
}

/** A discovery document as Chromium wrote it: its fields are passed on as they are. */
export type DiscoveryDocument = Record<string, unknown>;

/**
 * One client WebSocket as the browser service sees it. The HTTP layer adapts its socket to
 * this and feeds incoming frames to the returned handlers.
 */
export interface CdpChannel {
  /** `sent` runs once the frame has left (flow control: the service stops reading the browser meanwhile) */
  send(data: Buffer, binary: boolean, sent: () => void): void;
  close(code: number, reason: string): void;
  /** bytes queued towards the client */
  readonly bufferedAmount: number;
}

export interface CdpHandlers {
  message(data: Buffer, binary: boolean): void;
  closed(): void;
}

/** Everything the HTTP layer may ask of the browser. */
export interface Browser {
  start(options: BrowserStartOptions): Promise<BrowserStatus>;
  stop(): Promise<BrowserStatus>;
  status(): Promise<BrowserStatus>;
  /**
   * Resolves the DevTools path a client asks for ("browser" for the browser endpoint,
   * "page/<id>" ...); rejects with 409 while no browser runs (waiting, bounded, for one that
   * is restarting), so the upgrade can be refused.
   */
  resolveTarget(target: string): Promise<string>;
  /** Bridges a connected client socket to the browser's DevTools WebSocket at `path`. */
  connect(path: string, channel: CdpChannel): CdpHandlers;
  /** `/json/version` with webSocketDebuggerUrl through Glasspane. */
  discoveryVersion(base: DiscoveryBase): Promise<DiscoveryDocument & { webSocketDebuggerUrl: string }>;
  /** `/json/list` with each target's webSocketDebuggerUrl through Glasspane. */
  discoveryList(base: DiscoveryBase): Promise<Array<DiscoveryDocument & { id: string; type: string }>>;
}
