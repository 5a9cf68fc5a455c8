import { withDeadline } from "../shared/deadline.js";

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
  /** how long this step may take before the next one runs anyway */
  deadlineMs: number;
}

/**
 * Quitting runs these once, in order, each bounded: a step that fails or hangs is reported
 * and the rest still run, so every child the runtime started is ended.
 */
export function createShutdown(steps: ShutdownStep[], report: (step: string, err: Error) => void = () => undefined): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () =>
    (done ??= (async () => {
      for (const step of steps) {
        try {
          await withDeadline(Promise.resolve().then(step.run), step.deadlineMs, step.name);
        } catch (err) {
          report(step.name, err as Error);
        }
      }
    })());
}
