import { GlasspaneError } from "../shared/errors.js";
import { enoughDescriptorsToSpawn, isDescriptorExhaustion } from "./os.js";

/** What a failed spawn tells the caller: 503 when the runtime is out of descriptors (try again later), else 502. */
export function spawnFailure(command: string, err: Error, how = ""): GlasspaneError {
  if (isDescriptorExhaustion(err)) {
    return new GlasspaneError("out_of_descriptors", 503, `cannot start ${command}${how}: the runtime has run out of file descriptors (${err.message}); delete finished processes or raise the limit (ulimit -n)`);
  }
  return new GlasspaneError("internal", 502, `cannot start ${command}${how}: ${err.message}`);
}

/** Throws the 503 of spawnFailure up front when a spawn now would run out of descriptors. */
export function checkDescriptorsForSpawn(command: string): void {
  if (!enoughDescriptorsToSpawn()) throw spawnFailure(command, Object.assign(new Error("too few file descriptors left (EMFILE)"), { code: "EMFILE" }));
}
