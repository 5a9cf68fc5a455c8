import { notFound } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import { checkInteger } from "../shared/check-limits.js";
import { sleep } from "../shared/deadline.js";
import type { Rect, WindowInfo } from "./types.js";
import { BAD_WINDOW, isXError, type XConnection } from "./x11/connection.js";

/** How long focus/move/resize wait for the window manager to carry a request out. */
export const WINDOW_SETTLE_TIMEOUT_MS = 1000;
const POLL_MS = 20;
/** A geometry that stopped changing for this long counts as settled (the WM adjusted the request). */
const SETTLE_QUIET_MS = 100;
/** Largest placement offset (frame/border quirk of the WM) that `move` corrects by a second request. */
const MAX_CORRECTION = 64;

const MIN_LISTED_WIDTH = 120;
const MIN_LISTED_HEIGHT = 80;

const BAD_DRAWABLE = 9;
const StaticGravity = 10;
/** EWMH source indication "pager": the WM honours it without focus-stealing checks. */
const SOURCE_PAGER = 2;

interface Detail extends WindowInfo {
  /** a window-manager internal (its own windows, docks, desktop windows) */
  internal: boolean;
}

/**
 * Windows of the desktop, read and changed through EWMH on the shared X connection.
 *
 * Geometry is always the client area (without WM frame) in root coordinates. `move(x, y)`
 * places the client area's top-left at (x, y) (StaticGravity), so a move reports back
 * what was asked unless the WM keeps the window on screen; `resize` changes the client
 * area and keeps its origin, subject to the application's size hints (xterm rounds to
 * character cells). Both return the real geometry once it has settled.
 */
export class WindowManager {
  constructor(private readonly conn: XConnection) {}

  /** Every managed client window, bottom to top in stacking order. */
  async listAll(): Promise<WindowInfo[]> {
    return (await this.details()).map(toInfo);
  }

  /** The API listing: no WM internals, no untitled or tiny windows, but always the active one. */
  async list(): Promise<WindowInfo[]> {
    const all = await this.details();
    return all
      .filter((w) => w.isActive || (!w.internal && w.title !== "" && w.width >= MIN_LISTED_WIDTH && w.height >= MIN_LISTED_HEIGHT))
      .map(toInfo);
  }

  async focused(): Promise<WindowInfo | undefined> {
    const root = this.conn.screen.root;
    let id = await this.activeWindow();
    if (id === undefined) {
      const focus = await this.conn.call<{ focus: number }>("GetInputFocus", (cb) => this.conn.X.GetInputFocus(cb));
      id = focus.focus > 1 && focus.focus !== root ? await this.clientOf(focus.focus) : undefined;
    }
    if (!id) return undefined;
    const d = await this.detail(id, id);
    return d && toInfo(d);
  }

  /** The managed client window with decimal X11 id `id`, or a 404 `window_not_found`. */
  async get(id: string): Promise<WindowInfo> {
    return toInfo(await this.mustGet(id));
  }

  /** Activates and raises the window, then waits (bounded) until the WM reports it active. */
  async focus(id: string): Promise<WindowInfo> {
    const w = await this.mustGet(id);
    const wid = Number(w.id);
    const X = this.conn.X;
    const supported = await this.supported();
    if (supported.has(await this.conn.atom("_NET_ACTIVE_WINDOW"))) {
      const current = (await this.activeWindow()) ?? 0;
      X.SendClientMessage(this.conn.screen.root, wid, await this.conn.atom("_NET_ACTIVE_WINDOW"), 32, [SOURCE_PAGER, 0, current]);
    } else {
      X.SetInputFocus(wid, 1 /* PointerRoot */);
    }
    X.RaiseWindow(wid);
    await this.conn.fence();
    const deadline = Date.now() + WINDOW_SETTLE_TIMEOUT_MS;
    for (;;) {
      const now = await this.mustGet(id);
      if (now.isActive || Date.now() >= deadline) return toInfo(now);
      await sleep(POLL_MS);
    }
  }

  /** Moves the window so that its client area's top-left is at (x, y); returns the settled result. */
  async move(id: string, x: number, y: number): Promise<WindowInfo> {
    checkInt16("x", x);
    checkInt16("y", y);
    const w = await this.mustGet(id);
    const at = (g: Rect) => g.x === x && g.y === y;
    await this.configure(w, { x, y, width: w.width, height: w.height }, false);
    const first = await this.settle(id, w, at);
    const dx = first.x - x;
    const dy = first.y - y;
    // WMs differ in which point they place at (x, y): openbox puts the client origin one
    // border width off even with StaticGravity. A small constant offset is corrected once;
    // a big one means the WM constrained the window, which we leave as it is.
    if (at(first) || Math.abs(dx) > MAX_CORRECTION || Math.abs(dy) > MAX_CORRECTION) return toInfo(first);
    await this.configure(first, { x: x - dx, y: y - dy, width: first.width, height: first.height }, false);
    return toInfo(await this.settle(id, first, at));
  }

