import { useEffect, useState } from "preact/hooks";

/**
 * A value loaded from the runtime and reloaded every few seconds while the server is online,
 * with the last error, and `act`: run a call, show its error, reload.
 */
export function useLive<T>(online: boolean, load: () => Promise<T>, initial: T, deps: unknown[], everyMs = 2000) {
  const [value, setValue] = useState<T>(initial);
  const [error, setError] = useState("");
  const reload = async () => {
    try {
      setValue(await load());
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    if (!online) return;
    void reload();
    const t = setInterval(reload, everyMs);
    return () => clearInterval(t);
  }, [online, ...deps]);
  const act = async (what: () => Promise<unknown>) => {
    setError("");
    try {
      await what();
    } catch (err) {
      setError((err as Error).message);
    }
    await reload();
  };
  return { value, error, setError, reload, act };
}
