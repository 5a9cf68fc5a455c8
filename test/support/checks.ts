import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SandboxAgentError } from "sandbox-agent";

/**
 * Asserts that an SDK call failed with a problem+json answer of this status (and code);
 * returns the problem's detail for further checks.
 */
export async function expectProblem(promise: Promise<unknown>, status: number, code?: string): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SandboxAgentError, `expected a SandboxAgentError, got ${err}`);
    assert.equal(err.status, status, `status for ${JSON.stringify(err.problem)}`);
    assert.equal(err.response.headers.get("content-type"), "application/problem+json");
    if (code) assert.equal(err.problem?.type, `urn:glasspane:error:${code}`);
    assert.ok(err.problem?.detail, "a problem has a detail");
    return err.problem!.detail!;
  }
  assert.fail(`expected ${status}, but the call succeeded`);
}

/** Whether a process runs; a zombie has exited even though kill(pid, 0) still finds it. */
export function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
}
