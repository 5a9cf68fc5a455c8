import x11 from "x11";
import { GlasspaneError, invalid } from "../shared/errors.js";
import { SerialQueue } from "../shared/serial.js";
import type { Selection } from "./types.js";
import type { XConnection, XEvent } from "./x11/connection.js";

/** How long the owner of a selection may take to answer (and each INCR chunk to arrive). */
export const CLIPBOARD_TIMEOUT_MS = 2000;
/** Texts above this (UTF-8 bytes) are refused by `set()`, and reads stop there. */
export const MAX_CLIPBOARD_BYTES = 16 * 1024 * 1024;

// ChangeProperty is sent as a plain (non-BIG-REQUESTS) request by the x11 package, so one
// property write holds at most 65535*4 bytes minus the header. Anything above INCR_CHUNK
// is served with the ICCCM INCR protocol, INCR_CHUNK bytes at a time.
const INCR_CHUNK = 128 * 1024;
/** An INCR transfer whose requestor stops deleting the property for this long is dropped. */
const INCR_STALL_MS = 5000;

const PropertyNewValue = 0;
const PropertyDelete = 1;

const ATOM_NAMES = [
  "CLIPBOARD",
  "PRIMARY",
  "TARGETS",
  "TIMESTAMP",
  "UTF8_STRING",
  "STRING",
  "TEXT",
  "text/plain;charset=utf-8",
  "INCR",
  "ATOM",
  "INTEGER",
  "GLASSPANE_SELECTION",
  "GLASSPANE_TIMESTAMP",
] as const;
type AtomName = (typeof ATOM_NAMES)[number];

interface Owned {
  text: string;
  /** server time at which we took the selection (for TIMESTAMP and stale SelectionClear) */
  since: number;
  utf8?: Buffer;
  latin1?: Buffer;
}

interface OutgoingIncr {
  requestor: number;
  property: number;
  type: number;
  data: Buffer;
  offset: number;
  /** true once the final zero-length chunk has been written */
  finished: boolean;
  stall: NodeJS.Timeout;
}

/**
 * The desktop clipboard, owned in-process: `set()` makes a small unmapped window of ours
 * the owner of CLIPBOARD and/or PRIMARY and answers other clients' SelectionRequests from
 * memory; `get()` converts the selection of whichever client owns it (ICCCM 2.4 - 2.7,
 * including INCR in both directions). No xclip/xsel.
 */
export class Clipboard {
  private readonly owned = new Map<number, Owned>();
  private readonly outgoing = new Map<string, OutgoingIncr>();
  private readonly waiters = new Set<EventQueue>();
  private readonly reads = new SerialQueue();
  private readonly writes = new SerialQueue();
  private closed = false;
  /** called when another client has been given our text (a paste) */
  private readonly servedListeners = new Set<() => void>();
  private readonly onEvent = (ev: XEvent) => this.handleEvent(ev);

  private constructor(
    private readonly conn: XConnection,
    /** our selection window */
    readonly window: number,
    private readonly atoms: Record<AtomName, number>,
  ) {
    conn.on("event", this.onEvent);
  }

  static async create(conn: XConnection): Promise<Clipboard> {
    const ids = await Promise.all(ATOM_NAMES.map((n) => conn.atom(n)));
    const atoms = Object.fromEntries(ATOM_NAMES.map((n, i) => [n, ids[i]])) as Record<AtomName, number>;
    const X = conn.X;
    const wid = X.AllocID();
    // InputOnly, never mapped: it only carries selection ownership and transfer properties.
    X.CreateWindow(wid, conn.screen.root, -10, -10, 1, 1, 0, 0, x11.InputOnly, 0, {
      overrideRedirect: 1,
      eventMask: x11.eventMask.PropertyChange,
    });
    X.ChangeProperty(0, wid, X.atoms.WM_NAME, X.atoms.STRING, 8, "glasspane clipboard");
    await conn.fence();
    return new Clipboard(conn, wid, atoms);
  }