  /** Resizes the client area keeping its origin; returns the settled result (size hints may round it). */
  async resize(id: string, width: number, height: number): Promise<WindowInfo> {
    checkSize("width", width);
    checkSize("height", height);
    const w = await this.mustGet(id);
    await this.configure(w, { x: w.x, y: w.y, width, height }, true);
    return toInfo(await this.settle(id, w, (g) => g.width === width && g.height === height));
  }

  /** Ids of managed windows whose `_NET_WM_PID` is `pid`. */
  async windowsOfPid(pid: number): Promise<string[]> {
    const ids = await this.clientIds();
    const pidAtom = await this.conn.atom("_NET_WM_PID");
    const pids = await Promise.all(ids.map((id) => this.tolerant(this.cardinal(id, pidAtom))));
    return ids.filter((_, i) => pids[i] === pid).map(String);
  }

  // ---- internals ----

  private async mustGet(id: string): Promise<Detail> {
    const missing = () => notFound(`window ${id} not found`, "window_not_found");
    if (!/^\d{1,10}$/.test(id)) throw missing();
    const wid = Number(id);
    if (wid === 0 || wid > 0xffffffff) throw missing();
    const [ids, active] = await Promise.all([this.clientIds(), this.activeWindow()]);
    if (!ids.includes(wid)) throw missing();
    const d = await this.detail(wid, active);
    if (!d) throw missing();
    return d;
  }

  private async configure(w: Detail, g: Rect, resizing: boolean) {
    const wid = Number(w.id);
    const moveResize = await this.conn.atom("_NET_MOVERESIZE_WINDOW");
    if ((await this.supported()).has(moveResize)) {
      // bits 8-11: x, y, width, height present; bits 12-13: source indication
      const flags = (resizing ? 0xc00 : 0x300) | (SOURCE_PAGER << 12);
      // StaticGravity: x/y name the client area's origin, not the frame's.
      this.conn.X.SendClientMessage(this.conn.screen.root, wid, moveResize, 32, [StaticGravity | flags, g.x, g.y, g.width, g.height]);
    } else {
      // No EWMH window manager: the client window is a child of the root, configure it directly.
      this.conn.X.ConfigureWindow(wid, resizing ? { width: g.width, height: g.height } : { x: g.x, y: g.y });
    }
    await this.conn.fence();
  }

  /**
   * Polls until the geometry is what was asked, or has changed and then stayed put for
   * SETTLE_QUIET_MS (the WM or the app adjusted it), or the deadline passes.
   */
  private async settle(id: string, before: Detail, done: (g: Rect) => boolean): Promise<Detail> {
    const deadline = Date.now() + WINDOW_SETTLE_TIMEOUT_MS;
    let last = before;
    let lastChange = Date.now();
    for (;;) {
      const now = await this.mustGet(id);
      if (done(now)) return now;
      const t = Date.now();
      if (!sameGeometry(now, last)) {
        last = now;
        lastChange = t;
      } else if (!sameGeometry(now, before) && t - lastChange >= SETTLE_QUIET_MS) {
        return now;
      }
      if (t >= deadline) return now;
      await sleep(POLL_MS);
    }
  }

  private async details(): Promise<Detail[]> {
    const [ids, active] = await Promise.all([this.clientIds(), this.activeWindow()]);
    const all = await Promise.all(ids.map((id) => this.detail(id, active)));
    return all.filter((d): d is Detail => d !== undefined);
  }

  /** One window's info with all requests pipelined; undefined when the window is gone. */
  private async detail(wid: number, active: number | undefined): Promise<Detail | undefined> {
    const c = this.conn;
    const X = c.X;
    const [netName, utf8, wmClass, type, dock, desktop, wmCheck] = await Promise.all([
      c.atom("_NET_WM_NAME"),
      c.atom("UTF8_STRING"),
      c.atom("WM_CLASS"),
      c.atom("_NET_WM_WINDOW_TYPE"),
      c.atom("_NET_WM_WINDOW_TYPE_DOCK"),
      c.atom("_NET_WM_WINDOW_TYPE_DESKTOP"),
      this.wmCheckWindow(),
    ]);
    return this.tolerant(
      Promise.all([
        c.getProperty(wid, netName, utf8, 64 * 1024),
        c.getProperty(wid, X.atoms.WM_NAME, 0, 64 * 1024),
        c.call<any>("GetGeometry", (cb) => X.GetGeometry(wid, cb)),
        c.call<any>("TranslateCoordinates", (cb) => X.TranslateCoordinates(wid, c.screen.root, 0, 0, cb)),
        c.getProperty(wid, wmClass, 0, 1024),
        c.getProperty(wid, type, X.atoms.ATOM, 1024),
      ]).then(([name, legacyName, geom, origin, cls, types]) => {
        let title = "";
        if (name && name.data.length > 0) title = name.data.toString("utf8");
        else if (legacyName) title = legacyName.data.toString(legacyName.type === X.atoms.STRING ? "latin1" : "utf8");
        const typeAtoms = types ? u32s(types.data) : [];
        const classes = cls ? cls.data.toString("latin1").split("\0") : [];
        return {
          id: String(wid),
          title,
          x: origin.destX,
          y: origin.destY,
          width: geom.width,
          height: geom.height,
          isActive: active === wid,
          internal:
            wid === wmCheck ||
            typeAtoms.includes(dock) ||
            typeAtoms.includes(desktop) ||
            classes.some((k) => k.toLowerCase() === "openbox"),
        };
      }),
    );
  }

