import sharp from "sharp";
import type { ImageFormat, Rect, RgbFrame } from "./types.js";

// Inputs are raw frames that never repeat; libvips' operation cache would only hold memory.
sharp.cache(false);

export const contentTypes: Readonly<Record<ImageFormat, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
};

export interface EncodeOptions {
  format: ImageFormat;
  /** 1-100; ignored for PNG; 100 makes WebP lossless */
  quality: number;
  /** 0.1-1.0 */
  scale: number;
  /** exact output size, instead of `scale` */
  size?: { width: number; height: number };
}

/** round(size * scale), half up (401 * 0.5 -> 201), at least 1. */
export function scaledSize(size: number, scale: number): number {
  return Math.max(1, Math.round(size * scale));
}

/**
 * Encodes a raw RGB frame. Settings are the fast ones from the measurements: PNG zlib
 * level 1 without adaptive filtering (4.5 ms at 1440x900 for UI content, adaptive
 * filtering costs 5-8x), JPEG without mozjpeg (12-19x slower) and without optimised Huffman
 * coding (q70 at 1440x900: 3.4 ms instead of 10.1 ms, PNG 2.7 ms), WebP effort 0.
 */
export async function encodeFrame(frame: RgbFrame, opts: EncodeOptions): Promise<Buffer> {
  const { width, height } = frame;
  const data = frame.data.length === width * height * 3 ? frame.data : frame.data.subarray(0, width * height * 3);
  let img = sharp(data, { raw: { width, height, channels: 3 } });
  const w = opts.size?.width ?? scaledSize(width, opts.scale);
  const h = opts.size?.height ?? scaledSize(height, opts.scale);
  if (w !== width || h !== height) img = img.resize(w, h, { fit: "fill", kernel: "linear" });
  switch (opts.format) {
    case "png":
      img = img.png({ compressionLevel: 1, adaptiveFiltering: false });
      break;
    case "jpeg":
      // Huffman table optimisation is a second pass over the coefficients: 3x the time for 7 % smaller files
      img = img.jpeg({ quality: opts.quality, mozjpeg: false, optimiseCoding: false });
      break;
    case "webp":
      img = opts.quality >= 100 ? img.webp({ lossless: true, effort: 0 }) : img.webp({ quality: opts.quality, effort: 0 });
      break;
  }
  return img.toBuffer();
}

/**
 * Clips a region to the screen. Partly off-screen -> the visible part; entirely off-screen
 * (or empty) -> undefined, and the caller answers with a 1x1 image as the reference does.
 */
export function clipRect(rect: Rect, screenW: number, screenH: number): Rect | undefined {
  const x0 = Math.max(0, rect.x);
  const y0 = Math.max(0, rect.y);
  const x1 = Math.min(screenW, rect.x + rect.width);
  const y1 = Math.min(screenH, rect.y + rect.height);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** A 1x1 black frame, for regions entirely off-screen. */
export function blankFrame(): RgbFrame {
  return { data: Buffer.alloc(3), width: 1, height: 1 };
}