  /** Takes ownership of the selection(s) and serves `text` from memory until another client takes it. */
  async set(text: string, selection: Selection | "both" = "clipboard"): Promise<void> {
    this.assertOpen();
    if (Buffer.byteLength(text, "utf8") > MAX_CLIPBOARD_BYTES) {
      throw invalid(`clipboard text is larger than ${MAX_CLIPBOARD_BYTES} bytes`);
    }
    const selections = selection === "both" ? [this.atoms.PRIMARY, this.atoms.CLIPBOARD] : [this.selectionAtom(selection)];
    return this.writes.run(async () => {
      const since = await this.serverTime();
      for (const sel of selections) {
        // Stored before the request goes out, so a SelectionRequest that races the
        // GetSelectionOwner reply below already finds the new text.
        this.owned.set(sel, { text, since });
        this.conn.X.SetSelectionOwner(this.window, sel, since);
      }
      const owners = await Promise.all(
        selections.map((sel) => this.conn.call<number>("GetSelectionOwner", (cb) => this.conn.X.GetSelectionOwner(sel, cb))),
      );
      for (const [i, owner] of owners.entries()) {
        if (owner !== this.window) {
          this.owned.delete(selections[i]);
          throw new GlasspaneError("x11_error", 502, "another X client took the selection while glasspane was setting it");
        }
      }
    });
  }

  /** The selection's text: ours from memory, else converted from its owner; "" when nobody owns it. */
  async get(selection: Selection = "clipboard"): Promise<string> {
    this.assertOpen();
    const sel = this.selectionAtom(selection);
    return this.reads.run(async () => {
      const owner = await this.conn.call<number>("GetSelectionOwner", (cb) => this.conn.X.GetSelectionOwner(sel, cb));
      if (owner === 0) return "";
      const mine = this.owned.get(sel);
      if (owner === this.window && mine) return mine.text;
      const utf8 = await this.convert(sel, this.atoms.UTF8_STRING);
      if (utf8 !== undefined) return utf8.data.toString(utf8.type === this.atoms.STRING ? "latin1" : "utf8");
      const latin1 = await this.convert(sel, this.atoms.STRING);
      if (latin1 !== undefined) return latin1.data.toString(latin1.type === this.atoms.UTF8_STRING ? "utf8" : "latin1");
      return "";
    });
  }

