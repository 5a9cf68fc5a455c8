import { X_REQUEST_TIMEOUT_MS, type XConnection, type XEvent } from "./x11/connection.js";
import type { KeyModifiers, MouseButton, MousePosition, PointerButton } from "./types.js";
import { GlasspaneError, invalid } from "../shared/errors.js";
import { sleep, withDeadline } from "../shared/deadline.js";
import { SerialQueue } from "../shared/serial.js";
import { KEYSYM, keysymForChar, legacyKeysymForChar, parseChord, resolveKeysym } from "./keys.js";

const BUTTON_NUMBERS: Record<PointerButton, number> = { left: 1, middle: 2, right: 3, back: 8, forward: 9 };
const MAPPING_NOTIFY = 34;
const MAPPING_MODIFIER = 0;
const MAPPING_KEYBOARD = 1;

/**
 * A spare keycode may only be rebound once the app has surely decoded the last key
 * typed with it: Xlib re-reads the keymap lazily, so an early rebind changes what an
 * already-sent key means (measured: 250 ms was 10/10, 60 ms 8/10).
 */
const SLOT_QUIET_MS = 250;
const DRAG_STEPS = 8;
const DRAG_STEP_PAUSE_MS = 8;
/** How long a mouse action waits for a frozen pointer to reach its target (see settle()). */
const POINTER_SETTLE_MS = 1000;

/** An empty keycode we may bind to keysyms that the keymap lacks. */
interface Slot {
  keycode: number;
  /** keysym we bound to it, 0 while free */
  keysym: number;
  /** Date.now() of the last key event sent with it */
  lastUsed: number;
}

/** Where a keysym lives in the keymap: level 1 needs Shift held. */
interface KeyPosition {
  keycode: number;
  shift: boolean;
}

/** The keys of a text or chord that can be typed with one set of bindings. */
interface Segment {
  end: number;
  /** keysyms to bind before typing the segment */
  need: number[];
  /** spare keycodes the segment already uses; they must keep their binding */
  inUse: Set<number>;
}

/**
 * Synthesizes mouse and keyboard input with XTEST. Every action sends its events without
 * waiting and ends with one round trip, so it has been applied when the promise resolves.
 *
 * Characters the keymap lacks are typed by binding them to empty keycodes, once; the
 * binding is kept (LRU) instead of reverted, because a revert races the app's lazy keymap
 * refresh and makes it decode the wrong symbol (see research x11-measurements §3.3).
 */
export class InputController {
  /** keysyms per keycode, indexed by keycode - minKeycode */
  private keymap: number[][] = [];
  private keysymsPerKeycode = 0;
  private positions = new Map<number, KeyPosition>();
  private shiftKeycode = 0;
  private keymapStale = false;
  private modifiersStale = false;
  private readonly slots = new Map<number, Slot>();
  /** rows of keycodes as they were before we first bound them, for close() */
  private readonly originalRows = new Map<number, number[]>();
  /** keys pressed with keyDown() and not yet released, by keysym */
  private readonly heldKeys = new Map<number, KeyPosition>();
  private readonly heldButtons = new Set<number>();
  private readonly queue = new SerialQueue();
  private closed = false;

  private readonly onEvent = (ev: XEvent) => {
    if (ev.type !== MAPPING_NOTIFY) return;
    if (ev.request === MAPPING_KEYBOARD) this.keymapStale = true;
    else if (ev.request === MAPPING_MODIFIER) this.modifiersStale = true;
  };

  private constructor(
    private readonly conn: XConnection,
    private readonly xtest: any,
    private readonly minKeycode: number,
    private readonly maxKeycode: number,
  ) {}

  static async create(conn: XConnection): Promise<InputController> {
    const xtest = await conn.ext("xtest");
    const min: number = conn.displayInfo.min_keycode ?? 8;
    const max: number = conn.displayInfo.max_keycode ?? 255;
    const input = new InputController(conn, xtest, min, max);
    conn.on("event", input.onEvent);
    try {
      await Promise.all([input.loadKeymap(), input.loadModifiers()]);
    } catch (err) {
      conn.off("event", input.onEvent);
      throw err;
    }
    return input;
  }

