// Storage ports of conversations and messaging. Sequences are bigint, as on the wire (uint64).
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";

export type ConversationKindName = "direct" | "group";
export type Role = "owner" | "admin" | "member";
/** Who may do what a group setting governs (docs/groups.md). */
export type Permission = "members" | "admins" | "owner";

export interface GroupSettings {
  addMembers: Permission;
  editInfo: Permission;
  /** "admins" (or "owner") makes the group announcement-only. */
  sendMessages: Permission;
  approveJoinRequests: Permission;
  joinRequiresApproval: boolean;
  historyVisibleToNewMembers: boolean;
}

export const defaultGroupSettings: GroupSettings = {
  addMembers: "members",
  editInfo: "members",
  sendMessages: "members",
  approveJoinRequests: "admins",
  joinRequiresApproval: false,
  historyVisibleToNewMembers: false,
};

export interface GroupInfo {
  name: string;
  description: string;
  pictureRef: string;
}

export interface ConversationRecord extends GroupInfo {
  conversationId: string;
  kind: ConversationKindName;
  createdAt: number;
  /** Highest sequence assigned; every sequence 1..lastSequence holds an event (no holes). */
  lastSequence: bigint;
  /** When the group was deleted (epoch ms); null while it exists. */
  deletedAt: number | null;
}

export interface MemberRecord {
  conversationId: string;
  userId: string;
  role: Role;
  /** The event that added the member; they receive events from here on. */
  joinedAtSeq: bigint;
  /** The event that removed them (which they still see); null while a member. */
  leftAtSeq: bigint | null;
  /** The first sequence they may read: 1 when the group let new members see its history, else joinedAtSeq. */
  visibleFromSeq: bigint;
  /** Banned: may not be added or join by link until unbanned (only former members are banned). */
  banned: boolean;
  deliveredThrough: bigint;
  readThrough: bigint;
}

/**
 * What authorization depends on besides a member's own record. membershipVersion is bumped by every
 * change of members, roles, bans, settings or deletion (not by messages or info changes).
 */
export interface GroupState {
  membershipVersion: bigint;
  settings: GroupSettings;
  /** When the group was deleted (epoch ms); null while it exists. */
  deletedAt: number | null;
}

/** Every member record of a conversation with the group state they reflect, read consistently. */
export interface Roster extends GroupState {
  members: MemberRecord[];
}

/** One member record with the group state it reflects, read consistently. */
export interface Seat {
  member: MemberRecord;
  group: GroupState;
  /**
   * The conversation's last sequence: seats() always carries it (the acks it serves clamp to it);
   * seat() when the store reads it at no extra cost (SQLite joins it in; on Cassandra it is a
   * separate read, left out).
   */
  lastSequence?: bigint;
}

/** A membership change applied in the same atomic step as the event that records it. */
export type MembershipChange =
  | { add: { userId: string; role: Role }[]; historyVisible?: boolean }
  | { remove: string; ban?: boolean; newOwner?: string }
  | { roles: { userId: string; role: Role }[] }
  | { ban: string }
  | { unban: string };

/** A change of the group's own state decided with the event that records it. */
export interface GroupChange {
  info?: GroupInfo;
  settings?: GroupSettings;
  /** Marks the group deleted as of the event's sentAt. */
  deleted?: boolean;
}

/** Whether an append changes what membershipVersion covers (then the version goes up by one). */
export const bumpsVersion = (input: { membership?: MembershipChange; group?: GroupChange }) =>
  input.membership !== undefined || input.group?.settings !== undefined || input.group?.deleted === true;

export interface AppendInput {
  conversationId: string;
  /** The event without its sequence; the store assigns conversation_id's next one. */
  event: ConversationEvent;
  /** Set for messages: (conversation, sender, client id) is the idempotency key. */
  clientMessageId?: string;
  membership?: MembershipChange;
  group?: GroupChange;
  /**
   * Compare-and-set: the append is decided only if the conversation's membership version is still
   * this one at that moment; otherwise it throws ABORTED / MEMBERSHIP_VERSION_CONFLICT and stores nothing.
   */
  expectedMembershipVersion?: bigint;
}

export interface AppendResult {
  event: ConversationEvent;
  duplicate: boolean;
}

export interface ConversationStore {
  /**
   * Creates a conversation with its members and the ConversationCreated event at sequence 1, in
   * one atomic step, at membership version 0 with the default group settings. `uniqueKey` makes creation idempotent: when a conversation with that key exists, it is returned
   * with created=false and nothing is written.
   */
  create(input: {
    conversation: ConversationRecord;
    uniqueKey: { direct: string } | { creation: string };
    members: { userId: string; role: Role }[];
    firstEvent: ConversationEvent;
  }): Promise<{ conversation: ConversationRecord; created: boolean }>;
  get(conversationId: string): Promise<ConversationRecord | undefined>;
  /** The user's conversations that are not deleted, most recently active first, after the page cursor. */
  listForUser(
    userId: string,
    limit: number,
    after?: { activity: number; conversationId: string },
  ): Promise<(ConversationRecord & { activity: number })[]>;
  /** Every member record of the conversation, current and former. */
  members(conversationId: string): Promise<MemberRecord[]>;
  /**
   * The user ids of the current members only (not removed), without the rest of their records:
   * who receives live receipts, presence and typing, read fresh for each of them.
   */
  currentMemberIds(conversationId: string): Promise<string[]>;
  membership(conversationId: string, userId: string): Promise<MemberRecord | undefined>;
  /** Every membership the user has or had, for sync across all their conversations. */
  membershipsOf(userId: string): Promise<MemberRecord[]>;
  /**
   * Every member record with the group state, in one read: every change up to membershipVersion
   * is in the records, and nothing decided after it except, possibly in part, a change still being
   * applied (its version is then already decided, so an append expecting this one fails). Hence an
   * append that expects this membershipVersion and is decided was authorized on exactly this state.
   */
  roster(conversationId: string): Promise<Roster | undefined>;
  /** Like roster, for one member (undefined when the user never was a member). */
  seat(conversationId: string, userId: string): Promise<Seat | undefined>;
  /**
   * The seats of several users of one conversation in one read (a turn's acks of a group message);
   * users who never were members are absent from the map. With `lastSequenceAtLeast` (the caller
   * knows the log has reached it) a store may carry that as each seat's lastSequence instead of
   * reading the head: a lower bound, which is all that acks at or below it need.
   */
  seats(
    conversationId: string,
    userIds: readonly string[],
    options?: { lastSequenceAtLeast?: bigint },
  ): Promise<Map<string, Seat>>;
}

