// The live WebRTC view through /v1/desktop/stream/signaling, the protocol the sandbox-agent
// SDK's viewer speaks: system/init -> signal/request -> signal/provide (offer) -> answer.
// Input goes over the control socket while the page has control (on the WebSocket transport,
// over the stream's own socket: see fallback.ts).

export interface LiveStream {
  /** the desktop's size as the server announced it */
  screen: { width: number; height: number };
  closed: Promise<string>;
  close(): void;
  /**
   * The WebSocket transport only: input from now on goes over the stream's socket, as the
   * holder of the control lease with this id; sendInput then sends it (false if it cannot).
   */
  attachControl?(lease: string): void;
  sendInput?(buf: ArrayBuffer): boolean;
}

/** A text message of the stream's sockets, `{event, payload}`; undefined when it is not JSON. */
export function parseEvent(data: string): { event?: string; payload: any } | undefined {
  try {
    const msg = JSON.parse(data) as { event?: string; payload?: unknown };
    return { event: msg?.event, payload: msg?.payload ?? {} };
  } catch {
    return undefined;
  }
}

export function connectStream(opts: { url: string; video: HTMLVideoElement; onState?: (s: string) => void; onScreen?: (s: { width: number; height: number }) => void }): LiveStream {
  const ws = new WebSocket(opts.url);
  let pc: RTCPeerConnection | null = null;
  let endResolve!: (reason: string) => void;
  const closed = new Promise<string>((r) => (endResolve = r));
  const live: LiveStream = { screen: { width: 0, height: 0 }, closed, close: () => end("closed") };
  const send = (event: string, payload: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ event, payload }));
  const end = (reason: string) => {
    pc?.close();
    pc = null;
    if (ws.readyState <= WebSocket.OPEN) ws.close();
    endResolve(reason);
  };
  ws.onmessage = async (m) => {
    const msg = parseEvent(m.data);
    if (!msg) return;
    const p = msg.payload;
    if (msg.event === "system/init") {
      if (p.screen_size) {
        live.screen = p.screen_size;
        opts.onScreen?.(live.screen);
      }
      send("signal/request", { video: {}, audio: {} });
    } else if (msg.event === "signal/provide" || msg.event === "signal/restart") {
      pc?.close();
      const peer = new RTCPeerConnection({ iceServers: (p.iceservers ?? []).filter((s: RTCIceServer) => s.urls) });
      pc = peer;
      peer.ontrack = (e) => {
        opts.video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        opts.video.play().catch(() => undefined);
      };
      peer.onicecandidate = (e) => e.candidate && send("signal/candidate", e.candidate.toJSON());
      peer.onconnectionstatechange = () => {
        opts.onState?.(peer.connectionState);
        if (peer.connectionState === "failed" || peer.connectionState === "closed") end(peer.connectionState);
      };
      await peer.setRemoteDescription({ type: "offer", sdp: p.sdp });
      const answer = await peer.createAnswer();
      await peer.setLocalDescription(answer);
      send("signal/answer", { sdp: answer.sdp });
    } else if (msg.event === "signal/candidate") {
      pc?.addIceCandidate(p).catch(() => undefined);
    } else if (msg.event === "signal/close") {
      end("closed by the server");
    } else if (msg.event === "system/disconnect") {
      end(p.message ?? "disconnected");
    }
  };
  ws.onclose = () => end("signaling closed");
  ws.onerror = () => end("signaling failed");
  return live;
}
