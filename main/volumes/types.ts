import type { WorkspaceFileSystem } from "../fs/types.js";

export interface VolumeInfo {
  name: string;
  /** the volume's folder under the state directory */
  path: string;
  createdAt: string;
}

/**
 * Named folders under the state directory that keep tenants' files apart. A route given
 * `volume` works on that volume's file system, which is confined to its folder the way
 * `--fs-root` confines the default one.
 */
export interface Volumes {
  list(): Promise<VolumeInfo[]>;
  /** creates the volume when it is missing */
  ensure(name: string): Promise<VolumeInfo & { created: boolean }>;
  /** deletes the volume with everything in it; 404 when unknown */
  remove(name: string): Promise<{ name: string }>;
  /** the file system of a volume (404 when unknown), or the default one without a name */
  fs(volume?: string | null): WorkspaceFileSystem;
  /** a working directory: `cwd` resolved inside the volume (its folder when omitted) */
  workingDirectory(volume: string, cwd?: string | null): Promise<string>;
}
