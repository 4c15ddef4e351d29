// Who is in a conversation, remembered by a consumer of the conversation event stream (fanout and
// push), so a busy group costs one member read per membership change instead of one per event.
// Safe because every membership change is itself an event in the conversation's order, which the
// consumer sees in order: a cached read stays right until the next non-message event, and any gap
// in the sequence (an event the consumer skipped, or one handled by another worker after a
// rebalance) drops the entry. recipientsAt() then picks members by sequence.
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { LruMap } from "../shared/lru-map.ts";
import type { ConversationStore, MemberRecord } from "./ports.ts";

interface Entry {
  members: MemberRecord[];
  /** Members not removed at the time of the read. */
  currentCount: number;
  /** The last event of the conversation this consumer handled. */
  lastSequence: bigint;
}

export class MemberCache {
  readonly #store: Pick<ConversationStore, "members">;
  readonly #entries: LruMap<string, Entry>;

  constructor(store: Pick<ConversationStore, "members">, capacity = 1_000) {
    this.#store = store;
    this.#entries = new LruMap(capacity);
  }

  /** The members to fan this event out to (current and former: filter with recipientsAt). */
  async forEvent(event: ConversationEvent): Promise<MemberRecord[]> {
    const id = event.conversationId;
    const entry = this.#entries.get(id);
    const continuous = entry !== undefined && event.sequence <= entry.lastSequence + 1n;
    if (continuous && event.body.case === "message") {
      if (event.sequence > entry.lastSequence) entry.lastSequence = event.sequence;
      return entry.members;
    }
    // Forget the old copy before the read, so nothing uses it while the read is in flight.
    this.#entries.delete(id);
    const members = await this.#store.members(id);
    this.#entries.set(id, { members, currentCount: currentCount(members), lastSequence: event.sequence });
    return members;
  }

  /** How many current members the conversation had at the last read, if this cache holds one. */
  knownSize(conversationId: string): number | undefined {
    return this.#entries.get(conversationId)?.currentCount;
  }
}

const currentCount = (members: MemberRecord[]) => members.filter((m) => m.leftAtSeq === null).length;
