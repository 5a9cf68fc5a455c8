import { EventEmitter } from "node:events";
import x11 from "x11";
import { GlasspaneError } from "../../shared/errors.js";

/** Default deadline for one X request/reply round trip. */
export const X_REQUEST_TIMEOUT_MS = 2000;

export interface XScreen {
  root: number;
  width: number;
  height: number;
  depth: number;
  rootVisual: number;
  /** red/green/blue masks of the root visual (to read ZPixmap pixels correctly) */
  redMask: number;
  greenMask: number;
  blueMask: number;
}

/** An X event as the `x11` package delivers it (fields depend on `name`/`type`). */
export type XEvent = { type: number; name?: string; [key: string]: any };

/**
 * One persistent connection to an X display. Every X request of the runtime goes
 * through here: callbacks become promises, every reply has a deadline, extensions and
 * atoms are looked up once. Emits `event` (XEvent) and `close` (Error | undefined).
 */
export class XConnection extends EventEmitter {
  private readonly atoms = new Map<string, Promise<number>>();
  private readonly atomNames = new Map<number, string>();
  private readonly extensions = new Map<string, Promise<any>>();
  private closedWith: Error | undefined | null = null;
  /** failers of the requests still waiting for a reply, so a lost display fails them at once */
  private readonly pending = new Set<(err: Error) => void>();

  private constructor(
    /** the raw `x11` client; use `call()` for anything with a reply */
    readonly X: any,
    readonly displayInfo: any,
    readonly displayName: string,
    readonly screen: XScreen,
  ) {
    super();
    isolateAtomCache(X);
    X.on("event", (ev: XEvent) => this.emit("event", ev));
    // Errors of requests sent without a callback arrive here. They are expected in
    // normal operation (a window that vanished mid-listing) and must not kill Node.
    X.on("error", (err: any) => {
      // socket errors (ECONNRESET when Xvfb dies) also arrive here: they end the connection
      if (typeof err?.code === "string") this.markClosed(new Error(`X display ${displayName} connection failed: ${err.message}`));
      else this.emit("xerror", err);
    });
    X.on("end", () => this.markClosed(new Error(`X display ${displayName} closed the connection`)));
    X.stream?.on("close", () => this.markClosed(new Error(`X display ${displayName} connection closed`)));
  }