  // ---- mouse ----

  position(): Promise<MousePosition> {
    return this.serial(() => this.settle());
  }

  move(x: number, y: number): Promise<MousePosition> {
    return this.serial(() => this.settle(this.motion(x, y)));
  }

  /** Presses or releases an X button (1 left, 2 middle, 3 right, 4-7 wheel). */
  button(button: number, down: boolean): Promise<void> {
    return this.serial(async () => {
      this.fakeButton(buttonNumber(button), down);
      await this.conn.fence();
    });
  }

  click(x: number, y: number, button: PointerButton | number = "left", count = 1): Promise<MousePosition> {
    return this.serial(async () => {
      if (!Number.isInteger(count) || count < 1 || count > 100) throw invalid(`click count must be an integer between 1 and 100 (got ${count})`);
      const b = buttonNumber(button);
      const at = this.motion(x, y);
      for (let i = 0; i < count; i++) {
        this.fakeButton(b, true);
        this.fakeButton(b, false);
      }
      return this.settle(at);
    });
  }

  mouseDown(button: PointerButton | number = "left", x?: number, y?: number): Promise<MousePosition> {
    return this.pressButtonAt(button, true, x, y);
  }

  mouseUp(button: PointerButton | number = "left", x?: number, y?: number): Promise<MousePosition> {
    return this.pressButtonAt(button, false, x, y);
  }

  drag(startX: number, startY: number, endX: number, endY: number, button: MouseButton | number = "left"): Promise<MousePosition> {
    return this.serial(async () => {
      const b = buttonNumber(button);
      const [sx, sy] = this.clampPoint(startX, startY);
      const [ex, ey] = this.clampPoint(endX, endY);
      this.motion(sx, sy);
      this.fakeButton(b, true);
      try {
        // Toolkits start a drag only after motion past a threshold, and drag-and-drop
        // sources need a moment to set up, so the path is spread over a few frames.
        for (let i = 1; i <= DRAG_STEPS; i++) {
          await sleep(DRAG_STEP_PAUSE_MS);
          this.motion(Math.round(sx + ((ex - sx) * i) / DRAG_STEPS), Math.round(sy + ((ey - sy) * i) / DRAG_STEPS));
        }
        await sleep(DRAG_STEP_PAUSE_MS);
      } finally {
        this.fakeButton(b, false);
      }
      return this.settle([ex, ey]);
    });
  }

  /** Wheel notches at (x, y): negative deltaY scrolls up (button 4), negative deltaX left (button 6). */
  scroll(x: number, y: number, deltaX: number, deltaY: number): Promise<MousePosition> {
    return this.serial(async () => {
      // the range is checked once, by the desktop service (LIMITS.scrollNotches)
      const at = this.motion(x, y);
      const notch = (b: number, n: number) => {
        for (let i = 0; i < n; i++) {
          this.fakeButton(b, true);
          this.fakeButton(b, false);
        }
      };
      notch(deltaY < 0 ? 4 : 5, Math.abs(deltaY));
      notch(deltaX < 0 ? 6 : 7, Math.abs(deltaX));
      return this.settle(at);
    });
  }

  // ---- keyboard ----

  /** How many distinct characters of `text` the keymap lacks (each would need a spare keycode bound). */
  unmappedCharacters(text: string): number {
    const missing = new Set<string>();
    for (const ch of new Set(text)) {
      let keys: number[];
      try {
        keys = charCandidates(ch);
      } catch {
        continue;
      }
      if (!this.find(keys)) missing.add(ch);
    }
    return missing.size;
  }

  /** Types any Unicode text; `\n` is Return and `\t` is Tab. `delayMs` spaces the characters. */
  typeText(text: string, delayMs = 0): Promise<void> {
    return this.serial(async () => {
      if (typeof text !== "string") throw invalid("text must be a string");
      if (!Number.isFinite(delayMs) || delayMs < 0) throw invalid(`delayMs must be a non-negative number (got ${delayMs})`);
      // Resolve everything first: an invalid character must not leave half the text typed.
      const keys = [...text].map(charCandidates);
      await this.typeKeys(keys, delayMs);
      // the server may still be delivering a long text to the app: give it time per key
      await this.conn.fence(X_REQUEST_TIMEOUT_MS + keys.length * 0.5);
    });
  }

