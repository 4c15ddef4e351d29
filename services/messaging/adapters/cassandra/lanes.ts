// Per-conversation state of one process's sequencer: the queue of appends waiting for the next
// decision, and what this process knows about the stage (so it reads less). Losing it is harmless:
// every fact here is re-derived from the head partition.
import type { ConversationEvent } from "../../../../gen/parley/v1/events_pb.js";
import type { GroupChange, MembershipChange } from "../../ports.ts";
import type { Head, StageRow } from "./stage.ts";

export interface AppendRequest {
  /** The event with conversationId and sentAt set; the sequencer sets the sequence. */
  draft: ConversationEvent;
  /** Epoch ms that becomes the conversation's last activity. */
  activity: number;
  /** Encoded size of the draft, to bound a group's batch. */
  bytes: number;
  /** Sends carry (sender, clientMessageId) as their idempotency key; other events are unkeyed. */
  keyed: boolean;
  senderUserId: string;
  clientMessageId: string;
  membership: MembershipChange | undefined;
  group: GroupChange | undefined;
  /** Whether the append bumps the membership version (ports.ts bumpsVersion). */
  bumps: boolean;
  /** Compare-and-set: decided only while the head's membership version equals this. */
  expectedMembershipVersion: bigint | undefined;
  /** Unique per append call: tells this call's own stage row or event from another's. */
  attempt: string;
}

export interface AppendResult {
  event: ConversationEvent;
  duplicate: boolean;
}

export interface Waiter {
  request: AppendRequest;
  /** Appends with the same key queued behind this one: they get its event as a duplicate. */
  followers: Waiter[];
  /** Sequences proposed for this append by LWTs whose outcome is unknown (timeouts). */
  proposed: bigint[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface Lane {
  queue: Waiter[];
  running: boolean;
  /** Last known completed_through (it only grows); undefined until read. */
  completedThrough: bigint | undefined;
  /** Stage rows this process is completing now (not to be deleted or re-checked yet). */
  completing: Set<bigint>;
  /** Stage rows this process has seen complete (deletable without a read). */
  completed: Set<bigint>;
  /** Completions of group changes, one after another in sequence order (see group-state.ts). */
  changes: Promise<void>;
  /**
   * The head and stage as this process's last decision left them: exact for as long as no other
   * decision follows, which the next decision's condition checks. The next round uses it instead
   * of reading the view; taken (and so dropped) by that round, kept again only by a decision.
   */
  known: { head: Head; stage: StageRow[] } | undefined;
}

export const keyOf = (r: { senderUserId: string; clientMessageId: string }) => `${r.senderUserId}\u0000${r.clientMessageId}`;

export function settle(waiter: Waiter, event: ConversationEvent, duplicate: boolean) {
  waiter.resolve({ event, duplicate });
  for (const f of waiter.followers) f.resolve({ event, duplicate: true });
}

export function fail(waiter: Waiter, error: unknown) {
  waiter.reject(error);
  for (const f of waiter.followers) f.reject(error);
}

/**
 * Takes the next group off the queue: at most `maxCount` appends and about `maxBytes`, one per
 * idempotency key (a repeated key rides along as a follower of the first).
 */
export function takeGroup(queue: Waiter[], maxCount: number, maxBytes: number): Waiter[] {
  const group: Waiter[] = [];
  const leaders = new Map<string, Waiter>();
  let bytes = 0;
  while (queue.length > 0 && group.length < maxCount && (group.length === 0 || bytes < maxBytes)) {
    const waiter = queue.shift() as Waiter;
    const key = waiter.request.keyed ? keyOf(waiter.request) : undefined;
    const leader = key === undefined ? undefined : leaders.get(key);
    if (leader) {
      leader.followers.push(waiter);
      continue;
    }
    if (key !== undefined) leaders.set(key, waiter);
    group.push(waiter);
    bytes += waiter.request.bytes;
  }
  return group;
}

/** A bounded map of lanes: idle lanes are dropped oldest first. */
export class Lanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #max: number;
  constructor(max = 10_000) {
    this.#max = max;
  }
  get(conversationId: string): Lane {
    let lane = this.#lanes.get(conversationId);
    if (lane) {
      this.#lanes.delete(conversationId);
    } else {
      lane = {
        queue: [],
        running: false,
        completedThrough: undefined,
        completing: new Set(),
        completed: new Set(),
        changes: Promise.resolve(),
        known: undefined,
      };
    }
    this.#lanes.set(conversationId, lane);
    if (this.#lanes.size > this.#max) this.#evict();
    return lane;
  }
  #evict() {
    for (const [id, lane] of this.#lanes) {
      if (this.#lanes.size <= this.#max) return;
      if (!lane.running && lane.queue.length === 0 && lane.completing.size === 0) this.#lanes.delete(id);
    }
  }
}
