// Conversations, members, the event log and receipts on the embedded SQLite store (schema in
// services/storage/migrations.ts and services/storage/sqlite-migrations/groups.ts). Every append
// runs inside one BEGIN IMMEDIATE transaction (shared by group commit with the same turn's other
// writes): the membership-version check, the sequence, the event and any membership or group
// change commit together, or not at all. Appends and receipts are in sqlite/writes.ts, which runs
// them on this connection or in the write thread.
import type { DatabaseSync } from "node:sqlite";
import { clone } from "@bufbuild/protobuf";
import { ConversationEventSchema } from "../../../gen/parley/v1/events_pb.js";
import { prepared, snapshot, transaction } from "../../storage/sqlite.ts";
import type { AppendInput, ConversationStore, EventLog, ReceiptStore, Seat } from "../ports.ts";
import { decode, insertEvent, type Row, toConversation, toGroupState, toMember, upsertMember } from "./sqlite/rows.ts";
import { inlineWrites, type MessagingWrites } from "./sqlite/writes.ts";

export { SqliteGroupRetention, SqliteInviteLinkStore, SqliteJoinRequestStore } from "./sqlite/groups.ts";

export class SqliteConversationStore implements ConversationStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async create(input: Parameters<ConversationStore["create"]>[0]) {
    const c = input.conversation;
    const direct = "direct" in input.uniqueKey ? input.uniqueKey.direct : null;
    const creation = "creation" in input.uniqueKey ? input.uniqueKey.creation : null;
    return transaction(this.#db, () => {
      const existing = prepared(this.#db, "SELECT * FROM conversations WHERE direct_key = ? OR creation_key = ?").get(
        direct,
        creation,
      ) as Row | undefined;
      if (existing) return { conversation: toConversation(existing), created: false };
      prepared(
        this.#db,
        `INSERT INTO conversations (conversation_id, kind, name, description, picture_ref, direct_key, creation_key, created_at,
           last_sequence, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      ).run(
        c.conversationId,
        c.kind === "direct" ? 1 : 2,
        c.name,
        c.description,
        c.pictureRef,
        direct,
        creation,
        c.createdAt,
        c.createdAt,
      );
      for (const m of input.members) upsertMember(this.#db, c.conversationId, m.userId, m.role, 1n, 1n);
      // The store, not the caller, places the first event: sequence 1 of this conversation.
      const first = clone(ConversationEventSchema, input.firstEvent);
      first.conversationId = c.conversationId;
      first.sequence = 1n;
      insertEvent(this.#db, first, null);
      return { conversation: { ...c, lastSequence: 1n, deletedAt: null }, created: true };
    });
  }

  async get(conversationId: string) {
    const r = prepared(this.#db, "SELECT * FROM conversations WHERE conversation_id = ?").get(conversationId) as Row | undefined;
    return r ? toConversation(r) : undefined;
  }

  async listForUser(userId: string, limit: number, after?: { activity: number; conversationId: string }) {
    const rows = prepared(
      this.#db,
      `SELECT c.* FROM members m JOIN conversations c ON c.conversation_id = m.conversation_id
         WHERE m.user_id = ? AND c.deleted_at IS NULL
           AND (? IS NULL OR c.last_activity < ? OR (c.last_activity = ? AND c.conversation_id > ?))
         ORDER BY c.last_activity DESC, c.conversation_id ASC LIMIT ?`,
    ).all(
      userId,
      after?.activity ?? null,
      after?.activity ?? 0,
      after?.activity ?? 0,
      after?.conversationId ?? "",
      limit,
    ) as Row[];
    return rows.map((r) => ({
      ...toConversation(r),
      activity: r.last_activity as number,
    }));
  }

  async members(conversationId: string) {
    return (prepared(this.#db, "SELECT * FROM members WHERE conversation_id = ?").all(conversationId) as Row[]).map(toMember);
  }

  async currentMemberIds(conversationId: string) {
    const rows = prepared(this.#db, "SELECT user_id FROM members WHERE conversation_id = ? AND left_at_seq IS NULL").all(
      conversationId,
    ) as Row[];
    return rows.map((r) => r.user_id as string);
  }

  async membership(conversationId: string, userId: string) {
    const r = prepared(this.#db, "SELECT * FROM members WHERE conversation_id = ? AND user_id = ?").get(conversationId, userId) as
      | Row
      | undefined;
    return r ? toMember(r) : undefined;
  }

  async membershipsOf(userId: string) {
    return (prepared(this.#db, "SELECT * FROM members WHERE user_id = ?").all(userId) as Row[]).map(toMember);
  }

  async roster(conversationId: string) {
    // Two statements on one snapshot: the write thread may commit between them otherwise.
    return snapshot(this.#db, () => {
      const group = prepared(
        this.#db,
        "SELECT membership_version, settings, deleted_at FROM conversations WHERE conversation_id = ?",
      ).get(conversationId) as Row | undefined;
      if (!group) return undefined;
      const members = prepared(this.#db, "SELECT * FROM members WHERE conversation_id = ?").all(conversationId) as Row[];
      return { ...toGroupState(group), members: members.map(toMember) };
    });
  }

  async seat(conversationId: string, userId: string) {
    return this.#seat(conversationId, userId);
  }

  #seat(conversationId: string, userId: string): Seat | undefined {
    const r = prepared(
      this.#db,
      `SELECT m.*, c.membership_version, c.settings, c.deleted_at, c.last_sequence FROM members m
         JOIN conversations c ON c.conversation_id = m.conversation_id WHERE m.conversation_id = ? AND m.user_id = ?`,
    ).get(conversationId, userId) as Row | undefined;
    return r ? { member: toMember(r), group: toGroupState(r), lastSequence: BigInt(r.last_sequence as number) } : undefined;
  }

  /** The head is joined in at no cost, so a known lower bound of the last sequence is not needed. */
  async seats(conversationId: string, userIds: readonly string[], _options?: { lastSequenceAtLeast?: bigint }) {
    const seats = new Map<string, Seat>();
    if (userIds.length === 0) return seats;
    // One member (every ack of a 1:1 message): the keyed lookup, without building and parsing JSON.
    if (userIds.length === 1) {
      const userId = userIds[0] as string;
      const seat = this.#seat(conversationId, userId);
      if (seat) seats.set(userId, seat);
      return seats;
    }
    const rows = prepared(
      this.#db,
      `SELECT m.*, c.membership_version, c.settings, c.deleted_at, c.last_sequence FROM members m
         JOIN conversations c ON c.conversation_id = m.conversation_id
         WHERE m.conversation_id = ? AND m.user_id IN (SELECT value FROM json_each(?))`,
    ).all(conversationId, JSON.stringify(userIds)) as Row[];
    // One statement, one snapshot: every row carries the same group state.
    const first = rows[0];
    if (!first) return seats;
    const group = toGroupState(first);
    const lastSequence = BigInt(first.last_sequence as number);
    for (const r of rows) seats.set(r.user_id as string, { member: toMember(r), group, lastSequence });
    return seats;
  }
}

export class SqliteEventLog implements EventLog {
  readonly #db: DatabaseSync;
  readonly #writes: MessagingWrites;
  /** `writes`: where appends commit (the serving connection's group commit unless given). */
  constructor(db: DatabaseSync, writes: MessagingWrites = inlineWrites(db)) {
    this.#db = db;
    this.#writes = writes;
  }

  /** Appends queued in one turn share a transaction with each other and with that turn's acks. */
  append(input: AppendInput) {
    return this.#writes.append(input);
  }

  async readAfter(conversationId: string, after: bigint, upTo: bigint, limit: number) {
    const rows = prepared(
      this.#db,
      "SELECT payload FROM events WHERE conversation_id = ? AND sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?",
    ).all(conversationId, after, upTo, limit) as Row[];
    return rows.map(decode);
  }

  async readBefore(conversationId: string, before: bigint, limit: number) {
    const rows = prepared(
      this.#db,
      "SELECT payload FROM events WHERE conversation_id = ? AND sequence < ? ORDER BY sequence DESC LIMIT ?",
    ).all(conversationId, before, limit) as Row[];
    return rows.reverse().map(decode);
  }
}

export class SqliteReceiptStore implements ReceiptStore {
  readonly #db: DatabaseSync;
  readonly #writes: MessagingWrites;
  constructor(db: DatabaseSync, writes: MessagingWrites = inlineWrites(db)) {
    this.#db = db;
    this.#writes = writes;
  }

  /**
   * Every device's ack of every event lands here, so these share transactions (group commit). The
   * caller's `seen` watermarks are not needed: the raise reads the row in its own statement.
   */
  advanceDelivered(conversationId: string, userId: string, deviceId: string, through: bigint) {
    return this.#writes.advanceDelivered(conversationId, userId, deviceId, through);
  }

  advanceRead(conversationId: string, userId: string, through: bigint) {
    return this.#writes.advanceRead(conversationId, userId, through);
  }

  async deviceCursors(deviceId: string) {
    const rows = prepared(this.#db, "SELECT conversation_id, sequence FROM device_cursors WHERE device_id = ?").all(
      deviceId,
    ) as Row[];
    return new Map(rows.map((r) => [r.conversation_id as string, BigInt(r.sequence as number)]));
  }
}
