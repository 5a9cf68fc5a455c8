// Viewer input in the stream data channel's layout (u8 event, u16 length, big-endian
// payload; the sandbox-agent SDK's and neko's), which the control socket speaks too, and
// the mapping of a pointer on the fitted video to desktop pixels.

export const OP = { move: 1, scroll: 2, keyDown: 3, keyUp: 4, buttonDown: 5, buttonUp: 6 } as const;

function frame(op: number, len: number, fill: (v: DataView) => void): ArrayBuffer {
  const buf = new ArrayBuffer(3 + len);
  const v = new DataView(buf);
  v.setUint8(0, op);
  v.setUint16(1, len);
  fill(v);
  return buf;
}

export const encode = {
  move: (x: number, y: number) => frame(OP.move, 4, (v) => (v.setUint16(3, x), v.setUint16(5, y))),
  button: (down: boolean, button: number) => frame(down ? OP.buttonDown : OP.buttonUp, 4, (v) => v.setUint32(3, button)),
  key: (down: boolean, keysym: number) => frame(down ? OP.keyDown : OP.keyUp, 4, (v) => v.setUint32(3, keysym)),
  scroll: (dx: number, dy: number) => frame(OP.scroll, 5, (v) => (v.setInt16(3, dx), v.setInt16(5, dy), v.setUint8(7, 0))),
};

/** Where a video with `object-fit: contain` draws its picture inside its box. */
export function contentRect(box: { left: number; top: number; width: number; height: number }, videoWidth: number, videoHeight: number) {
  if (!videoWidth || !videoHeight) return box;
  const scale = Math.min(box.width / videoWidth, box.height / videoHeight);
  const width = videoWidth * scale;
  const height = videoHeight * scale;
  return { left: box.left + (box.width - width) / 2, top: box.top + (box.height - height) / 2, width, height };
}

/** The desktop pixel under a client point, or undefined outside the picture. */
export function toDesktop(
  clientX: number,
  clientY: number,
  box: { left: number; top: number; width: number; height: number },
  video: { width: number; height: number },
  screen: { width: number; height: number },
): { x: number; y: number } | undefined {
  const r = contentRect(box, video.width, video.height);
  const fx = (clientX - r.left) / r.width;
  const fy = (clientY - r.top) / r.height;
  if (fx < 0 || fy < 0 || fx >= 1 || fy >= 1) return undefined;
  return { x: Math.min(screen.width - 1, Math.floor(fx * screen.width)), y: Math.min(screen.height - 1, Math.floor(fy * screen.height)) };
}

const NAMED: Record<string, number> = {
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff, Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52,
  ArrowRight: 0xff53, ArrowDown: 0xff54, PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Insert: 0xff63, CapsLock: 0xffe5,
  ContextMenu: 0xff67, PrintScreen: 0xff61, Pause: 0xff13, ScrollLock: 0xff14, NumLock: 0xff7f,
};
const SIDED: Record<string, [number, number]> = { Shift: [0xffe1, 0xffe2], Control: [0xffe3, 0xffe4], Alt: [0xffe9, 0xffea], Meta: [0xffeb, 0xffec] };

/** The X keysym of a browser key event; 0 when there is none. */
export function keysym(e: { key: string; code: string }): number {
  if (SIDED[e.key]) return SIDED[e.key]![e.code.endsWith("Right") ? 1 : 0];
  if (e.key === "AltGraph") return 0xfe03;
  if (NAMED[e.key]) return NAMED[e.key]!;
  if (/^F([1-9]|1[0-2])$/.test(e.key)) return 0xffbe + Number(e.key.slice(1)) - 1;
  if ([...e.key].length !== 1) return 0;
  const cp = e.key.codePointAt(0)!;
  if (cp >= 0x20 && cp <= 0x7e) return cp;
  if (cp >= 0xa0 && cp <= 0xff) return cp;
  return 0x1000000 + cp;
}

/** Mouse button numbers as X counts them. */
export const xButton = (b: number) => [1, 2, 3][b] ?? 1;

/** Wheel notches from a wheel event's pixel (or line) delta. */
export const notches = (d: number, mode: number) => {
  const n = mode === 0 ? Math.round(d / 100) || Math.sign(d) : Math.round(d) || Math.sign(d);
  return Math.max(-10, Math.min(10, n));
};
