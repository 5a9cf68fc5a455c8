/** ffmpeg command lines for recording the desktop and for finishing the file. */

export interface GrabOptions {
  display: string;
  width: number;
  height: number;
  fps: number;
  /** stop by itself after this many seconds (ffmpeg -t: exact, and a clean exit) */
  maxDurationSeconds: number | null;
  output: string;
}

/**
 * x11grab -> H.264 in fragmented MP4: a new fragment every second (each starting at a
 * keyframe), so the file on disk plays up to the last second even if ffmpeg or the server
 * is killed. `-fps_mode cfr -r` makes the output constant frame rate at the requested fps,
 * duplicating or dropping grabbed frames when the machine is busy.
 */
export function grabArgs(o: GrabOptions): string[] {
  // yuv420p needs even dimensions; grab the even part of an odd-sized screen
  const width = o.width - (o.width % 2);
  const height = o.height - (o.height % 2);
  const fps = String(o.fps);
  return [
    "-hide_banner", "-nostats", "-loglevel", "warning", "-nostdin",
    "-f", "x11grab", "-framerate", fps, "-video_size", `${width}x${height}`, "-draw_mouse", "1", "-i", `${o.display}+0,0`,
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", fps, "-keyint_min", fps,
    "-fps_mode", "cfr", "-r", fps,
    ...(o.maxDurationSeconds ? ["-t", String(o.maxDurationSeconds)] : []),
    // without -flush_packets the fragments sit in ffmpeg's 256 KB output buffer for seconds
    "-flush_packets", "1", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "1000000",
    "-f", "mp4", "-y", o.output,
  ];
}

/** Rewrites a fragmented MP4 as a plain one with the index first (seekable, streams in browsers). */
export function faststartArgs(input: string, output: string): string[] {
  return ["-hide_banner", "-nostats", "-loglevel", "error", "-nostdin", "-i", input, "-map", "0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", output];
}
