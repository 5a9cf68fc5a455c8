import type { VideoCodec } from "./types.js";

/**
 * Whether an RTP payload carries (the start of) a keyframe, read from the payload format
 * itself so the encoder needs no side channel. H.264: an SPS or IDR NAL unit, alone, in
 * a STAP-A or at the start of an FU-A (RFC 6184). VP8: the payload header's P bit on the
 * first partition (RFC 7741). VP9: frame_type in the uncompressed header of a frame's
 * first packet (the descriptor's P bit is not trusted: ffmpeg leaves it clear).
 */
export function isKeyframePayload(codec: VideoCodec, payload: Buffer): boolean {
  if (payload.length < 2) return false;
  switch (codec) {
    case "h264":
      return h264Key(payload);
    case "vp8":
      return vp8Key(payload);
    case "vp9":
      return vp9Key(payload);
  }
}

const IDR = 5;
const SPS = 7;

function h264Key(p: Buffer): boolean {
  const type = p[0]! & 0x1f;
  if (type === IDR || type === SPS) return true;
  if (type === 24) {
    // STAP-A: [u16 size, NAL]...
    for (let at = 1; at + 2 < p.length; ) {
      const size = p.readUInt16BE(at);
      const nal = p[at + 2]! & 0x1f;
      if (nal === IDR || nal === SPS) return true;
      at += 2 + size;
    }
    return false;
  }
  if (type === 28) {
    const fu = p[1]!;
    const start = (fu & 0x80) !== 0;
    const nal = fu & 0x1f;
    return start && (nal === IDR || nal === SPS);
  }
  return false;
}

function vp8Key(p: Buffer): boolean {
  const b0 = p[0]!;
  const startOfPartition = (b0 & 0x10) !== 0;
  const partitionId = b0 & 0x07;
  if (!startOfPartition || partitionId !== 0) return false;
  let at = 1;
  if (b0 & 0x80) {
    const x = p[at++]!;
    if (x & 0x80) at += (p[at]! & 0x80) !== 0 ? 2 : 1; // picture id, 7 or 15 bits
    if (x & 0x40) at += 1; // TL0PICIDX
    if (x & 0x30) at += 1; // TID / KEYIDX
  }
  return at < p.length && (p[at]! & 0x01) === 0;
}

function vp9Key(p: Buffer): boolean {
  const b0 = p[0]!;
  const beginning = (b0 & 0x08) !== 0;
  if (!beginning) return false;
  let at = 1;
  if (b0 & 0x80) at += (p[at]! & 0x80) !== 0 ? 2 : 1; // picture id
  if (b0 & 0x20) at += (b0 & 0x10) !== 0 ? 1 : 2; // layer indices (+TL0PICIDX in non-flexible mode)
  if ((b0 & 0x10) && (b0 & 0x40)) {
    // flexible mode reference indices: each byte's N bit says another follows
    while (at < p.length && (p[at]! & 0x01)) at++;
    at++;
  }
  if (b0 & 0x02) return false; // scalability structure present: keep it simple, treat as not a key start
  if (at >= p.length) return false;
  const h = p[at]!;
  if (h >> 6 !== 2) return false; // frame_marker
  const profile = ((h >> 5) & 1) | (((h >> 4) & 1) << 1);
  const shift = profile === 3 ? 1 : 0; // profile 3 has a reserved bit
  const showExisting = (h >> (3 - shift)) & 1;
  const frameType = (h >> (2 - shift)) & 1;
  return showExisting === 0 && frameType === 0;
}

/**
 * ffmpeg's VP9 packetizer writes a bare descriptor (only B and E bits): no picture id and
 * P clear even on inter frames, which makes Chrome treat every frame as independent and
 * decode nothing. Rewrites it the way browsers send non-flexible VP9: I=1 with a 15-bit
 * picture id, P set unless the frame is a keyframe. Other descriptors pass unchanged.
 */
export function fixVp9Descriptor(payload: Buffer, pictureId: number, keyframe: boolean): Buffer {
  const b0 = payload[0]!;
  if (b0 & 0xf2) return payload; // already has I, P, L, F or V: not ffmpeg's bare form
  const out = Buffer.allocUnsafe(payload.length + 2);
  out[0] = b0 | 0x80 | (keyframe ? 0 : 0x40);
  out.writeUInt16BE(0x8000 | (pictureId & 0x7fff), 1);
  payload.copy(out, 3, 1);
  return out;
}
