// Storage ports of conversations and messaging. Sequences are bigint, as on the wire (uint64).
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";

export type ConversationKindName = "direct" | "group";
export type Role = "owner" | "member";

export interface ConversationRecord {
  conversationId: string;
  kind: ConversationKindName;
  name: string;
  createdAt: number;
  /** Highest sequence assigned; every sequence 1..lastSequence holds an event (no holes). */
  lastSequence: bigint;
}

export interface MemberRecord {
  conversationId: string;
  userId: string;
  role: Role;
  /** The event that added the member; they see events from here on. */
  joinedAtSeq: bigint;
  /** The event that removed them (which they still see); null while a member. */
  leftAtSeq: bigint | null;
  deliveredThrough: bigint;
  readThrough: bigint;
}

/** A membership change applied in the same atomic step as the event that records it. */
export type MembershipChange = { add: { userId: string; role: Role }[] } | { remove: string };

export interface AppendInput {
  conversationId: string;
  /** The event without its sequence; the store assigns conversation_id's next one. */
  event: ConversationEvent;
  /** Set for messages: (conversation, sender, client id) is the idempotency key. */
  clientMessageId?: string;
  membership?: MembershipChange;
}

export interface ConversationStore {
  /**
   * Creates a conversation with its members and the ConversationCreated event at sequence 1, in
   * one atomic step. `uniqueKey` makes creation idempotent: when a conversation with that key
   * exists, it is returned with created=false and nothing is written.
   */
  create(input: {
    conversation: ConversationRecord;
    uniqueKey: { direct: string } | { creation: string };
    members: { userId: string; role: Role }[];
    firstEvent: ConversationEvent;
  }): Promise<{ conversation: ConversationRecord; created: boolean }>;
  get(conversationId: string): Promise<ConversationRecord | undefined>;
  /** The user's conversations, most recently active first, starting after the page cursor. */
  listForUser(
    userId: string,
    limit: number,
    after?: { activity: number; conversationId: string },
  ): Promise<(ConversationRecord & { activity: number })[]>;
  /** Every member record of the conversation, current and former. */
  members(conversationId: string): Promise<MemberRecord[]>;
  membership(conversationId: string, userId: string): Promise<MemberRecord | undefined>;
  /** Every membership the user has or had, for sync across all their conversations. */
  membershipsOf(userId: string): Promise<MemberRecord[]>;
}

export interface EventLog {
  /**
   * Assigns the next sequence and stores the event (and any membership change) atomically, so a
   * sequence is never allocated without its event: no holes, no duplicates. With a
   * clientMessageId already stored for this sender, stores nothing and returns the original
   * event with duplicate=true. Throws NOT_FOUND if the conversation does not exist.
   */
  append(input: AppendInput): Promise<{ event: ConversationEvent; duplicate: boolean }>;
  /** Events with sequence in (after, upTo], ascending, at most limit. */
  readAfter(conversationId: string, after: bigint, upTo: bigint, limit: number): Promise<ConversationEvent[]>;
  /** Events with sequence < before, the newest `limit` of them, ascending. */
  readBefore(conversationId: string, before: bigint, limit: number): Promise<ConversationEvent[]>;
}

export interface ReceiptStore {
  /**
   * Raises the device's cursor and the member's delivered watermark to `through` (never lowers
   * them). Returns the member's watermarks and whether they changed.
   */
  advanceDelivered(
    conversationId: string,
    userId: string,
    deviceId: string,
    through: bigint,
  ): Promise<{
    changed: boolean;
    deliveredThrough: bigint;
    readThrough: bigint;
  }>;
  /** Raises the member's read watermark (and delivered with it). */
  advanceRead(
    conversationId: string,
    userId: string,
    through: bigint,
  ): Promise<{
    changed: boolean;
    deliveredThrough: bigint;
    readThrough: bigint;
  }>;
  /** The device's stored cursors, by conversation id. */
  deviceCursors(deviceId: string): Promise<Map<string, bigint>>;
}

/** Who the users are, as messaging needs to know (existence and display names). */
export interface UserDirectory {
  find(userIds: string[]): Promise<{ userId: string; displayName: string }[]>;
}