  /** Resolves true once another client has fetched our text (UTF8_STRING/STRING/TEXT), false after `timeoutMs`. */
  whenServed(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.servedListeners.delete(served);
        resolve(ok);
      };
      const served = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.servedListeners.add(served);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.off("event", this.onEvent);
    for (const t of this.outgoing.values()) this.endIncr(t);
    for (const q of this.waiters) q.fail(new GlasspaneError("x11_error", 502, "clipboard closed"));
    this.owned.clear();
    if (!this.conn.closed) {
      // Destroying the owner window also releases every selection it holds.
      this.conn.X.DestroyWindow(this.window);
    }
  }

  private assertOpen() {
    if (this.closed) throw new GlasspaneError("x11_error", 502, "clipboard is closed");
  }

  private selectionAtom(selection: Selection): number {
    return selection === "primary" ? this.atoms.PRIMARY : this.atoms.CLIPBOARD;
  }

  /** A server timestamp (ICCCM 2.1: do not own selections with CurrentTime), via a no-op property append. */
  private async serverTime(): Promise<number> {
    const q = this.listen((ev) => ev.name === "PropertyNotify" && ev.wid === this.window && ev.atom === this.atoms.GLASSPANE_TIMESTAMP);
    try {
      this.conn.X.ChangeProperty(2, this.window, this.atoms.GLASSPANE_TIMESTAMP, this.atoms.INTEGER, 8, Buffer.alloc(0));
      const ev = await q.next(CLIPBOARD_TIMEOUT_MS, "waiting for a server timestamp");
      return ev.time >>> 0;
    } finally {
      q.dispose();
    }
  }

  // ---- requestor side ----

  /** ConvertSelection to `target`; undefined when the owner refuses. */
  private async convert(selection: number, target: number): Promise<{ type: number; data: Buffer } | undefined> {
    const prop = this.atoms.GLASSPANE_SELECTION;
    const win = this.window;
    // One queue from before the request on: events that share a packet with a reply are
    // emitted before an `await` resumes, so listening later could miss them.
    const q = this.listen(
      (ev) =>
        (ev.name === "SelectionNotify" && ev.requestor === win && ev.selection === selection) ||
        (ev.name === "PropertyNotify" && ev.wid === win && ev.atom === prop && ev.state === PropertyNewValue),
    );
    try {
      this.conn.X.DeleteProperty(win, prop);
      this.conn.X.ConvertSelection(win, selection, target, prop, 0);
      let notify: XEvent;
      do notify = await q.next(CLIPBOARD_TIMEOUT_MS, "the clipboard owner did not answer");
      while (notify.name !== "SelectionNotify");
      if (notify.property === 0) return undefined;
      const first = await this.readProperty(notify.property);
      if (!first) return undefined;
      if (first.type !== this.atoms.INCR) return first;

      // INCR: the owner writes chunk after chunk, each after we delete the previous one;
      // a zero-length chunk ends the transfer. The delete above (readProperty) starts it.
      const parts: Buffer[] = [];
      let total = 0;
      let type = 0;
      for (;;) {
        let ev: XEvent;
        do ev = await q.next(CLIPBOARD_TIMEOUT_MS, "the clipboard owner stalled during an INCR transfer");
        while (ev.name !== "PropertyNotify");
        const chunk = await this.readProperty(prop);
        if (!chunk) continue;
        if (chunk.data.length === 0) break;
        type = chunk.type;
        total += chunk.data.length;
        if (total > MAX_CLIPBOARD_BYTES) {
          throw new GlasspaneError("x11_error", 502, `clipboard content is larger than ${MAX_CLIPBOARD_BYTES} bytes`);
        }
        parts.push(chunk.data);
      }
      return { type, data: Buffer.concat(parts) };
    } finally {
      q.dispose();
    }
  }

  /** Reads and deletes a property of our window, whatever its size. */
  private async readProperty(prop: number): Promise<{ type: number; data: Buffer } | undefined> {
    const parts: Buffer[] = [];
    let offset = 0;
    let type = 0;
    for (;;) {
      // delete=1 only takes effect on the read that reaches the end of the value
      const reply = await this.conn.call<any>("GetProperty(selection)", (cb) =>
        this.conn.X.GetProperty(1, this.window, prop, 0, offset, INCR_CHUNK / 4, cb),
      );
      if (reply.type === 0) return undefined;
      type = reply.type;
      parts.push(Buffer.from(reply.data));
      offset += reply.data.length / 4;
      if (reply.bytesAfter === 0) break;
      if ((offset + reply.bytesAfter / 4) * 4 > MAX_CLIPBOARD_BYTES) {
        this.conn.X.DeleteProperty(this.window, prop);
        throw new GlasspaneError("x11_error", 502, `clipboard content is larger than ${MAX_CLIPBOARD_BYTES} bytes`);
      }
    }
    return { type, data: Buffer.concat(parts) };
  }

  private listen(match: (ev: XEvent) => boolean): EventQueue {
    const q = new EventQueue(match, () => this.waiters.delete(q));
    this.waiters.add(q);
    return q;
  }

  // ---- owner side ----

  private handleEvent(ev: XEvent) {
    for (const q of this.waiters) q.offer(ev);
    switch (ev.name) {
      case "SelectionRequest":
        if (ev.owner === this.window) this.answer(ev);
        break;
      case "SelectionClear": {
        const mine = this.owned.get(ev.selection);
        // A clear older than our latest SetSelectionOwner belongs to a previous ownership.
        if (ev.owner === this.window && mine && (ev.time >>> 0) >= mine.since) this.owned.delete(ev.selection);
        break;
      }
      case "PropertyNotify":
        if (ev.state === PropertyDelete) {
          const t = this.outgoing.get(`${ev.wid}:${ev.atom}`);
          if (t) this.sendNextChunk(t);
        }
        break;
      case "DestroyNotify":
        for (const t of this.outgoing.values()) if (t.requestor === ev.wid) this.endIncr(t);
        break;
    }
  }

  private answer(ev: XEvent) {
    const X = this.conn.X;
    const a = this.atoms;
    // ICCCM 2.2: obsolete requestors pass property None, meaning "use the target atom"
    const property: number = ev.property || ev.target;
    const mine = this.owned.get(ev.selection);
    const tooOld = ev.time !== 0 && mine !== undefined && (ev.time >>> 0) < mine.since;
    let ok = false;
    if (mine && !tooOld) {
      switch (ev.target) {
        case a.TARGETS:
          X.ChangeProperty(0, ev.requestor, property, a.ATOM, 32, [
            a.TARGETS,
            a.TIMESTAMP,
            a.UTF8_STRING,
            a.STRING,
            a.TEXT,
            a["text/plain;charset=utf-8"],
          ]);
          ok = true;
          break;
        case a.TIMESTAMP:
          X.ChangeProperty(0, ev.requestor, property, a.INTEGER, 32, [mine.since]);
          ok = true;
          break;
        case a.UTF8_STRING:
        case a.TEXT:
        case a["text/plain;charset=utf-8"]:
          mine.utf8 ??= Buffer.from(mine.text, "utf8");
          // TEXT lets the owner pick the encoding; we answer it as UTF8_STRING
          this.write(ev.requestor, property, ev.target === a.TEXT ? a.UTF8_STRING : ev.target, mine.utf8);
          ok = true;
          this.notifyServed();
          break;
        case a.STRING:
          mine.latin1 ??= toLatin1(mine.text);
          this.write(ev.requestor, property, a.STRING, mine.latin1);
          ok = true;
          this.notifyServed();
          break;
      }
    }
    X.SendEvent(ev.requestor, 0, 0, {
      name: "SelectionNotify",
      time: ev.time,
      requestor: ev.requestor,
      selection: ev.selection,
      target: ev.target,
      property: ok ? property : 0,
    });
  }

  private notifyServed() {
    for (const l of [...this.servedListeners]) l();
  }

  private write(requestor: number, property: number, type: number, data: Buffer) {
    const X = this.conn.X;
    if (data.length <= INCR_CHUNK) {
      X.ChangeProperty(0, requestor, property, type, 8, data);
      return;
    }
    const key = `${requestor}:${property}`;
    const previous = this.outgoing.get(key);
    if (previous) this.endIncr(previous);
    const t: OutgoingIncr = {
      requestor,
      property,
      type,
      data,
      offset: 0,
      finished: false,
      stall: setTimeout(() => this.endIncr(t), INCR_STALL_MS),
    };
    this.outgoing.set(key, t);
    // We need the requestor's PropertyNotify(Deleted) to pace the chunks; selecting it
    // before the INCR property is written means no deletion can be missed.
    X.ChangeWindowAttributes(requestor, { eventMask: x11.eventMask.PropertyChange | x11.eventMask.StructureNotify });
    X.ChangeProperty(0, requestor, property, this.atoms.INCR, 32, [data.length]);
  }

  private sendNextChunk(t: OutgoingIncr) {
    if (t.finished) {
      this.endIncr(t);
      return;
    }
    const chunk = t.data.subarray(t.offset, t.offset + INCR_CHUNK);
    t.offset += chunk.length;
    if (chunk.length === 0) t.finished = true;
    this.conn.X.ChangeProperty(0, t.requestor, t.property, t.type, 8, chunk);
    t.stall.refresh();
  }

  private endIncr(t: OutgoingIncr) {
    clearTimeout(t.stall);
    const key = `${t.requestor}:${t.property}`;
    if (this.outgoing.get(key) !== t) return;
    this.outgoing.delete(key);
    const stillBusy = [...this.outgoing.values()].some((o) => o.requestor === t.requestor);
    if (!stillBusy && !this.conn.closed && !this.closed) {
      // the requestor may be gone already; that BadWindow lands on the connection's `xerror`
      this.conn.X.ChangeWindowAttributes(t.requestor, { eventMask: 0 });
    }
  }
}

