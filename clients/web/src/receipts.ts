// Ticks for the user's own messages, from the other members' delivered/read watermarks
// (Conversation.members snapshots and live ReceiptUpdate frames; watermarks only rise).
import type { Conversation } from "../../../gen/parley/v1/conversations_pb.js";
import type { ReceiptUpdate } from "../../../gen/parley/v1/events_pb.js";

export type Status = "pending" | "sent" | "delivered" | "read";

interface Marks {
  joinedAt: bigint;
  delivered: bigint;
  read: bigint;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

export class Receipts {
  readonly #self: string;
  readonly #byConversation = new Map<string, Map<string, Marks>>();

  constructor(selfUserId: string) {
    this.#self = selfUserId;
  }

  /** Takes members and watermarks from a fetched conversation, keeping any newer receipt. */
  setMembers(conversation: Conversation): void {
    const known = this.#byConversation.get(conversation.conversationId);
    const members = new Map<string, Marks>();
    for (const m of conversation.members) {
      if (m.userId === this.#self) continue;
      const old = known?.get(m.userId);
      members.set(m.userId, {
        joinedAt: m.joinedAtSequence,
        delivered: max(m.deliveredThrough, old?.delivered ?? 0n),
        read: max(m.readThrough, old?.read ?? 0n),
      });
    }
    this.#byConversation.set(conversation.conversationId, members);
  }

  /** Applies a live receipt; false when it names a member not known yet (refetch the conversation). */
  apply(receipt: ReceiptUpdate): boolean {
    if (receipt.userId === this.#self) return true;
    const member = this.#byConversation.get(receipt.conversationId)?.get(receipt.userId);
    if (!member) return false;
    member.delivered = max(member.delivered, receipt.deliveredThrough);
    member.read = max(member.read, receipt.readThrough);
    return true;
  }

  /** Delivered when every other member who could see it has delivered it; read likewise. */
  statusOf(conversationId: string, sequence: bigint): Status {
    const others = [...(this.#byConversation.get(conversationId)?.values() ?? [])].filter((m) => m.joinedAt <= sequence);
    if (others.length === 0) return "sent";
    if (others.every((m) => m.read >= sequence)) return "read";
    if (others.every((m) => max(m.delivered, m.read) >= sequence)) return "delivered";
    return "sent";
  }
}