  /**
   * Presses and releases a key or chord (`Return`, `ctrl+shift+t`) with optional
   * modifiers held around it.
   */
  pressKey(key: string, modifiers: KeyModifiers = {}): Promise<void> {
    return this.serial(async () => {
      const syms = [...modifierKeysyms(modifiers)];
      for (const sym of parseChord(key)) if (!syms.includes(sym)) syms.push(sym);
      await this.pressTogether(syms);
      await this.conn.fence();
    });
  }

  pressChord(chord: string): Promise<void> {
    return this.pressKey(chord);
  }

  /** Holds a key down until keyUp(). `key` is a key name or an X keysym (the stream sends those). */
  keyDown(key: string | number): Promise<void> {
    return this.serial(async () => {
      const sym = toKeysym(key);
      if (this.heldKeys.has(sym)) {
        // auto-repeat style: press again without a release
        this.fakeKey(this.heldKeys.get(sym)!.keycode, true);
      } else {
        const [pos] = await this.positionsFor([[sym]]);
        if (pos.shift) this.fakeKey(this.shiftKeycode, true);
        this.fakeKey(pos.keycode, true);
        this.heldKeys.set(sym, pos);
        this.touch(pos.keycode);
      }
      await this.conn.fence();
    });
  }

  keyUp(key: string | number): Promise<void> {
    return this.serial(async () => {
      const sym = toKeysym(key);
      const held = this.heldKeys.get(sym);
      if (held) {
        this.heldKeys.delete(sym);
        this.fakeKey(held.keycode, false);
        if (held.shift) this.fakeKey(this.shiftKeycode, false);
        this.touch(held.keycode);
      } else {
        await this.refreshIfStale();
        const pos = this.positions.get(sym);
        if (pos) this.fakeKey(pos.keycode, false);
      }
      await this.conn.fence();
    });
  }

