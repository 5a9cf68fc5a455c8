// The live WebRTC view: the signaling protocol of /v1/desktop/stream/signaling (the one the
// sandbox-agent SDK speaks) and the data-channel input layout, in a few lines of plain JS
// so the UI needs no build step. `connectStream` resolves once video plays; the returned
// object's `closed` promise settles when the stream ends.
/* exported connectStream */
function connectStream({ server, token, video, onState }) {
  const wsUrl = `${server.replace(/^http/, "ws")}/v1/desktop/stream/signaling${token ? `?access_token=${encodeURIComponent(token)}` : ""}`;
  const ws = new WebSocket(wsUrl);
  let pc = null;
  let channel = null;
  let size = { width: 0, height: 0 };
  let endResolve;
  const closed = new Promise((r) => (endResolve = r));
  const send = (event, payload) => ws.readyState === 1 && ws.send(JSON.stringify({ event, payload }));
  const end = (reason) => {
    pc?.close();
    pc = null;
    if (ws.readyState <= 1) ws.close();
    endResolve(reason);
  };

  ws.onmessage = async (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    const p = msg.payload ?? {};
    if (msg.event === "system/init") {
      size = p.screen_size ?? size;
      send("signal/request", { video: {}, audio: {} });
    } else if (msg.event === "signal/provide" || msg.event === "signal/restart") {
      pc?.close();
      pc = new RTCPeerConnection({ iceServers: (p.iceservers ?? []).filter((s) => s.urls) });
      pc.ontrack = (e) => {
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        video.play().catch(() => {});
      };
      pc.ondatachannel = (e) => {
        channel = e.channel;
        channel.binaryType = "arraybuffer";
      };
      pc.onicecandidate = (e) => e.candidate && send("signal/candidate", e.candidate.toJSON());
      pc.onconnectionstatechange = () => {
        onState?.(pc?.connectionState);
        if (pc && (pc.connectionState === "failed" || pc.connectionState === "closed")) end(pc.connectionState);
      };
      await pc.setRemoteDescription({ type: "offer", sdp: p.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      send("signal/answer", { sdp: answer.sdp });
    } else if (msg.event === "signal/candidate") {
      pc?.addIceCandidate(p).catch(() => {});
    } else if (msg.event === "signal/close") {
      end("closed by the server");
    } else if (msg.event === "system/disconnect") {
      end(p.message ?? "disconnected");
    }
  };
  ws.onclose = () => end("signaling closed");
  ws.onerror = () => end("signaling failed");

  // input: u8 event, u16 length, payload (big-endian)
  const message = (op, len, fill) => {
    if (!channel || channel.readyState !== "open") return;
    const buf = new ArrayBuffer(3 + len);
    const view = new DataView(buf);
    view.setUint8(0, op);
    view.setUint16(1, len);
    fill(view);
    channel.send(buf);
  };
  const toDesktop = (e) => {
    const r = video.getBoundingClientRect();
    const x = Math.round(((e.clientX - r.left) / r.width) * (size.width || video.videoWidth));
    const y = Math.round(((e.clientY - r.top) / r.height) * (size.height || video.videoHeight));
    return [Math.max(0, x), Math.max(0, y)];
  };
  const move = (e) => {
    const [x, y] = toDesktop(e);
    message(1, 4, (v) => (v.setUint16(3, x), v.setUint16(5, y)));
  };
  const button = (op) => (e) => {
    e.preventDefault();
    video.focus();
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
  for (const [name, fn] of listeners) video.addEventListener(name, fn, { passive: false });
  closed.then(() => {
    for (const [name, fn] of listeners) video.removeEventListener(name, fn);
  });

  return { closed, close: () => end("closed") };
}
