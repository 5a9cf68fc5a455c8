// Runs sandboxed, with context isolation: it exposes the runtime's URL and token to the
// page (window.glasspane) and nothing else. The shell hands them over as one argument.
import { contextBridge } from "electron";

const ARG = "--glasspane-connection=";
const arg = process.argv.find((a) => a.startsWith(ARG));
if (arg) {
  const { server, token } = JSON.parse(atob(arg.slice(ARG.length))) as { server: string; token: string };
  contextBridge.exposeInMainWorld("glasspane", Object.freeze({ server: String(server), token: String(token) }));
}
