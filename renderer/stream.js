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

  // input: u8 event, u16 length, payload (big-endian), on the data channel
  const detach = attachInput(video, () => (size.width ? size : { width: video.videoWidth, height: video.videoHeight }), (buf) => channel?.readyState === "open" && channel.send(buf));
  closed.then(detach);

  return { closed, close: () => end("closed") };
}
