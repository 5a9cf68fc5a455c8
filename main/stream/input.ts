import type { Desktop, MouseButton } from "../desktop/types.js";

/**
 * Viewer input on the data channel, as the sandbox-agent SDK sends it (neko's binary
 * frames, big-endian): u8 event, u16 payload length, payload.
 */
export type InputEvent =
  | { type: "move"; x: number; y: number }
  | { type: "scroll"; deltaX: number; deltaY: number; controlKey: boolean }
  | { type: "keyDown" | "keyUp"; keysym: number }
  | { type: "buttonDown" | "buttonUp"; button: number };

const OP_MOVE = 1;
const OP_SCROLL = 2;
const OP_KEY_DOWN = 3;
const OP_KEY_UP = 4;
const OP_BTN_DOWN = 5;
const OP_BTN_UP = 6;

/** Wheel notches per scroll message, at most; a client sending pixel deltas must not spin the wheel 120 times. */
const MAX_NOTCHES = 10;

/**
 * Decodes every complete message in `data` (a client may pack several into one).
 * Unknown opcodes and payloads shorter than their event needs are skipped, not fatal.
 */
export function decodeInput(data: Buffer): InputEvent[] {
  const events: InputEvent[] = [];
  let at = 0;
  while (at + 3 <= data.length) {
    const op = data.readUInt8(at);
    const len = data.readUInt16BE(at + 1);
    const start = at + 3;
    at = start + len;
    if (at > data.length) break;
    const p = data.subarray(start, at);
    switch (op) {
      case OP_MOVE:
        if (len >= 4) events.push({ type: "move", x: p.readUInt16BE(0), y: p.readUInt16BE(2) });
        break;
      case OP_SCROLL:
        if (len >= 4) events.push({ type: "scroll", deltaX: p.readInt16BE(0), deltaY: p.readInt16BE(2), controlKey: len >= 5 && p[4] !== 0 });
        break;
      case OP_KEY_DOWN:
      case OP_KEY_UP:
        if (len >= 4) events.push({ type: op === OP_KEY_DOWN ? "keyDown" : "keyUp", keysym: p.readUInt32BE(0) });
        break;
      case OP_BTN_DOWN:
      case OP_BTN_UP:
        if (len >= 4) events.push({ type: op === OP_BTN_DOWN ? "buttonDown" : "buttonUp", button: p.readUInt32BE(0) });
        break;
    }
  }
  return events;
}

const BUTTONS: Record<number, MouseButton> = { 1: "left", 2: "middle", 3: "right" };

/**
 * Applies one viewer's input to the desktop through the same Desktop methods as the HTTP
 * API, in order. Moves that pile up while the desktop is busy collapse into the latest
 * one (a pointer path needs no replay), but never across a button or key event.
 * Input errors (a display going away, an unbindable keysym) are counted and logged, never
 * thrown: a viewer's stray event must not end its stream.
 */
export class InputRelay {
  private readonly queue: InputEvent[] = [];
  private running = false;
  private pointer: { x: number; y: number } | undefined;
  errors = 0;
  applied = 0;

  constructor(
    private readonly desktop: Desktop,
    private readonly screen: () => { width: number; height: number },
    /** where an input failure is reported (the runtime log); repeats are counted, not each logged */
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  push(events: InputEvent[]): void {
    for (const ev of events) {
      const last = this.queue[this.queue.length - 1];
      if (ev.type === "move" && last?.type === "move") this.queue[this.queue.length - 1] = ev;
      else this.queue.push(ev);
    }
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let ev = this.queue.shift(); ev; ev = this.queue.shift()) {
        try {
          await this.apply(ev);
          this.applied++;
        } catch (err) {
          this.errors++;
          // the first failure and then one in a hundred: a stuck display must not flood the log
          if (this.errors === 1 || this.errors % 100 === 0) {
            this.log(`stream: viewer input ${ev.type} failed (${this.errors} so far): ${(err as Error).message}`);
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async apply(ev: InputEvent): Promise<void> {
    switch (ev.type) {
      case "move": {
        const { width, height } = this.screen();
        const x = Math.min(ev.x, width - 1);
        const y = Math.min(ev.y, height - 1);
        this.pointer = { x, y };
        await this.desktop.mouseMove(x, y);
        return;
      }
      case "scroll": {
        const at = this.pointer ?? (await this.desktop.mousePosition());
        const clamp = (d: number) => Math.max(-MAX_NOTCHES, Math.min(MAX_NOTCHES, d));
        const dx = clamp(ev.deltaX);
        const dy = clamp(ev.deltaY);
        if (dx !== 0 || dy !== 0) await this.desktop.mouseScroll(at.x, at.y, dx, dy);
        return;
      }
      case "buttonDown":
      case "buttonUp": {
        const button = BUTTONS[ev.button];
        if (button) {
          if (ev.type === "buttonDown") await this.desktop.mouseDown(button);
          else await this.desktop.mouseUp(button);
        } else if (ev.type === "buttonDown" && ev.button >= 4 && ev.button <= 7) {
          // wheel buttons as X numbers them: 4 up, 5 down, 6 left, 7 right
          const at = this.pointer ?? (await this.desktop.mousePosition());
          const d = ev.button % 2 === 0 ? -1 : 1;
          await this.desktop.mouseScroll(at.x, at.y, ev.button >= 6 ? d : 0, ev.button < 6 ? d : 0);
        }
        return;
      }
      case "keyDown":
      case "keyUp": {
        if (ev.keysym === 0) return;
        // Unicode keysyms (0x1000000 + code point, as the SDK sends non-ASCII characters)
        // go in as the character, so they take the same path as typed text; others as
        // X keysyms spelled in hex, which the key API accepts
        const unicode = ev.keysym >= 0x1000000 && ev.keysym <= 0x110ffff ? ev.keysym - 0x1000000 : -1;
        const key = unicode >= 0x20 ? String.fromCodePoint(unicode) : `0x${ev.keysym.toString(16)}`;
        if (ev.type === "keyDown") await this.desktop.keyDown(key);
        else await this.desktop.keyUp(key);
        return;
      }
    }
  }
}
