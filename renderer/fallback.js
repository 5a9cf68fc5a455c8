// The live view over a WebSocket, for networks where WebRTC cannot connect: the server
// sends the same encoded frames as to WebRTC viewers (u8 flags [1 = keyframe], u32 RTP
// timestamp, f64 send time, bitstream), WebCodecs decodes them onto a canvas, and input
// goes back on the same socket in the data channel's layout (input.js).
/* exported connectFallback */
function connectFallback({ server, token, canvas, onState }) {
  const wsUrl = `${server.replace(/^http/, "ws")}/v1/desktop/stream/ws${token ? `?access_token=${encodeURIComponent(token)}` : ""}`;
  const ws = new WebSocket(wsUrl);
  ws.binaryType = "arraybuffer";
  const ctx = canvas.getContext("2d");
  let size = { width: 0, height: 0 };
  let decoder = null;
  let endResolve;
  const closed = new Promise((r) => (endResolve = r));
  const end = (reason) => {
    if (decoder && decoder.state !== "closed") decoder.close();
    if (ws.readyState <= 1) ws.close();
    endResolve(reason);
  };
  const askKeyframe = () => ws.readyState === 1 && ws.send(JSON.stringify({ event: "keyframe/request" }));
  const makeDecoder = (codec) => {
    decoder = new VideoDecoder({
      output: (frame) => {
        if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
        if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
        ctx.drawImage(frame, 0, 0);
        frame.close();
        onState?.("playing");
      },
      error: () => {
        // a broken frame: start again from the next keyframe
        makeDecoder(codec);
        askKeyframe();
      },
    });
    decoder.configure({ codec, optimizeForLatency: true });
    decoder.waitingForKey = true;
  };
  ws.onmessage = (m) => {
    if (typeof m.data === "string") {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (msg.event === "system/init") {
        size = msg.payload.screen_size ?? size;
        makeDecoder(msg.payload.codec);
        onState?.("connected");
      } else if (msg.event === "system/disconnect") {
        end(msg.payload?.message ?? "disconnected");
      }
      return;
    }
    if (!decoder || decoder.state !== "configured") return;
    const view = new DataView(m.data);
    const key = (view.getUint8(0) & 1) === 1;
    if (decoder.waitingForKey && !key) return;
    decoder.waitingForKey = false;
    const timestamp = (view.getUint32(1) / 90) * 1000; // RTP 90 kHz -> microseconds
    decoder.decode(new EncodedVideoChunk({ type: key ? "key" : "delta", timestamp, data: new Uint8Array(m.data, 13) }));
  };
  ws.onclose = () => end("socket closed");
  ws.onerror = () => end("socket failed");
  const detach = attachInput(canvas, () => (size.width ? size : { width: canvas.width, height: canvas.height }), (buf) => ws.readyState === 1 && ws.send(buf));
  closed.then(detach);
  return { closed, close: () => end("closed") };
}
