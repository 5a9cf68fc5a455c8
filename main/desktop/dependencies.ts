import which from "which";

export type PackageManager = "apt" | "dnf" | "apk";

/** Programs the desktop needs, and the package that provides each on every supported distribution. */
const REQUIRED: Record<string, Record<PackageManager, string>> = {
  Xvfb: { apt: "xvfb", dnf: "xorg-x11-server-Xvfb", apk: "xvfb" },
  openbox: { apt: "openbox", dnf: "openbox", apk: "openbox" },
};

/** Not needed to start, but wanted by parts of the API (open, fonts for apps). */
const RECOMMENDED: Record<PackageManager, string[]> = {
  apt: ["python3-xdg", "xdg-utils", "xterm", "ffmpeg", "fonts-dejavu-core", "xfonts-base", "dbus-x11"],
  dnf: ["xdg-utils", "xterm", "ffmpeg-free", "dejavu-sans-fonts", "dbus-x11"],
  apk: ["xdg-utils", "xterm", "ffmpeg", "font-dejavu", "dbus-x11"],
};

export function missingDesktopDependencies(): string[] {
  return Object.keys(REQUIRED).filter((bin) => !which.sync(bin, { nothrow: true }));
}

export function detectPackageManager(): PackageManager {
  if (which.sync("apt-get", { nothrow: true })) return "apt";
  if (which.sync("dnf", { nothrow: true })) return "dnf";
  if (which.sync("apk", { nothrow: true })) return "apk";
  return "apt";
}

export function desktopPackages(pm: PackageManager): string[] {
  return [...Object.values(REQUIRED).map((p) => p[pm]), ...RECOMMENDED[pm]];
}

/** The shell command that installs the desktop's packages with `pm`. */
export function installCommand(pm: PackageManager = detectPackageManager()): string {
  const pkgs = desktopPackages(pm).join(" ");
  const sudo = process.getuid?.() === 0 ? "" : "sudo ";
  switch (pm) {
    case "apt":
      return `${sudo}apt-get update && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs}`;
    case "dnf":
      return `${sudo}dnf install -y ${pkgs}`;
    case "apk":
      return `${sudo}apk add --no-cache ${pkgs}`;
  }
}
