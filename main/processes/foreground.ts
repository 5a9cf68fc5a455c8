import { execa } from "execa";

/**
 * Runs a shell command in the foreground of the CLI (its terminal, its output), for
 * `glasspane install desktop --yes`; resolves with the exit code. Not a managed process:
 * there is no runtime, only the person at the terminal.
 */
export async function runInForeground(command: string): Promise<number> {
  const result = await execa("sh", ["-c", command], { stdio: "inherit", reject: false });
  return result.exitCode ?? 1;
}