  static open(displayName: string, timeoutMs = 5000): Promise<XConnection> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new GlasspaneError("timeout", 504, `connecting to X display ${displayName} timed out`));
      }, timeoutMs);
      // bufferRequests: the requests of one action (a click's motion, press and release, a
      // typed string's key events) leave in one write, flushed at the request that expects
      // a reply or before the event loop polls; the X server wakes once instead of per request
      const client = x11.createClient({ display: displayName, bufferRequests: true }, (err: Error | null, display: any) => {
        if (settled) {
          if (!err) display.client.terminate();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (err) return reject(new GlasspaneError("x11_error", 502, `cannot connect to X display ${displayName}: ${err.message}`));
        const s = display.screen[0];
        const visual = findVisual(s, s.root_visual);
        resolve(
          new XConnection(display.client, display, displayName, {
            root: s.root,
            width: s.pixel_width,
            height: s.pixel_height,
            depth: s.root_depth,
            rootVisual: s.root_visual,
            redMask: visual?.red_mask ?? 0xff0000,
            greenMask: visual?.green_mask ?? 0x00ff00,
            blueMask: visual?.blue_mask ?? 0x0000ff,
          }),
        );
      });
      client.on("error", (err: Error) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new GlasspaneError("x11_error", 502, `cannot connect to X display ${displayName}: ${err.message}`));
        }
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Sends one request that has a reply (or a void request with a callback) and waits
   * for it, with a deadline. `send` receives the node-style callback to pass to the
   * `x11` request method.
   */
  call<T = any>(what: string, send: (cb: (err: any, result?: T) => void) => void, timeoutMs = X_REQUEST_TIMEOUT_MS): Promise<T> {
    if (this.closedWith !== null) {
      return Promise.reject(new GlasspaneError("x11_error", 502, `X display ${this.displayName} is not connected (${what})`));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.pending.delete(finish);
        reject(new GlasspaneError("timeout", 504, `X request ${what} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (err: any, result?: T) => {
        if (done) return true;
        done = true;
        clearTimeout(timer);
        this.pending.delete(finish);
        if (err) reject(toXError(what, err));
        else resolve(result as T);
        // returning true tells the x11 client the error was handled
        return true;
      };
      this.pending.add(finish);
      try {
        send(finish);
      } catch (err) {
        finish(err);
      }
    });
  }

  /** A round trip that proves every request sent before it has been processed. */
  fence(timeoutMs = X_REQUEST_TIMEOUT_MS): Promise<void> {
    return this.call("GetInputFocus (fence)", (cb) => this.X.GetInputFocus(cb), timeoutMs).then(() => undefined);
  }

  /** Loads an `x11` extension module once (`xtest`, `shm`, `fixes`, ...). */
  ext(name: string): Promise<any> {
    let p = this.extensions.get(name);
    if (!p) {
      p = this.call(`require(${name})`, (cb) => this.X.require(name, cb), 5000);
      p.catch(() => this.extensions.delete(name));
      this.extensions.set(name, p);
    }
    return p;
  }

  atom(name: string): Promise<number> {
    let p = this.atoms.get(name);
    if (!p) {
      p = this.call<number>(`InternAtom(${name})`, (cb) => this.X.InternAtom(false, name, cb)).then((id) => {
        this.atomNames.set(id, name);
        return id;
      });
      p.catch(() => this.atoms.delete(name));
      this.atoms.set(name, p);
    }
    return p;
  }

  async atomName(id: number): Promise<string> {
    const known = this.atomNames.get(id);
    if (known) return known;
    const name = await this.call<string>(`GetAtomName(${id})`, (cb) => this.X.GetAtomName(id, cb));
    this.atomNames.set(id, name);
    return name;
  }

  /** GetProperty with the whole value; resolves undefined when the property is absent. */
  async getProperty(window: number, property: string | number, type: string | number = 0, maxBytes = 1 << 20): Promise<{ type: number; format: number; data: Buffer } | undefined> {
    const prop = typeof property === "number" ? property : await this.atom(property);
    const typ = typeof type === "number" ? type : await this.atom(type);
    const reply = await this.call<any>(`GetProperty(${window}, ${property})`, (cb) =>
      this.X.GetProperty(0, window, prop, typ, 0, Math.ceil(maxBytes / 4), cb),
    );
    if (!reply || reply.type === 0) return undefined;
    return { type: reply.type, format: reply.format, data: reply.data as Buffer };
  }

  close(): void {
    this.markClosed(undefined);
    try {
      this.X.terminate();
    } catch {
      /* already gone */
    }
  }

  private markClosed(err: Error | undefined) {
    if (this.closedWith !== null) return;
    this.closedWith = err;
    const lost = new GlasspaneError("x11_error", 502, `X display ${this.displayName} was lost: ${err?.message ?? "closed"}`);
    for (const fail of [...this.pending]) fail(lost);
    this.emit("close", err);
  }
}

/** The last atom the core protocol predefines (WM_TRANSIENT_FOR); ids above it differ per server. */
const LAST_PREDEFINED_ATOM = 68;

/**
 * The `x11` package (4.2.2) starts every client's atom cache as the same module-level
 * object and adds interned atoms to it, so a second connection (to a restarted Xvfb,
 * or another display) would reuse the first server's atom ids. Give each connection
 * its own cache holding only the predefined atoms.
 */
function isolateAtomCache(X: any) {
  const atoms: Record<string, number> = {};
  const names: Record<number, string> = {};
  for (const [name, id] of Object.entries<number>(X.atoms ?? {})) {
    if (id <= LAST_PREDEFINED_ATOM) {
      atoms[name] = id;
      names[id] = name;
    }
  }
  X.atoms = atoms;
  X.atom_names = names;
}

function findVisual(screen: any, id: number): any {
  for (const depth of Object.values<any>(screen.depths ?? {})) {
    if (depth && depth[id]) return depth[id];
  }
  return undefined;
}

function toXError(what: string, err: any): GlasspaneError {
  if (err instanceof GlasspaneError) return err;
  const detail = err?.message ?? String(err);
  const e = new GlasspaneError("x11_error", 502, `X request ${what} failed: ${detail}`, {
    xErrorCode: err?.error,
    badValue: err?.badParam,
  });
  return e;
}

/** True when an error from `call()` is an X protocol error of the given core code (3 = BadWindow). */
export function isXError(err: unknown, code: number): boolean {
  return err instanceof GlasspaneError && err.extra.xErrorCode === code;
}
export const BAD_WINDOW = 3;
