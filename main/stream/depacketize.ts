import type { RtpPacket } from "werift";
import type { VideoCodec } from "./types.js";

const START_CODE = Buffer.from([0, 0, 0, 1]);

/**
 * One frame's RTP payloads back into the codec's own bitstream, for decoders that take
 * whole frames (WebCodecs in the WebSocket transport): H.264 as Annex B (RFC 6184 single
 * NAL units, STAP-A, FU-A), VP8 and VP9 without their payload descriptors (RFC 7741,
 * draft-ietf-payload-vp9). Returns undefined for a frame with a gap (a lost packet).
 */
export function depacketize(codec: VideoCodec, packets: RtpPacket[]): Buffer | undefined {
  for (let i = 1; i < packets.length; i++) {
    if (((packets[i - 1]!.header.sequenceNumber + 1) & 0xffff) !== packets[i]!.header.sequenceNumber) return undefined;
  }
  const parts: Buffer[] = [];
  for (const p of packets) {
    const payload = p.payload;
    if (payload.length < 2) continue;
    if (codec === "h264") h264(payload, parts);
    else parts.push(payload.subarray(codec === "vp8" ? vp8DescriptorSize(payload) : vp9DescriptorSize(payload)));
  }
  return parts.length > 0 ? Buffer.concat(parts) : undefined;
}

function h264(p: Buffer, out: Buffer[]) {
  const type = p[0]! & 0x1f;
  if (type >= 1 && type <= 23) {
    out.push(START_CODE, p);
  } else if (type === 24) {
    for (let at = 1; at + 2 <= p.length; ) {
      const size = p.readUInt16BE(at);
      out.push(START_CODE, p.subarray(at + 2, at + 2 + size));
      at += 2 + size;
    }
  } else if (type === 28) {
    const fu = p[1]!;
    if (fu & 0x80) out.push(START_CODE, Buffer.from([(p[0]! & 0xe0) | (fu & 0x1f)]));
    out.push(p.subarray(2));
  }
}

function vp8DescriptorSize(p: Buffer): number {
  let at = 1;
  if (p[0]! & 0x80) {
    const x = p[at++]!;
    if (x & 0x80) at += (p[at]! & 0x80) !== 0 ? 2 : 1;
    if (x & 0x40) at += 1;
    if (x & 0x30) at += 1;
  }
  return at;
}

function vp9DescriptorSize(p: Buffer): number {
  const b0 = p[0]!;
  let at = 1;
  if (b0 & 0x80) at += (p[at]! & 0x80) !== 0 ? 2 : 1; // picture id
  if (b0 & 0x20) at += (b0 & 0x10) !== 0 ? 1 : 2; // layer indices
  if (b0 & 0x10 && b0 & 0x40) {
    while (at < p.length && p[at]! & 0x01) at++;
    at++;
  }
  return at;
}
