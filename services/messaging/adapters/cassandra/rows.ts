// Row mappings and the idempotent writes shared by the messaging adapters on Cassandra
// (schema in services/storage/cassandra/migrations/002-messaging.cql).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { type CassandraClient, mapLimited, type Row, write } from "../../../storage/cassandra/client.ts";
import type { MemberRecord, MembershipChange, Role } from "../../ports.ts";

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
  if (r.joined_at_seq === null) return undefined;
  return {
    conversationId: r.conversation_id,
    userId: r.user_id,
    role: r.role as Role,
    joinedAtSeq: r.joined_at_seq,
    leftAtSeq: r.left_at_seq ?? null,
    deliveredThrough: r.delivered_through ?? 0n,
    readThrough: r.read_through ?? 0n,
  };
}

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
  if ("remove" in change) {
    await write(client, "UPDATE members USING TIMESTAMP ? SET left_at_seq = ? WHERE conversation_id = ? AND user_id = ?", [
      sequence,
      sequence,
      conversationId,
      change.remove,
    ]);
    return;
  }
  await mapLimited(change.add, writeConcurrency / 2, (m: { userId: string; role: Role }) =>
    Promise.all([
      write(
        client,
        "UPDATE members USING TIMESTAMP ? SET role = ?, joined_at_seq = ?, left_at_seq = null WHERE conversation_id = ? AND user_id = ?",
        [sequence, m.role, sequence, conversationId, m.userId],
      ),
      write(client, "INSERT INTO conversations_by_user (user_id, conversation_id) VALUES (?, ?) USING TIMESTAMP ?", [
        m.userId,
        conversationId,
        sequence,
      ]),
    ]),
  );
}

/** min and max of bigints. */
export const minOf = (a: bigint, b: bigint) => (a < b ? a : b);
export const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
