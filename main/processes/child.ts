import type { Writable } from "node:stream";
import type { LogStream, ProcessSpec } from "./spec.js";

/** Where a child reports to its ManagedProcess. */
export interface ChildSink {
  output(stream: LogStream, data: Buffer): void;
  /** once, after the last output; `note` replaces the usual "exited with ..." line */
  exit(code: number | null, signal: NodeJS.Signals | null, note?: string): void;
}

/**
 * One running child as the runtime is connected to it. A kind (pipe, pty, adopted ...)
 * is one file implementing this, listed in child-kinds.ts; the ManagedProcess around it
 * never asks which kind it is.
 */
export interface Child {
  readonly kind: string;
  readonly pid: number | null;
  /** signals go to the child's whole process group */
  readonly group: boolean;
  /** input can be written now */
  readonly writable: boolean;
  /** writes input; throws a 409 when the child cannot take it now */
  write(data: Buffer): number;
  /** the stdin pipe, for writes that wait for the child to read (framed stdio); pipe children only */
  readonly stdin?: Writable | null;
  /** fallback when the pid could not be signalled directly */
  kill(signal: NodeJS.Signals): void;
  /** flow control: stop and resume reading the child's output */
  pause(): void;
  resume(): void;
  resize(cols: number, rows: number): void;
  /** closes every descriptor the runtime holds for this child; called once it has exited */
  release(): void;
}

export interface ChildOptions {
  file: string;
  args: string[];
  cols: number;
  rows: number;
}

/** Starts a child of one kind; rejects (a GlasspaneError) when it cannot be started. */
export type ChildStarter = (spec: ProcessSpec, options: ChildOptions, sink: ChildSink) => Promise<Child>;
