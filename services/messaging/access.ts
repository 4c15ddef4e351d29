// Membership checks. Anyone who is not (and never was) a member gets the same NOT_FOUND as for a
// conversation that does not exist, so existence never leaks.
import { conversationNotFound } from "../shared/errors.ts";
import type { ConversationStore, MemberRecord } from "./ports.ts";

export function createAccess(store: ConversationStore) {
  return {
    /** A current or former member: may read what they saw while a member. */
    async reader(conversationId: string, userId: string): Promise<MemberRecord> {
      const member = await store.membership(conversationId, userId);
      if (!member) throw conversationNotFound();
      return member;
    },
    /** A current member: may send and change things. */
    async writer(conversationId: string, userId: string): Promise<MemberRecord> {
      const member = await store.membership(conversationId, userId);
      if (!member || member.leftAtSeq !== null) throw conversationNotFound();
      return member;
    },
  };
}

export type Access = ReturnType<typeof createAccess>;

/** The highest sequence a member may see: up to their removal, or everything while a member. */
export function visibleUpTo(member: MemberRecord, lastSequence: bigint): bigint {
  return member.leftAtSeq ?? lastSequence;
}
