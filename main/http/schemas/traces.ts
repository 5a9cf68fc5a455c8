import { Type } from "typebox";

export const TraceInfo = Type.Object({
  id: Type.String(),
  createdAtMs: Type.Number(),
  updatedAtMs: Type.Number(),
  bytes: Type.Integer(),
  steps: Type.Integer({ description: "model turns" }),
  actions: Type.Integer(),
  images: Type.Integer(),
  lastStopReason: Type.Union([Type.String(), Type.Null()], { description: "stopReason of the last prompt (error when it failed); null while one runs" }),
});
export const TraceList = Type.Object({ traces: Type.Array(TraceInfo) });
export const TraceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
