import type { ComputerActions } from "../actions/types.js";
import type { Browser } from "../browser/types.js";
import type { Recordings } from "../desktop/recording/types.js";
import type { Desktop, DesktopStartOptions, DesktopState, DesktopStatus } from "../desktop/types.js";
import type { Stream } from "../stream/types.js";

/** The id of the desktop `/v1/desktop/...` addresses. */
export const DEFAULT_DESKTOP_ID = "default";

/** One desktop and everything that belongs to it: display, recordings, stream, actions, browser. */
export interface DesktopUnit {
  readonly id: string;
  readonly desktop: Desktop;
  readonly recordings: Recordings;
  readonly stream: Stream;
  readonly actions: ComputerActions;
  readonly browser: Browser;
}

export interface DesktopCreateOptions extends DesktopStartOptions {
  /** a slug; generated when absent */
  id?: string | null;
  /** create a token that reaches only this desktop's routes */
  accessToken?: boolean | null;
}

export interface DesktopCreated {
  id: string;
  status: DesktopStatus;
  /** shown once; kept in memory only */
  accessToken?: string;
}

export interface DesktopSummary {
  id: string;
  state: DesktopState;
  display: string | null;
  resolution: DesktopStatus["resolution"];
  startedAt: string | null;
  /** whether a per-desktop token guards it */
  accessToken: boolean;
}

/** The desktops of one runtime; `default` always exists. */
export interface Desktops {
  readonly max: number;
  create(options: DesktopCreateOptions): Promise<DesktopCreated>;
  list(): Promise<DesktopSummary[]>;
  summary(id: string): Promise<DesktopSummary>;
  /** the unit, or a 404 */
  get(id: string): DesktopUnit;
  /** stops it and everything it owns, and forgets it; `default` answers 409 */
  remove(id: string): Promise<void>;
  /** whether `token` is the per-desktop token of desktop `id` (constant time) */
  tokenReaches(id: string, token: string): boolean;
  /** whether desktop `id` has a per-desktop token */
  guarded(id: string): boolean;
}
