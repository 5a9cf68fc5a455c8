import { randomBytes } from "node:crypto";
import path from "node:path";
import type { PhaseObserver } from "../actions/executor.js";
import { DisplayNumbers } from "../desktop/displays.js";
import type { DesktopStatus } from "../desktop/types.js";
import type { ProcessManager } from "../processes/manager.js";
import { GlasspaneError, conflict, invalid, notFound } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import { tokenDigest, tokenMatches } from "../shared/token.js";
import { DEFAULT_DESKTOP_ID, type DesktopCreateOptions, type DesktopCreated, type Desktops, type DesktopSummary } from "./types.js";
import { LocalDesktopUnit, type UnitContext } from "./unit.js";

export interface RegistryOptions {
  stateDir: string;
  /** `--max-desktops`: desktops running (or starting) at once, the default one included */
  maxDesktops?: number;
  /** the one disk budget all desktops' recordings share */
  recordingBudgetBytes?: number;
  streamHostAddresses?: string[];
  observeAction?: PhaseObserver;
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * The desktops of one runtime. `default` is built at once and keeps `<stateDir>/desktop`;
 * the others live under `<stateDir>/desktops/<id>/`. Display numbers are claimed from one
 * in-process set, so desktops starting at the same moment never pick the same number.
 * Per-desktop tokens are kept in memory only, as digests.
 */
export class DesktopRegistry implements Desktops {
  readonly max: number;
  private readonly units = new Map<string, LocalDesktopUnit>();
  private readonly tokens = new Map<string, Buffer>();
  private readonly ctx: UnitContext;
  private nextId = 1;

  constructor(processes: ProcessManager, private readonly options: RegistryOptions) {
    this.max = options.maxDesktops ?? LIMITS.desktops.default;
    if (!Number.isInteger(this.max) || this.max < LIMITS.desktops.min || this.max > LIMITS.desktops.max) {
      throw invalid(`--max-desktops must be an integer from ${LIMITS.desktops.min} to ${LIMITS.desktops.max} (got ${this.max})`);
    }
    this.ctx = {
      processes,
      displays: new DisplayNumbers(),
      stateDir: options.stateDir,
      recordingBudgetBytes: options.recordingBudgetBytes,
      recordingsElsewhere: () => 0,
      streamHostAddresses: options.streamHostAddresses,
      observeAction: options.observeAction,
    };
    const dflt = this.build(DEFAULT_DESKTOP_ID, path.join(options.stateDir, "desktop"), options.stateDir);
    this.units.set(DEFAULT_DESKTOP_ID, dflt);
  }

  /** Every desktop, the default first. */
  all(): LocalDesktopUnit[] {
    return [...this.units.values()];
  }

  /** The default desktop, as the rest of the runtime (MCP, agents) uses it. */
  get defaultUnit(): LocalDesktopUnit {
    return this.units.get(DEFAULT_DESKTOP_ID)!;
  }

  private build(id: string, dir: string, browserDir: string): LocalDesktopUnit {
    const usedElsewhere = () => [...this.units.values()].filter((u) => u.id !== id).reduce((sum, u) => sum + u.recordings.usedBytes(), 0);
    return new LocalDesktopUnit(id, dir, browserDir, { ...this.ctx, recordingsElsewhere: usedElsewhere });
  }

  /** Desktops that hold a slot: every created one, and the default while it runs. */
  private slotsTaken(): number {
    let n = 0;
    for (const unit of this.units.values()) {
      if (unit.id !== DEFAULT_DESKTOP_ID || unit.desktop.currentState() !== "inactive") n++;
    }
    return n;
  }

  async create(options: DesktopCreateOptions): Promise<DesktopCreated> {
    const { id: askedId, accessToken, ...start } = options;
    const id = askedId ?? this.freshId();
    if (id.length > LIMITS.desktopId.max || !SLUG.test(id)) {
      throw invalid(`a desktop id is a slug of lower-case letters, digits and inner dashes, at most ${LIMITS.desktopId.max} characters (got "${id.slice(0, 80)}")`);
    }
    if (this.units.has(id)) throw conflict(`a desktop with the id "${id}" exists already`);
    if (this.slotsTaken() >= this.max) {
      throw new GlasspaneError(
        "desktop_limit_reached",
        409,
        `this runtime runs at most ${this.max} desktops (--max-desktops ${this.max}); delete one with DELETE /v1/desktops/{id} or start the server with a higher --max-desktops`,
        { maxDesktops: this.max },
      );
    }
    // the slot is taken before anything is awaited, so concurrent creates count each other
    const unit = this.build(id, path.join(this.options.stateDir, "desktops", id), path.join(this.options.stateDir, "desktops", id));
    this.units.set(id, unit);
    let status: DesktopStatus;
    try {
      status = await unit.desktop.start(start);
    } catch (err) {
      this.units.delete(id);
      await unit.close().catch(() => undefined);
      throw err;
    }
    if (!accessToken) return { id, status };
    const token = randomBytes(32).toString("base64url");
    this.tokens.set(id, tokenDigest(token));
    return { id, status, accessToken: token };
  }

  private freshId(): string {
    while (this.units.has(`desktop-${this.nextId}`)) this.nextId++;
    return `desktop-${this.nextId++}`;
  }

  async list(): Promise<DesktopSummary[]> {
    return Promise.all([...this.units.keys()].map((id) => this.summary(id)));
  }

  async summary(id: string): Promise<DesktopSummary> {
    const unit = this.get(id);
    const s = await unit.desktop.status();
    return { id, state: s.state, display: s.display, resolution: s.resolution, startedAt: s.startedAt, accessToken: this.tokens.has(id) };
  }

  get(id: string): LocalDesktopUnit {
    const unit = this.units.get(id);
    if (!unit) throw notFound(`no desktop with the id "${String(id).slice(0, 80)}"; GET /v1/desktops lists them`);
    return unit;
  }

  async remove(id: string): Promise<void> {
    const unit = this.get(id);
    if (id === DEFAULT_DESKTOP_ID) throw conflict("the default desktop cannot be deleted; stop it with POST /v1/desktop/stop");
    this.units.delete(id);
    this.tokens.delete(id);
    await unit.close();
    await this.stopLeftovers(id);
  }

  /** Apps a desktop launched outlive its X server only by accident: end what is still running. */
  private async stopLeftovers(id: string): Promise<void> {
    const left = this.ctx.processes.list().filter((p) => p.spec.desktopId === id && p.status === "running");
    await Promise.all(left.map((p) => p.stop(3000).catch(() => undefined)));
  }

  tokenReaches(id: string, token: string): boolean {
    const expected = this.tokens.get(id);
    return expected !== undefined && tokenMatches(token, expected);
  }

  guarded(id: string): boolean {
    return this.tokens.has(id);
  }

  /** Stops every desktop (the runtime is shutting down). */
  async close(): Promise<void> {
    await Promise.all([...this.units.values()].map((u) => u.close().catch(() => undefined)));
  }
}