export interface EventLog {
  /**
   * Assigns the next sequence and stores the event (and any membership or group change)
   * atomically, so a sequence is never allocated without its event: no holes, no duplicates. With
   * a clientMessageId already stored for this sender, stores nothing and returns the original
   * event with duplicate=true (before any version check). Throws NOT_FOUND if the conversation
   * does not exist, ABORTED / MEMBERSHIP_VERSION_CONFLICT when expectedMembershipVersion is stale.
   */
  append(input: AppendInput): Promise<AppendResult>;
  /** Events with sequence in (after, upTo], ascending, at most limit. */
  readAfter(conversationId: string, after: bigint, upTo: bigint, limit: number): Promise<ConversationEvent[]>;
  /** Events with sequence < before, the newest `limit` of them, ascending. */
  readBefore(conversationId: string, before: bigint, limit: number): Promise<ConversationEvent[]>;
}

/** A member's watermarks as the caller just read them (with its seat). */
export interface SeenWatermarks {
  deliveredThrough: bigint;
  readThrough: bigint;
}

export interface ReceiptStore {
  /**
   * Raises the device's cursor and the member's delivered watermark to `through` (never lowers
   * them). Returns the member's watermarks and whether they changed. `seen` is what the caller
   * read with the member's seat; a store that would read the watermarks again may use it instead
   * (watermarks only rise, so a stale `seen` at worst reports a change that is not one).
   */
  advanceDelivered(
    conversationId: string,
    userId: string,
    deviceId: string,
    through: bigint,
    seen?: SeenWatermarks,
  ): Promise<{
    changed: boolean;
    deliveredThrough: bigint;
    readThrough: bigint;
  }>;
  /** Raises the member's read watermark (and delivered with it). `seen` as for advanceDelivered. */
  advanceRead(
    conversationId: string,
    userId: string,
    through: bigint,
    seen?: SeenWatermarks,
  ): Promise<{
    changed: boolean;
    deliveredThrough: bigint;
    readThrough: bigint;
  }>;
  /** The device's stored cursors, by conversation id. */
  deviceCursors(deviceId: string): Promise<Map<string, bigint>>;
}

export interface InviteLinkRecord {
  /** The secret the joiner presents; unique across groups. */
  code: string;
  conversationId: string;
  createdBy: string;
  createdAt: number;
  /** Epoch ms after which it no longer works; null: never. */
  expiresAt: number | null;
  /** 0: unlimited. */
  maxUses: number;
  uses: number;
  revokedAt: number | null;
}

export type ClaimOutcome = "claimed" | "missing" | "revoked" | "expired" | "exhausted";

export interface InviteLinkStore {
  create(link: InviteLinkRecord): Promise<void>;
  find(code: string): Promise<InviteLinkRecord | undefined>;
  /** The group's links, newest first. */
  list(conversationId: string): Promise<InviteLinkRecord[]>;
  /** Marks the link revoked (keeping the first revocation time); returns it, undefined if unknown. */
  revoke(code: string, at: number): Promise<InviteLinkRecord | undefined>;
  /**
   * Takes one use atomically: never more than maxUses claims succeed, however concurrent, and
   * none on a revoked or (at `now`) expired link.
   */
  claim(code: string, now: number): Promise<ClaimOutcome>;
  /** Gives back a use claimed by a join that then failed (never below zero). */
  release(code: string): Promise<void>;
}

export interface JoinRequestRecord {
  conversationId: string;
  userId: string;
  code: string;
  requestedAt: number;
}

export interface JoinRequestStore {
  /** Stores the request unless one is pending for (conversation, user); returns the pending one. */
  put(request: JoinRequestRecord): Promise<{ request: JoinRequestRecord; created: boolean }>;
  find(conversationId: string, userId: string): Promise<JoinRequestRecord | undefined>;
  /** Pending requests of the group, oldest first. */
  list(conversationId: string): Promise<JoinRequestRecord[]>;
  /** Removes the request; returns whether there was one. */
  remove(conversationId: string, userId: string): Promise<boolean>;
}

/** Deleted groups kept until their retention ends, then removed with everything stored for them. */
export interface GroupRetention {
  /** Groups deleted before `cutoff` (epoch ms) and not purged yet, at most `limit`. */
  deletedBefore(cutoff: number, limit: number): Promise<string[]>;
  /**
   * Removes the conversation's events, members, links, requests and cursors, then the
   * conversation itself (so a purge cut short is found and finished by the next sweep).
   */
  purge(conversationId: string): Promise<void>;
}

/** Who the users are, as messaging needs to know (existence and display names). */
export interface UserDirectory {
  find(userIds: string[]): Promise<{ userId: string; displayName: string }[]>;
}
