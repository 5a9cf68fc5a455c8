// Viewer input in the data channel's binary layout (u8 event, u16 payload length, payload,
// big-endian), from mouse, wheel and key events on `element`; `screen()` gives the desktop
// size the element shows, `send` takes each message. Both transports (WebRTC data channel,
// WebSocket fallback) use it. Returns the function that detaches the listeners.
/* exported attachInput */
function attachInput(element, screen, send) {
  // input: u8 event, u16 length, payload (big-endian)
  const message = (op, len, fill) => {
    const buf = new ArrayBuffer(3 + len);
    const view = new DataView(buf);
    view.setUint8(0, op);
    view.setUint16(1, len);
    fill(view);
    send(buf);
  };
  const toDesktop = (e) => {
    const r = element.getBoundingClientRect();
    const size = screen();
    const x = Math.round(((e.clientX - r.left) / r.width) * size.width);
    const y = Math.round(((e.clientY - r.top) / r.height) * size.height);
    return [Math.max(0, x), Math.max(0, y)];
  };
  const move = (e) => {
    const [x, y] = toDesktop(e);
    message(1, 4, (v) => (v.setUint16(3, x), v.setUint16(5, y)));
  };
  const button = (op) => (e) => {
    e.preventDefault();
    element.focus();
    move(e);
    message(op, 4, (v) => v.setUint32(3, [1, 2, 3][e.button] ?? 1));
  };
  const keysym = (e) => {
    const named = { Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff, Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52,
      ArrowRight: 0xff53, ArrowDown: 0xff54, PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Insert: 0xff63, Shift: 0xffe1, Control: 0xffe3, Alt: 0xffe9, Meta: 0xffeb, CapsLock: 0xffe5 };
    if (named[e.key]) return named[e.key];
    if (/^F([1-9]|1[0-2])$/.test(e.key)) return 0xffbe + Number(e.key.slice(1)) - 1;
    if ([...e.key].length !== 1) return 0;
    const cp = e.key.codePointAt(0);
    return cp >= 0x20 && cp <= 0x7e ? cp : 0x1000000 + cp;
  };
  const key = (op) => (e) => {
    const sym = keysym(e);
    if (!sym) return;
    e.preventDefault();
    message(op, 4, (v) => v.setUint32(3, sym));
  };
  const wheel = (e) => {
    e.preventDefault();
    move(e);
    const notch = (d) => Math.max(-10, Math.min(10, Math.round(d / 100) || Math.sign(d)));
    message(2, 5, (v) => (v.setInt16(3, notch(e.deltaX)), v.setInt16(5, notch(e.deltaY)), v.setUint8(7, 0)));
  };
  const listeners = [["mousemove", move], ["mousedown", button(5)], ["mouseup", button(6)], ["contextmenu", (e) => e.preventDefault()], ["wheel", wheel], ["keydown", key(3)], ["keyup", key(4)]];
  for (const [name, fn] of listeners) element.addEventListener(name, fn, { passive: false });
  return () => {
    for (const [name, fn] of listeners) element.removeEventListener(name, fn);
  };

}
