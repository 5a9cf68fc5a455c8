// The live view over /v1/desktop/stream/ws, for networks (or browsers) where WebRTC cannot
// connect: the server sends the same encoded frames as to WebRTC viewers, one binary
// message each (u8 flags [1 = keyframe], u32 RTP timestamp, f64 send time in epoch ms,
// then the frame's H.264 Annex B / VP8 / VP9 bitstream); WebCodecs decodes them onto a
// canvas. Text `{"event":"keyframe/request"}` asks for a keyframe (after a decoder error).
// While the page holds the control lease it says so on this socket (`control/attach` with the
// lease id the control socket granted) and sends its input here, as the holder; the control
// socket stays open as the lease itself.

import { parseEvent, type LiveStream } from "./stream.js";

const HEADER_BYTES = 13;

/** True where this browser can decode the fallback (WebCodecs' VideoDecoder). */
export const canDecode = () => typeof VideoDecoder === "function" && typeof EncodedVideoChunk === "function";

export function connectFallback(opts: { url: string; canvas: HTMLCanvasElement; onState?: (s: string) => void; onScreen?: (s: { width: number; height: number }) => void }): LiveStream {
  const ws = new WebSocket(opts.url);
  ws.binaryType = "arraybuffer";
  const ctx = opts.canvas.getContext("2d");
  let decoder: VideoDecoder | null = null;
  let codec = "";
  let waitingForKey = true;
  let playing = false;
  let endResolve!: (reason: string) => void;
  const closed = new Promise<string>((r) => (endResolve = r));
  let ended = false;
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    if (decoder && decoder.state !== "closed") decoder.close();
    decoder = null;
    if (ws.readyState <= WebSocket.OPEN) ws.close();
    endResolve(reason);
  };
  const askKeyframe = () => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ event: "keyframe/request" }));
  const makeDecoder = () => {
    if (decoder && decoder.state !== "closed") decoder.close();
    const d: VideoDecoder = new VideoDecoder({
      output: (frame) => {
        const c = opts.canvas;
        if (c.width !== frame.displayWidth) c.width = frame.displayWidth;
        if (c.height !== frame.displayHeight) c.height = frame.displayHeight;
        ctx?.drawImage(frame, 0, 0);
        frame.close();
        if (!playing) {
          playing = true;
          opts.onState?.("connected");
        }
      },
      error: () => {
        // a broken frame: a new decoder, from the next keyframe
        if (ended || decoder !== d) return;
        makeDecoder();
        askKeyframe();
      },
    });
    d.configure({ codec, optimizeForLatency: true });
    decoder = d;
    waitingForKey = true;
  };
  let attached = false;
  let leaseWanted: string | undefined;
  const attach = () => leaseWanted && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ event: "control/attach", payload: { lease: leaseWanted } }));
  const live: LiveStream = {
    screen: { width: 0, height: 0 },
    closed,
    close: () => end("closed"),
    attachControl: (lease) => {
      attached = false;
      leaseWanted = lease;
      attach();
    },
    sendInput: (buf) => {
      if (!attached || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(buf);
      return true;
    },
  };
  ws.onmessage = (m) => {
    if (typeof m.data === "string") {
      const msg = parseEvent(m.data);
      if (!msg) return;
      const p = msg.payload;
      if (msg.event === "system/init") {
        if (p.screen_size) {
          live.screen = { width: p.screen_size.width, height: p.screen_size.height };
          opts.onScreen?.(live.screen);
        }
        codec = p.codec;
        try {
          makeDecoder();
        } catch (err) {
          end(`this browser cannot decode ${codec}: ${(err as Error).message}`);
          return;
        }
        opts.onState?.("connecting");
      } else if (msg.event === "control/attached") {
        attached = true;
      } else if (msg.event === "control/refused") {
        attached = false;
      } else if (msg.event === "system/disconnect") {
        end(p.message ?? "disconnected");
      }
      return;
    }
    if (!decoder || decoder.state !== "configured" || m.data.byteLength <= HEADER_BYTES) return;
    const view = new DataView(m.data as ArrayBuffer);
    const key = (view.getUint8(0) & 1) === 1;
    if (waitingForKey && !key) return;
    waitingForKey = false;
    const timestamp = (view.getUint32(1) / 90) * 1000; // RTP 90 kHz -> microseconds
    try {
      decoder.decode(new EncodedVideoChunk({ type: key ? "key" : "delta", timestamp, data: new Uint8Array(m.data as ArrayBuffer, HEADER_BYTES) }));
    } catch {
      makeDecoder();
      askKeyframe();
    }
  };
  ws.onopen = () => attach();
  ws.onclose = () => end("socket closed");
  ws.onerror = () => end("socket failed");
  return live;
}
