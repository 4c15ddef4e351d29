// Delivery status of the user's own messages, from the other members' receipt watermarks.
// A message with sequence s is delivered when every other member who could see it (joined at or
// before s) has delivered_through >= s, and read when every such member has read_through >= s.
import type { Conversation } from "../../gen/parley/v1/conversations_pb.js";
import type { ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import { type Status, statusRank } from "./render.ts";

interface Watermarks {
  joinedAt: bigint;
  delivered: bigint;
  read: bigint;
}

export interface StatusChange {
  conversationId: string;
  sequence: bigint;
  status: Status;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

export class ReceiptTracker {
  readonly #selfUserId: string;
  /** Other members' watermarks per conversation. */
  readonly #members = new Map<string, Map<string, Watermarks>>();
  /** Own messages whose status is shown and may still change, with the status last shown. */
  readonly #watched = new Map<string, Map<bigint, Status>>();

  constructor(selfUserId: string) {
    this.#selfUserId = selfUserId;
  }

  knows(conversationId: string): boolean {
    return this.#members.has(conversationId);
  }

  /** Takes the member list (who is in, and their watermarks) from a fetched conversation. */
  setMembers(conversation: Conversation): StatusChange[] {
    const previous = this.#members.get(conversation.conversationId);
    const members = new Map<string, Watermarks>();
    for (const m of conversation.members) {
      if (m.userId === this.#selfUserId) continue;
      const known = previous?.get(m.userId);
      // Watermarks only rise; a receipt may have overtaken this (older) snapshot.
      members.set(m.userId, {
        joinedAt: m.joinedAtSequence,
        delivered: max(m.deliveredThrough, known?.delivered ?? 0n),
        read: max(m.readThrough, known?.read ?? 0n),
      });
    }
    this.#members.set(conversation.conversationId, members);
    return this.#changes(conversation.conversationId);
  }

  /** Applies a member's new watermarks; returns the own messages whose status went up. */
  applyReceipt(receipt: ReceiptUpdate): StatusChange[] {
    if (receipt.userId === this.#selfUserId) return [];
    const members = this.#members.get(receipt.conversationId);
    const member = members?.get(receipt.userId);
    if (!member) return [];
    member.delivered = max(member.delivered, receipt.deliveredThrough);
    member.read = max(member.read, receipt.readThrough);
    return this.#changes(receipt.conversationId);
  }

  /** Whether a receipt names someone this tracker does not know (the member list is stale). */
  isStranger(receipt: ReceiptUpdate): boolean {
    const members = this.#members.get(receipt.conversationId);
    return members !== undefined && receipt.userId !== this.#selfUserId && !members.has(receipt.userId);
  }

  /** The status the watermarks give an own message that the server has stored. */
  statusOf(conversationId: string, sequence: bigint): Status {
    const others = [...(this.#members.get(conversationId)?.values() ?? [])].filter((m) => m.joinedAt <= sequence);
    if (others.length === 0) return "sent";
    if (others.every((m) => m.read >= sequence)) return "read";
    if (others.every((m) => max(m.delivered, m.read) >= sequence)) return "delivered";
    return "sent";
  }

  /**
   * Starts showing status changes for an own message; returns its current status, which is at
   * least `shown` (the status already on screen).
   */
  watch(conversationId: string, sequence: bigint, shown: Status = "sent"): Status {
    const computed = this.statusOf(conversationId, sequence);
    const status = statusRank[computed] > statusRank[shown] ? computed : shown;
    if (status !== "read") {
      const watched = this.#watched.get(conversationId) ?? new Map<bigint, Status>();
      this.#watched.set(conversationId, watched);
      watched.set(sequence, status);
    }
    return status;
  }

  #changes(conversationId: string): StatusChange[] {
    const watched = this.#watched.get(conversationId);
    if (!watched) return [];
    const changes: StatusChange[] = [];
    for (const [sequence, shown] of [...watched].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const status = this.statusOf(conversationId, sequence);
      if (statusRank[status] <= statusRank[shown]) continue;
      changes.push({ conversationId, sequence, status });
      if (status === "read") watched.delete(sequence);
      else watched.set(sequence, status);
    }
    return changes;
  }
}
