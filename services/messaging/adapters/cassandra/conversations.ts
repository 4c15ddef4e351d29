// Conversations and membership on Cassandra. A creation claims its unique key with one LWT that
// stores the whole creation, then writes the rest idempotently; any later caller with the same key
// finishes a creation whose creator died half-way.
import { clone, fromBinary } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import {
  type CassandraClient,
  conditional,
  mapLimited,
  type Row,
  select,
  selectOne,
  write,
} from "../../../storage/cassandra/client.ts";
import type {
  ConversationKindName,
  ConversationRecord,
  ConversationStore,
  MemberRecord,
  Role,
  Roster,
  Seat,
} from "../../ports.ts";
import { applyMembership, encodeEvent, insertEvent, toGroupState, toMember, writeConcurrency } from "./rows.ts";
import { readHead, sentinel } from "./stage.ts";

type CreateInput = Parameters<ConversationStore["create"]>[0];

/** What the key claim stores: enough to redo every write of the creation. */
interface Creation {
  conversationId: string;
  /** The group's creation key (purging a deleted group frees it); undefined for direct conversations. */
  creationKey: string | undefined;
  kind: ConversationKindName;
  name: string;
  createdAt: number;
  members: { userId: string; role: Role }[];
  firstEvent: ConversationEvent;
}

const fromClaim = (r: Row): Creation => ({
  conversationId: r.conversation_id,
  creationKey: r.key_kind === "creation" ? r.key_value : undefined,
  kind: r.kind as ConversationKindName,
  name: r.name,
  createdAt: Number(r.created_at as bigint),
  members: JSON.parse(r.members),
  firstEvent: fromBinary(ConversationEventSchema, r.first_event),
});

