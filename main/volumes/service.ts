import { mkdirSync, statSync } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { WorkspaceFs } from "../fs/workspace.js";
import type { WorkspaceFileSystem } from "../fs/types.js";
import { conflict, invalid, notFound } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import type { VolumeInfo, Volumes } from "./types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Volumes as folders `<stateDir>/volumes/<name>`; each has its own confined WorkspaceFs. */
export class VolumeService implements Volumes {
  private readonly dir: string;
  private readonly filesystems = new Map<string, WorkspaceFs>();

  constructor(
    stateDir: string,
    private readonly defaultFs: WorkspaceFileSystem,
  ) {
    this.dir = path.join(stateDir, "volumes");
    mkdirSync(this.dir, { recursive: true });
  }

  async list(): Promise<VolumeInfo[]> {
    const names = (await fsp.readdir(this.dir, { withFileTypes: true })).filter((e) => e.isDirectory() && NAME.test(e.name)).map((e) => e.name);
    names.sort();
    return Promise.all(names.map((n) => this.info(n)));
  }

  async ensure(name: string): Promise<VolumeInfo & { created: boolean }> {
    const folder = this.folder(name);
    const exists = statSync(folder, { throwIfNoEntry: false })?.isDirectory() ?? false;
    if (!exists && (await this.list()).length >= LIMITS.volumes.max) throw conflict(`${LIMITS.volumes.max} volumes exist; delete one first`);
    if (!exists) await fsp.mkdir(folder, { recursive: true });
    return { ...(await this.info(name)), created: !exists };
  }

  async remove(name: string): Promise<{ name: string }> {
    const folder = this.existing(name);
    this.filesystems.delete(name);
    await fsp.rm(folder, { recursive: true, force: true });
    return { name };
  }

  fs(volume?: string | null): WorkspaceFileSystem {
    if (volume === undefined || volume === null) return this.defaultFs;
    const folder = this.existing(volume);
    let fs = this.filesystems.get(volume);
    if (!fs) {
      // home = root: "~" inside a volume is the volume itself, never the server user's home
      fs = new WorkspaceFs({ root: folder, home: folder });
      this.filesystems.set(volume, fs);
    }
    return fs;
  }

  workingDirectory(volume: string, cwd?: string | null): Promise<string> {
    return this.fs(volume).resolveDirectory(cwd ?? null, false);
  }

  private async info(name: string): Promise<VolumeInfo> {
    const folder = this.folder(name);
    const st = await fsp.stat(folder);
    return { name, path: folder, createdAt: st.birthtime.getTime() > 0 ? st.birthtime.toISOString() : st.ctime.toISOString() };
  }

  private existing(name: string): string {
    const folder = this.folder(name);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw notFound(`no volume "${name}"; create it with POST /v1/volumes`);
    return folder;
  }

  private folder(name: string): string {
    if (typeof name !== "string" || name.length > LIMITS.volumeName.max || !NAME.test(name) || name.includes("..")) {
      throw invalid(`"${name}" is not a volume name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most ${LIMITS.volumeName.max} characters`);
    }
    return path.join(this.dir, name);
  }
}