/** Buffers matching events from the moment it is created, so none is lost between awaits. */
class EventQueue {
  private readonly buffered: XEvent[] = [];
  private waiting: { resolve: (ev: XEvent) => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly match: (ev: XEvent) => boolean,
    private readonly onDispose: () => void,
  ) {}

  offer(ev: XEvent) {
    if (!this.match(ev)) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      clearTimeout(w.timer);
      w.resolve(ev);
    } else {
      this.buffered.push(ev);
    }
  }

  next(timeoutMs: number, what: string): Promise<XEvent> {
    const ev = this.buffered.shift();
    if (ev) return Promise.resolve(ev);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new GlasspaneError("timeout", 504, `${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
    });
  }

  fail(err: Error) {
    this.failure = err;
    if (this.waiting) {
      clearTimeout(this.waiting.timer);
      this.waiting.reject(err);
      this.waiting = undefined;
    }
  }

  dispose() {
    if (this.waiting) clearTimeout(this.waiting.timer);
    this.waiting = undefined;
    this.onDispose();
  }
}

/** ICCCM STRING is ISO 8859-1; characters outside it become "?". */
function toLatin1(text: string): Buffer {
  let out = "";
  for (const ch of text) out += ch.codePointAt(0)! <= 0xff ? ch : "?";
  return Buffer.from(out, "latin1");
}