  /** Managed client windows: EWMH stacking list, else the client list, else viewable root children. */
  private async clientIds(): Promise<number[]> {
    const root = this.conn.screen.root;
    for (const name of ["_NET_CLIENT_LIST_STACKING", "_NET_CLIENT_LIST"]) {
      const p = await this.conn.getProperty(root, name, this.conn.X.atoms.WINDOW);
      if (p && p.format === 32) return u32s(p.data).filter((id) => id !== 0);
    }
    return this.treeClients();
  }

  /** Without an EWMH WM: the viewable, non-override-redirect InputOutput children of the root. */
  private async treeClients(): Promise<number[]> {
    const X = this.conn.X;
    const tree = await this.conn.call<{ children: number[] }>("QueryTree(root)", (cb) => X.QueryTree(this.conn.screen.root, cb));
    const attrs = await Promise.all(
      tree.children.map((w) => this.tolerant(this.conn.call<any>("GetWindowAttributes", (cb) => X.GetWindowAttributes(w, cb)))),
    );
    return tree.children.filter((_, i) => attrs[i] && attrs[i].mapState === 2 && !attrs[i].overrideRedirect && attrs[i].klass === 1);
  }

  /** The managed client window that is `wid` or one of its ancestors (focus may sit on a subwindow). */
  private async clientOf(wid: number): Promise<number | undefined> {
    const ids = await this.clientIds();
    let cur = wid;
    for (let i = 0; i < 16; i++) {
      if (ids.includes(cur)) return cur;
      const tree = await this.tolerant(this.conn.call<{ parent: number }>("QueryTree", (cb) => this.conn.X.QueryTree(cur, cb)));
      if (!tree || tree.parent === 0) return undefined;
      cur = tree.parent;
    }
    return undefined;
  }

  private async activeWindow(): Promise<number | undefined> {
    const p = await this.conn.getProperty(this.conn.screen.root, "_NET_ACTIVE_WINDOW", this.conn.X.atoms.WINDOW);
    if (!p || p.format !== 32 || p.data.length < 4) return undefined;
    const id = p.data.readUInt32LE(0);
    return id === 0 ? undefined : id;
  }

  /** The EWMH WM's check window (one of its own), if a compliant WM runs. */
  private async wmCheckWindow(): Promise<number | undefined> {
    const p = await this.conn.getProperty(this.conn.screen.root, "_NET_SUPPORTING_WM_CHECK", this.conn.X.atoms.WINDOW);
    return p && p.data.length >= 4 ? p.data.readUInt32LE(0) : undefined;
  }

  /** Atoms in the root's `_NET_SUPPORTED`, empty without an EWMH WM. */
  private async supported(): Promise<Set<number>> {
    if ((await this.wmCheckWindow()) === undefined) return new Set();
    const p = await this.conn.getProperty(this.conn.screen.root, "_NET_SUPPORTED", this.conn.X.atoms.ATOM, 64 * 1024);
    return new Set(p ? u32s(p.data) : []);
  }

  private async cardinal(wid: number, prop: number): Promise<number | undefined> {
    const p = await this.conn.getProperty(wid, prop, this.conn.X.atoms.CARDINAL, 4);
    return p && p.data.length >= 4 ? p.data.readUInt32LE(0) : undefined;
  }

  /** Resolves undefined instead of rejecting when the window vanished meanwhile. */
  private async tolerant<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (isXError(err, BAD_WINDOW) || isXError(err, BAD_DRAWABLE)) return undefined;
      throw err;
    }
  }
}

function toInfo(d: Detail): WindowInfo {
  return { id: d.id, title: d.title, x: d.x, y: d.y, width: d.width, height: d.height, isActive: d.isActive };
}

function sameGeometry(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

function u32s(data: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= data.length; i += 4) out.push(data.readUInt32LE(i));
  return out;
}

function checkInt16(name: string, v: number) {
  checkInteger(name, v, LIMITS.coordinate);
}

function checkSize(name: string, v: number) {
  checkInteger(name, v, LIMITS.windowSize, "pixels");
}