export class CassandraConversationStore implements ConversationStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async create(input: CreateInput) {
    const c = input.conversation;
    // The store, not the caller, places the first event: sequence 1 of this conversation.
    const firstEvent = clone(ConversationEventSchema, input.firstEvent);
    firstEvent.conversationId = c.conversationId;
    firstEvent.sequence = 1n;
    const [keyKind, keyValue] =
      "direct" in input.uniqueKey ? ["direct", input.uniqueKey.direct] : ["creation", input.uniqueKey.creation];
    const claim = await conditional(
      this.#client,
      `INSERT INTO conversation_keys (key_kind, key_value, conversation_id, kind, name, created_at, members, first_event)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [
        keyKind,
        keyValue,
        c.conversationId,
        c.kind,
        c.name,
        BigInt(c.createdAt),
        JSON.stringify(input.members),
        encodeEvent(firstEvent),
      ],
    );
    if (claim.applied) {
      await this.#write({
        ...c,
        creationKey: keyKind === "creation" ? keyValue : undefined,
        members: input.members,
        firstEvent,
      });
      return { conversation: { ...c, lastSequence: 1n, deletedAt: null }, created: true };
    }
    const creation = fromClaim(claim.current as Row);
    if (!(await this.#exists(creation.conversationId))) await this.#write(creation);
    return { conversation: (await this.get(creation.conversationId)) as ConversationRecord, created: false };
  }

  /**
   * Writes a claimed creation, each write idempotent: the first event, members (as the membership
   * event at sequence 1), the head (LWT, so a replay never resets a head that appends moved on),
   * and last the conversations row that makes it visible to get and listForUser.
   */
  async #write(creation: Creation) {
    const id = creation.conversationId;
    await insertEvent(this.#client, creation.firstEvent, "create");
    await applyMembership(this.#client, id, 1n, { add: creation.members });
    await conditional(
      this.#client,
      `INSERT INTO conversation_heads (conversation_id, sequence, last_sequence, last_activity, completed_through)
         VALUES (?, ?, 1, ?, 0) IF NOT EXISTS`,
      [id, sentinel, BigInt(creation.createdAt)],
    );
    await write(
      this.#client,
      "INSERT INTO conversations (conversation_id, kind, name, created_at, creation_key) VALUES (?, ?, ?, ?, ?)",
      [id, creation.kind, creation.name, BigInt(creation.createdAt), creation.creationKey],
    );
  }

  async #exists(conversationId: string) {
    return (
      (await selectOne(this.#client, "SELECT conversation_id FROM conversations WHERE conversation_id = ?", [conversationId])) !==
      undefined
    );
  }

  async get(conversationId: string) {
    return (await this.#withActivity(conversationId))?.record;
  }

  async #withActivity(conversationId: string) {
    const [row, head] = await Promise.all([
      selectOne(this.#client, "SELECT * FROM conversations WHERE conversation_id = ?", [conversationId]),
      readHead(this.#client, conversationId),
    ]);
    if (!row || !head) return undefined;
    const record: ConversationRecord = {
      conversationId,
      kind: row.kind as ConversationKindName,
      // The head holds the info decided by the last GroupInfoChanged; until one, the creation's.
      name: head.info?.name ?? row.name,
      description: head.info?.description ?? "",
      pictureRef: head.info?.pictureRef ?? "",
      createdAt: Number(row.created_at as bigint),
      lastSequence: head.lastSequence,
      deletedAt: head.deletedAt,
    };
    return { record, activity: head.lastActivity };
  }

  /**
   * Reads every conversation of the user (two point reads each) and sorts them here: Cassandra cannot
   * keep a per-user index ordered by a value that changes on every append without a delete and an
   * insert per event per member. O(conversations of the user) per page; see docs/cassandra.md.
   */
  async listForUser(userId: string, limit: number, after?: { activity: number; conversationId: string }) {
    const ids = await this.#conversationIdsOf(userId);
    const all = await mapLimited(ids, writeConcurrency, (id) => this.#withActivity(id));
    return all
      .filter((x): x is NonNullable<typeof x> => x !== undefined && x.record.deletedAt === null)
      .map(({ record, activity }) => ({ ...record, activity }))
      .filter(
        (c) =>
          !after || c.activity < after.activity || (c.activity === after.activity && c.conversationId > after.conversationId),
      )
      .sort((a, b) => b.activity - a.activity || (a.conversationId < b.conversationId ? -1 : 1))
      .slice(0, limit);
  }

  async members(conversationId: string) {
    const rows = await select(this.#client, "SELECT * FROM members WHERE conversation_id = ?", [conversationId]);
    return rows.map(toMember).filter((m) => m !== undefined);
  }

  async currentMemberIds(conversationId: string) {
    const rows = await select(this.#client, "SELECT user_id, joined_at_seq, left_at_seq FROM members WHERE conversation_id = ?", [
      conversationId,
    ]);
    // Rows without joined_at_seq carry only the partition's statics: not members.
    return rows
      .filter(
        (r) =>
          r.joined_at_seq !== null && r.joined_at_seq !== undefined && (r.left_at_seq === null || r.left_at_seq === undefined),
      )
      .map((r) => r.user_id as string);
  }

  async membership(conversationId: string, userId: string) {
    const row = await selectOne(this.#client, "SELECT * FROM members WHERE conversation_id = ? AND user_id = ?", [
      conversationId,
      userId,
    ]);
    return row ? toMember(row) : undefined;
  }

  /** One partition read: the member rows carry the statics that completion wrote last. */
  async roster(conversationId: string): Promise<Roster | undefined> {
    const rows = await select(this.#client, "SELECT * FROM members WHERE conversation_id = ?", [conversationId]);
    const first = rows[0];
    if (!first) return undefined;
    return { ...toGroupState(first), members: rows.map(toMember).filter((m) => m !== undefined) };
  }

  async seat(conversationId: string, userId: string) {
    const row = await selectOne(this.#client, "SELECT * FROM members WHERE conversation_id = ? AND user_id = ?", [
      conversationId,
      userId,
    ]);
    const member = row ? toMember(row) : undefined;
    return row && member ? { member, group: toGroupState(row) } : undefined;
  }

  /**
   * One partition read (the user ids are clustering keys, and every row carries the statics) and,
   * beside it, the head's point read for the last sequence the acks clamp to, unless the caller
   * knows a lower bound that covers them.
   */
  async seats(conversationId: string, userIds: readonly string[], options: { lastSequenceAtLeast?: bigint } = {}) {
    const seats = new Map<string, Seat>();
    if (userIds.length === 0) return seats;
    const known = options.lastSequenceAtLeast;
    const [rows, lastSequence] = await Promise.all([
      select(this.#client, "SELECT * FROM members WHERE conversation_id = ? AND user_id IN ?", [
        conversationId,
        [...new Set(userIds)],
      ]),
      known ?? readHead(this.#client, conversationId).then((head) => head?.lastSequence),
    ]);
    if (lastSequence === undefined) return seats;
    for (const row of rows) {
      const member = toMember(row);
      if (member) seats.set(member.userId, { member, group: toGroupState(row), lastSequence });
    }
    return seats;
  }

  async membershipsOf(userId: string) {
    const ids = await this.#conversationIdsOf(userId);
    const records = await mapLimited(ids, writeConcurrency, (id) => this.membership(id, userId));
    return records.filter((m): m is MemberRecord => m !== undefined);
  }

  async #conversationIdsOf(userId: string): Promise<string[]> {
    const rows = await select(this.#client, "SELECT conversation_id FROM conversations_by_user WHERE user_id = ?", [userId]);
    return rows.map((r) => r.conversation_id as string);
  }
}
