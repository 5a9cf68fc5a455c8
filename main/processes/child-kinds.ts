import type { Child, ChildOptions, ChildSink, ChildStarter } from "./child.js";
import { startPipeChild } from "./pipe-child.js";
import { startPtyChild } from "./pty-child.js";
import type { ChildKindName, ProcessSpec } from "./spec.js";

/** The kinds a spec can ask for. A new kind is a new file and one line here. */
const KINDS: Record<ChildKindName, ChildStarter> = {
  pipe: startPipeChild,
  pty: startPtyChild,
};

export function childKind(spec: ProcessSpec): ChildKindName {
  return spec.kind ?? (spec.tty ? "pty" : "pipe");
}

export function startChild(spec: ProcessSpec, options: ChildOptions, sink: ChildSink): Promise<Child> {
  return KINDS[childKind(spec)](spec, options, sink);
}
