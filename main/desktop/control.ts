import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { GlasspaneError } from "../shared/errors.js";
import type { Control, ControlInfo, ControlLease } from "./types.js";

/** A lease nobody has used for input this long is given up, so an agent is not locked out by a forgotten tab. */
export const CONTROL_IDLE_MS = 5 * 60_000;

/**
 * A person's lease on one desktop's input. While it is held, input that does not run as the
 * holder (`lease.run`) is refused with 409 `control_held`; every front door calls the
 * desktop's input methods, so they all get the same check.
 */
export class DesktopControl implements Control {
  private current: (ControlLease & { end(reason: string): void }) | undefined;
  private readonly as = new AsyncLocalStorage<string>();

  constructor(private readonly idleMs = CONTROL_IDLE_MS) {}

  /** Takes the lease; one already held by someone else is refused unless `force`. */
  take(holder: string, opts: { force?: boolean } = {}): ControlLease {
    const held = this.current;
    if (held) {
      if (!opts.force) throw this.heldError(held.info);
      held.end("taken over");
    }
    const id = randomUUID();
    const since = new Date().toISOString();
    let timer: NodeJS.Timeout | undefined;
    let expiresAt = "";
    let endResolve!: (reason: string) => void;
    const ended = new Promise<string>((r) => (endResolve = r));
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => lease.end("idle"), this.idleMs);
      timer.unref();
      expiresAt = new Date(Date.now() + this.idleMs).toISOString();
    };
    const lease = {
      id,
      get info(): ControlInfo {
        return { holder, since, expiresAt };
      },
      run: <T>(fn: () => T): T => this.as.run(id, fn),
      touch: () => {
        if (this.current === lease) arm();
      },
      release: () => lease.end("released"),
      ended,
      end: (reason: string) => {
        clearTimeout(timer);
        if (this.current === lease) this.current = undefined;
        endResolve(reason);
      },
    };
    this.current = lease;
    arm();
    return lease;
  }

  /** The lease as GET /v1/desktop/status shows it; null while nobody holds one. */
  status(): ControlInfo | null {
    return this.current?.info ?? null;
  }

  lease(id: string): ControlLease | undefined {
    return this.current && this.current.id === id ? this.current : undefined;
  }

  /** Throws `control_held` unless no lease is held or the caller runs as its holder. */
  check(): void {
    const held = this.current;
    if (held && this.as.getStore() !== held.id) throw this.heldError(held.info);
  }

  /** Ends any lease (the desktop stopped). */
  releaseAll(): void {
    this.current?.end("released");
  }

  private heldError(info: ControlInfo): GlasspaneError {
    return new GlasspaneError("control_held", 409, `${info.holder} has control of the desktop's input since ${info.since}; input from others is refused until it is given back`, {
      holder: info.holder,
      since: info.since,
    });
  }
}
