// The highest sequence this process has seen decided, per conversation: a lower bound of the
// conversation's last sequence that costs no read, since sequences only grow. Acks at or below it
// need nothing more to clamp against (receipts.ts); on Cassandra that spares a head read per ack.
import { LruMap } from "../shared/lru-map.ts";

export class SequenceFloor {
  /** Raised in place: every send raises it, and a set per send would reorder the map each time. */
  readonly #seen: LruMap<string, { sequence: bigint }>;

  constructor(capacity = 100_000) {
    this.#seen = new LruMap(capacity);
  }

  /** The conversation's log has reached `sequence`. */
  raise(conversationId: string, sequence: bigint): void {
    const seen = this.#seen.get(conversationId);
    if (seen === undefined) this.#seen.set(conversationId, { sequence });
    else if (sequence > seen.sequence) seen.sequence = sequence;
  }

  /** A sequence the conversation's log is known to have reached; undefined when none is known. */
  of(conversationId: string): bigint | undefined {
    return this.#seen.get(conversationId)?.sequence;
  }
}
