// Membership checks. Anyone who is not (and never was) a member, and everyone once the group is
// deleted, gets the same NOT_FOUND as for a conversation that does not exist, so existence never leaks.
import { conversationNotFound } from "../shared/errors.ts";
import type { ConversationStore, MemberRecord, Seat } from "./ports.ts";

export function createAccess(store: ConversationStore) {
  return {
    /** A current or former member: may read what they saw while a member. */
    async reader(conversationId: string, userId: string): Promise<Seat> {
      const seat = await store.seat(conversationId, userId);
      if (!seat || seat.group.deletedAt !== null) throw conversationNotFound();
      return seat;
    },
    /** A current member: may send and change things (as their role and the group's settings allow). */
    async writer(conversationId: string, userId: string): Promise<Seat> {
      const seat = await store.seat(conversationId, userId);
      if (!seat || seat.group.deletedAt !== null || seat.member.leftAtSeq !== null) throw conversationNotFound();
      return seat;
    },
  };
}

export type Access = ReturnType<typeof createAccess>;

/** The highest sequence a member may see: up to their removal, or everything while a member. */
export function visibleUpTo(member: MemberRecord, lastSequence: bigint): bigint {
  return member.leftAtSeq ?? lastSequence;
}
