import type { AcpEnvelope, AcpEvent } from "./types.js";

/** Per-server bounds: the oldest events go first when either is passed. */
export const EVENT_LOG_MAX_EVENTS = 10_000;
export const EVENT_LOG_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The envelopes one ACP server has sent its clients, numbered from 1, for SSE replay.
 * Capped by count and bytes; a replay says where it starts when older ones were dropped.
 */
export class EventLog {
  private readonly events: { event: AcpEvent; bytes: number }[] = [];
  private bytes = 0;
  private nextId = 1;

  constructor(
    private readonly maxEvents = EVENT_LOG_MAX_EVENTS,
    private readonly maxBytes = EVENT_LOG_MAX_BYTES,
  ) {}

  append(envelope: AcpEnvelope, size: number): AcpEvent {
    const event = { id: this.nextId++, envelope };
    this.events.push({ event, bytes: size });
    this.bytes += size;
    while (this.events.length > 1 && (this.events.length > this.maxEvents || this.bytes > this.maxBytes)) this.bytes -= this.events.shift()!.bytes;
    return event;
  }

  /** Events after `lastId` that are still kept, and whether some after it were dropped. */
  after(lastId: number): { events: AcpEvent[]; firstId: number; dropped: boolean } {
    const firstId = this.events[0]?.event.id ?? this.nextId;
    const events = this.events.filter((e) => e.event.id > lastId).map((e) => e.event);
    return { events, firstId, dropped: lastId + 1 < firstId };
  }
}
