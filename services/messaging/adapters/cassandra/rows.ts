// Row mappings and the idempotent writes shared by the messaging adapters on Cassandra
// (schema in services/storage/cassandra/migrations/002-messaging.cql).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { type CassandraClient, mapLimited, type Row, write } from "../../../storage/cassandra/client.ts";
import {
  defaultGroupSettings,
  type GroupSettings,
  type GroupState,
  type MemberRecord,
  type MembershipChange,
  type Role,
} from "../../ports.ts";

/** Events per log partition: bucket = sequence / 1000, so any reader computes it from the sequence. */
export const bucketSize = 1000n;
export const bucketOf = (sequence: bigint) => sequence / bucketSize;

/** How many writes one call keeps in flight. */
export const writeConcurrency = 64;

export const encodeEvent = (event: ConversationEvent) => Buffer.from(toBinary(ConversationEventSchema, event));
export const decodeEvent = (payload: Uint8Array) => fromBinary(ConversationEventSchema, payload);

export const encodeMembership = (change: MembershipChange | undefined) => (change ? JSON.stringify(change) : null);
export const decodeMembership = (text: string | null): MembershipChange | undefined =>
  text ? (JSON.parse(text) as MembershipChange) : undefined;

/** A member row exists for the port once a membership event set joined_at_seq. */
export function toMember(r: Row): MemberRecord | undefined {
  if (r.joined_at_seq === null || r.joined_at_seq === undefined) return undefined;
  return {
    conversationId: r.conversation_id,
    userId: r.user_id,
    role: r.role as Role,
    joinedAtSeq: r.joined_at_seq,
    leftAtSeq: r.left_at_seq ?? null,
    visibleFromSeq: r.visible_from_seq ?? r.joined_at_seq,
    banned: r.banned ?? false,
    deliveredThrough: r.delivered_through ?? 0n,
    readThrough: r.read_through ?? 0n,
  };
}

/** Settings are stored as JSON; missing keys (and a null cell) take the defaults. */
export const parseSettings = (text: string | null | undefined): GroupSettings =>
  text ? { ...defaultGroupSettings, ...(JSON.parse(text) as Partial<GroupSettings>) } : defaultGroupSettings;

/** The group state in a members row's static cells (null cells: version 0, default settings). */
export const toGroupState = (r: Row): GroupState => ({
  membershipVersion: r.membership_version ?? 0n,
  settings: parseSettings(r.settings),
  deletedAt: r.deleted_at === null || r.deleted_at === undefined ? null : Number(r.deleted_at as bigint),
});

/** Writes the event into its bucket; `attempt` names the append that allocated it. */
export function insertEvent(client: CassandraClient, event: ConversationEvent, attempt: string) {
  return write(client, "INSERT INTO events (conversation_id, bucket, sequence, attempt, payload) VALUES (?, ?, ?, ?, ?)", [
    event.conversationId,
    bucketOf(event.sequence),
    event.sequence,
    attempt,
    encodeEvent(event),
  ]);
}

/**
 * Applies the membership change of the event at `sequence`, with the sequence as the write
 * timestamp: replays and out-of-order completions then converge to the latest event's state
 * (an old add can never undo a later removal), with no read and no LWT.
 */
export async function applyMembership(
  client: CassandraClient,
  conversationId: string,
  sequence: bigint,
  change: MembershipChange,
) {
  const set = (assignments: string, userId: string, values: unknown[]) =>
    write(client, `UPDATE members USING TIMESTAMP ? SET ${assignments} WHERE conversation_id = ? AND user_id = ?`, [
      sequence,
      ...values,
      conversationId,
      userId,
    ]);
  if ("remove" in change) {
    // A former member keeps no role: there is exactly one owner among current members.
    await set("left_at_seq = ?, role = ?, banned = ?", change.remove, [
      sequence,
      "member",
      change.ban === true ? true : undefined,
    ]);
    if (change.newOwner) await set("role = ?", change.newOwner, ["owner"]);
    return;
  }
  if ("roles" in change) {
    for (const r of change.roles) await set("role = ?", r.userId, [r.role]);
    return;
  }
  if ("ban" in change || "unban" in change) {
    await ("ban" in change ? set("banned = ?", change.ban, [true]) : set("banned = ?", change.unban, [false]));
    return;
  }
  const visibleFrom = change.historyVisible ? 1n : sequence;
  await mapLimited(change.add, writeConcurrency / 2, (m: { userId: string; role: Role }) =>
    Promise.all([
      write(
        client,
        `UPDATE members USING TIMESTAMP ? SET role = ?, joined_at_seq = ?, left_at_seq = null, visible_from_seq = ?, banned = false
           WHERE conversation_id = ? AND user_id = ?`,
        [sequence, m.role, sequence, visibleFrom, conversationId, m.userId],
      ),
      write(client, "INSERT INTO conversations_by_user (user_id, conversation_id) VALUES (?, ?) USING TIMESTAMP ?", [
        m.userId,
        conversationId,
        sequence,
      ]),
    ]),
  );
}