  /** Releases held keys and buttons and restores the keycodes we rebound (best effort, bounded). */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.off("event", this.onEvent);
    if (this.conn.closed) return;
    try {
      for (const pos of this.heldKeys.values()) {
        this.fakeKey(pos.keycode, false);
        if (pos.shift) this.fakeKey(this.shiftKeycode, false);
      }
      this.heldKeys.clear();
      for (const b of this.heldButtons) this.fakeButton(b, false);
      const restore = new Map<number, number[]>();
      for (const [keycode, row] of this.originalRows) {
        const slot = this.slots.get(keycode);
        if (slot && slot.keysym !== 0) restore.set(keycode, row);
      }
      await withDeadline(Promise.all([...this.writeRows(restore), this.conn.fence(timeoutMs)]), timeoutMs, "restoring the keyboard mapping");
    } catch {
      // the display may be going away; nothing more to do
    }
  }

  // ---- internals ----

  /** Input is one ordered stream: actions never interleave, even from different callers. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(() => {
      if (this.closed) throw new GlasspaneError("x11_error", 502, "input controller is closed");
      return task();
    });
  }

  private pressButtonAt(button: PointerButton | number, down: boolean, x?: number, y?: number): Promise<MousePosition> {
    return this.serial(async () => {
      const b = buttonNumber(button);
      if ((x === undefined) !== (y === undefined)) throw invalid("x and y must both be given or both be omitted");
      const at = x !== undefined && y !== undefined ? this.motion(x, y) : undefined;
      this.fakeButton(b, down);
      return this.settle(at);
    });
  }

  private clampPoint(x: number, y: number): [number, number] {
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0) {
      throw invalid(`Desktop coordinates must be non-negative integers (got ${x},${y})`);
    }
    const { width, height } = this.conn.screen;
    return [Math.min(x, width - 1), Math.min(y, height - 1)];
  }

  /** Sends a motion to (x, y) clamped to the screen; returns where the pointer will be. */
  private motion(x: number, y: number): [number, number] {
    const [cx, cy] = this.clampPoint(x, y);
    this.xtest.FakeInput(this.xtest.MotionNotify, 0, 0, this.conn.screen.root, cx, cy);
    return [cx, cy];
  }

  private queryPointer(): Promise<any> {
    return this.conn.call<any>("QueryPointer", (cb) => this.conn.X.QueryPointer(this.conn.screen.root, cb));
  }

  /**
   * Ends a mouse action with one round trip, a QueryPointer, whose answer is the
   * action's result. A window manager's synchronous button grab (openbox's click-to-focus)
   * freezes pointer events until the WM replays them, which takes seconds while it is
   * busy with keymap changes, so after a motion we poll briefly until the pointer is
   * there: the motion is queued and will land, the wait is a courtesy.
   */
  private async settle(target?: [number, number]): Promise<MousePosition> {
    const end = Date.now() + POINTER_SETTLE_MS;
    for (;;) {
      const p = await this.queryPointer();
      const arrived = !target || (p.rootX === target[0] && p.rootY === target[1]);
      if (arrived || Date.now() >= end) return { x: p.rootX, y: p.rootY, screen: 0, window: p.child ? String(p.child) : null };
      await sleep(5);
    }
  }

  private fakeButton(button: number, down: boolean): void {
    this.xtest.FakeInput(down ? this.xtest.ButtonPress : this.xtest.ButtonRelease, button, 0, 0, 0, 0);
    if (down) this.heldButtons.add(button);
    else this.heldButtons.delete(button);
  }

  private fakeKey(keycode: number, down: boolean): void {
    this.xtest.FakeInput(down ? this.xtest.KeyPress : this.xtest.KeyRelease, keycode, 0, 0, 0, 0);
  }

  /** Marks a spare keycode as just used, which restarts its quiet period. */
  private touch(keycode: number): void {
    const slot = this.slots.get(keycode);
    if (slot) slot.lastUsed = Date.now();
  }

  /** Types keys in segments whose missing keysyms fit into the spare keycodes at once. */
  private async typeKeys(keys: number[][], delayMs: number): Promise<void> {
    let shiftDown = false;
    try {
      for (let start = 0; start < keys.length; ) {
        await this.refreshIfStale();
        const seg = this.planSegment(keys, start);
        if (seg.end === start) throw noSpareKeycode(keys[start][0]);
        await this.bind(seg.need, seg.inUse);
        for (let i = start; i < seg.end; i++) {
          const pos = this.find(keys[i])!;
          if (pos.shift !== shiftDown) {
            this.fakeKey(this.shiftKeycode, pos.shift);
            shiftDown = pos.shift;
          }
          this.fakeKey(pos.keycode, true);
          this.fakeKey(pos.keycode, false);
          this.touch(pos.keycode);
          if (delayMs > 0 && i < keys.length - 1) {
            // release Shift before pausing so no other input sees it held
            if (shiftDown) {
              this.fakeKey(this.shiftKeycode, false);
              shiftDown = false;
            }
            await sleep(delayMs);
          }
        }
        start = seg.end;
      }
    } finally {
      if (shiftDown) this.fakeKey(this.shiftKeycode, false);
    }
  }

  /** Presses keysyms in order and releases them in reverse (a chord). */
  private async pressTogether(syms: number[]): Promise<void> {
    const positions = await this.positionsFor(syms.map((s) => [s]));
    const pressed: number[] = [];
    try {
      const needShift = positions.some((p) => p.shift) && !syms.includes(KEYSYM.Shift_L);
      if (needShift) {
        this.fakeKey(this.shiftKeycode, true);
        pressed.push(this.shiftKeycode);
      }
      for (const pos of positions) {
        this.fakeKey(pos.keycode, true);
        pressed.push(pos.keycode);
      }
    } finally {
      for (const keycode of pressed.reverse()) {
        this.fakeKey(keycode, false);
        this.touch(keycode);
      }
    }
  }

  /** Keymap positions for keys that must all be usable at once (binding what is missing). */
  private async positionsFor(keys: number[][]): Promise<KeyPosition[]> {
    await this.refreshIfStale();
    const seg = this.planSegment(keys, 0);
    if (seg.end < keys.length) throw noSpareKeycode(keys[seg.end][0]);
    await this.bind(seg.need, seg.inUse);
    return keys.map((k) => this.find(k)!);
  }

  private find(candidates: number[]): KeyPosition | undefined {
    for (const sym of candidates) {
      const pos = this.positions.get(sym);
      if (pos) return pos;
    }
    return undefined;
  }

  /**
   * The longest run of keys from `start` that can be typed after binding its missing
   * keysyms, without rebinding a spare keycode the run itself (or a held key) uses.
   */
  private planSegment(keys: number[][], start: number): Segment {
    const inUse = new Set<number>();
    for (const pos of this.heldKeys.values()) if (this.slots.has(pos.keycode)) inUse.add(pos.keycode);
    const need: number[] = [];
    let end = start;
    for (; end < keys.length; end++) {
      const pos = this.find(keys[end]);
      if (pos) {
        if (this.slots.has(pos.keycode) && !inUse.has(pos.keycode)) {
          if (need.length + inUse.size >= this.slots.size) break;
          inUse.add(pos.keycode);
        }
        continue;
      }
      const sym = keys[end][0];
      if (need.includes(sym)) continue;
      if (need.length + inUse.size >= this.slots.size) break;
      need.push(sym);
    }
    return { end, need, inUse };
  }

  /** Binds keysyms to the least recently used spare keycodes that are not in use. */
  private async bind(need: number[], inUse: Set<number>): Promise<void> {
    if (need.length === 0) return;
    const chosen = [...this.slots.values()]
      .filter((s) => !inUse.has(s.keycode))
      .sort((a, b) => a.lastUsed - b.lastUsed || a.keycode - b.keycode)
      .slice(0, need.length);
    const quietAt = Math.max(...chosen.map((s) => s.lastUsed + SLOT_QUIET_MS));
    if (quietAt > Date.now()) {
      // make sure the server has delivered the keys typed with these slots, then let
      // the apps decode them before their meaning changes
      await this.conn.fence();
      const wait = quietAt - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const rows = new Map<number, number[]>();
    chosen.forEach((slot, i) => {
      if (!this.originalRows.has(slot.keycode)) this.originalRows.set(slot.keycode, this.row(slot.keycode).slice());
      slot.keysym = need[i];
      // both shift levels, so a held Shift does not change the symbol
      const row = new Array<number>(this.keysymsPerKeycode).fill(0);
      row[0] = need[i];
      if (row.length > 1) row[1] = need[i];
      rows.set(slot.keycode, row);
    });
    await Promise.all(this.writeRows(rows));
    for (const [keycode, row] of rows) this.keymap[keycode - this.minKeycode] = row;
    this.indexKeymap();
  }

  /** ChangeKeyboardMapping for the given rows, one request per run of adjacent keycodes. */
  private writeRows(rows: Map<number, number[]>): Promise<void>[] {
    const keycodes = [...rows.keys()].sort((a, b) => a - b);
    const requests: Promise<void>[] = [];
    for (let i = 0; i < keycodes.length; ) {
      let j = i + 1;
      while (j < keycodes.length && keycodes[j] === keycodes[j - 1] + 1) j++;
      const first = keycodes[i];
      const flat = keycodes.slice(i, j).flatMap((k) => rows.get(k)!);
      requests.push(
        this.conn.call<void>(`ChangeKeyboardMapping(${first}, ${j - i})`, (cb) =>
          this.conn.X.ChangeKeyboardMapping(first, this.keysymsPerKeycode, flat, cb),
        ),
      );
      i = j;
    }
    return requests;
  }

  private row(keycode: number): number[] {
    return this.keymap[keycode - this.minKeycode] ?? [];
  }

  private async refreshIfStale(): Promise<void> {
    await Promise.all([this.keymapStale ? this.loadKeymap() : undefined, this.modifiersStale ? this.loadModifiers() : undefined]);
  }

  private async loadKeymap(): Promise<void> {
    // cleared before asking, so a change that lands meanwhile marks it stale again
    this.keymapStale = false;
    const count = this.maxKeycode - this.minKeycode + 1;
    const rows = await this.conn.call<number[][]>("GetKeyboardMapping", (cb) => this.conn.X.GetKeyboardMapping(this.minKeycode, count, cb));
    this.keymap = rows;
    this.keysymsPerKeycode = rows[0]?.length ?? 0;
    for (let keycode = this.minKeycode; keycode <= this.maxKeycode; keycode++) {
      const row = this.row(keycode);
      const empty = row.every((s) => s === 0);
      const slot = this.slots.get(keycode);
      if (!slot) {
        if (empty) this.slots.set(keycode, { keycode, keysym: 0, lastUsed: 0 });
      } else if (empty) {
        slot.keysym = 0;
      } else if (row[0] !== slot.keysym) {
        // another client took this keycode: it is no longer ours to bind or restore
        this.slots.delete(keycode);
        this.originalRows.delete(keycode);
      }
    }
    this.indexKeymap();
  }

  private async loadModifiers(): Promise<void> {
    this.modifiersStale = false;
    const mods = await this.conn.call<number[][]>("GetModifierMapping", (cb) => this.conn.X.GetModifierMapping(cb));
    this.shiftKeycode = mods[0]?.find((k) => k !== 0) ?? this.positions.get(KEYSYM.Shift_L)?.keycode ?? 0;
    if (!this.shiftKeycode) throw new GlasspaneError("x11_error", 502, "the X keymap has no Shift key");
  }

  /**
   * keysym -> first keycode that produces it, unshifted positions before shifted ones.
   * The shifted half of a keypad key (KP_1 under KP_End) is reached with NumLock, not
   * Shift (Shift+KP_End stays KP_End), so such keysyms count as missing and get a spare
   * keycode of their own.
   */
  private indexKeymap(): void {
    const positions = new Map<number, KeyPosition>();
    for (const level of [0, 1]) {
      this.keymap.forEach((row, i) => {
        const sym = row[level];
        if (!sym || positions.has(sym)) return;
        if (level === 1 && isKeypadKey(row[0]!)) return;
        positions.set(sym, { keycode: i + this.minKeycode, shift: level === 1 });
      });
    }
    this.positions = positions;
  }
}

