// A werift WebRTC receiver on the stream's signaling socket, run by the test or bench
// itself, so it can send RTCP (PLI) and see each packet arrive. Tests and the stream
// benchmark share it.
import WebSocket from "ws";
import { RTCPeerConnection, useH264, useVP8, useVP9, type RtpPacket } from "werift";
import { isKeyframePayload } from "../../main/stream/keyframes.js";
import type { VideoCodec } from "../../main/stream/types.js";

export interface ReceivedPacket {
  at: number;
  key: boolean;
  ssrc: number;
}

export interface StreamReceiver {
  packets: ReceivedPacket[];
  /** sends a Picture Loss Indication for the stream's SSRC */
  sendPli(): Promise<void>;
  close(): Promise<void>;
}

/** `desktopPath` is the desktop's route prefix: `/v1/desktop` (the default) or `/v1/desktops/{id}`. */
export function connectReceiver(base: string, codec: VideoCodec, token?: string, desktopPath = "/v1/desktop"): StreamReceiver {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}${desktopPath}/stream/signaling${token ? `?access_token=${token}` : ""}`);
  const use = { h264: useH264, vp8: useVP8, vp9: useVP9 }[codec];
  const pc = new RTCPeerConnection({ codecs: { audio: [], video: [use()] }, iceServers: [], iceAdditionalHostAddresses: ["127.0.0.1"] } as any);
  const packets: ReceivedPacket[] = [];
  pc.onTransceiverAdded.subscribe((t) =>
    t.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((p: RtpPacket) => packets.push({ at: performance.now(), key: isKeyframePayload(codec, p.payload), ssrc: p.header.ssrc })),
    ),
  );
  ws.on("message", async (m) => {
    const msg = JSON.parse(String(m));
    if (msg.event === "system/init") ws.send(JSON.stringify({ event: "signal/request", payload: { video: {} } }));
    if (msg.event === "signal/provide") {
      await pc.setRemoteDescription({ type: "offer", sdp: msg.payload.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      ws.send(JSON.stringify({ event: "signal/answer", payload: { sdp: pc.localDescription!.sdp } }));
    }
  });
  return {
    packets,
    sendPli: () => pc.getTransceivers()[0]!.receiver.sendRtcpPLI(packets[0]!.ssrc),
    async close() {
      ws.close();
      await pc.close();
    },
  };
}