/** X keysyms of the numeric keypad (XK_KP_Space .. XK_KP_Equal). */
function isKeypadKey(keysym: number): boolean {
  return keysym >= 0xff80 && keysym <= 0xffbd;
}

function buttonNumber(button: PointerButton | number): number {
  if (typeof button === "number") {
    if (!Number.isInteger(button) || button < 1 || button > 9) throw invalid(`X button must be an integer from 1 to 9 (got ${button})`);
    return button;
  }
  const n = BUTTON_NUMBERS[button];
  if (!n) throw invalid(`unknown mouse button "${button}" (expected left, middle, right, back or forward)`);
  return n;
}

function toKeysym(key: string | number): number {
  if (typeof key === "number") {
    if (!Number.isInteger(key) || key <= 0 || key > 0x1fffffff) throw invalid(`invalid X keysym ${key}`);
    return key;
  }
  return resolveKeysym(key);
}

/** Keysyms that type a character: the Unicode/Latin-1 one first, then a legacy alias. */
function charCandidates(ch: string): number[] {
  const sym = keysymForChar(ch);
  const legacy = sym >= 0x01000000 ? legacyKeysymForChar(ch) : undefined;
  return legacy === undefined ? [sym] : [sym, legacy];
}

function modifierKeysyms(m: KeyModifiers): number[] {
  const syms: number[] = [];
  if (m.ctrl) syms.push(KEYSYM.Control_L);
  if (m.shift) syms.push(KEYSYM.Shift_L);
  if (m.alt) syms.push(KEYSYM.Alt_L);
  if (m.cmd) syms.push(KEYSYM.Super_L);
  return syms;
}

function noSpareKeycode(sym: number): GlasspaneError {
  return new GlasspaneError("x11_error", 502, `no spare keycode is free to type keysym 0x${sym.toString(16)}`);
}
