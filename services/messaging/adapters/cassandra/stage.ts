// The head partition of a conversation (conversation_heads): the Paxos-decided head in static
// columns, the stage rows of decided events, and how a stage row is completed. docs/cassandra.md
// gives the proof that this never leaves a hole and never allocates twice.
import type { ConversationEvent } from "../../../../gen/parley/v1/events_pb.js";
import { type CassandraClient, type Row, select, selectOne, write } from "../../../storage/cassandra/client.ts";
import type { GroupInfo, MembershipChange } from "../../ports.ts";
import { applyGroupState, decodeGroupStaging, type GroupStaging } from "./group-state.ts";
import { applyMembership, bucketOf, decodeEvent, decodeMembership, insertEvent } from "./rows.ts";

/**
 * The clustering key of the head's sentinel row: the top of the descending order, never deleted,
 * so a point read of it returns the static head without touching stage tombstones.
 */
export const sentinel = 9223372036854775807n;

export interface Head {
  lastSequence: bigint;
  /** Sequence of the last event appended, in epoch ms (listForUser's order). */
  lastActivity: number;
  /** Every stage row at or below it is complete and deleted: reads of the stage start above it. */
  completedThrough: bigint;
  /** The decided membership version (0 before any change): the compare-and-set of membership changes. */
  membershipVersion: bigint;
}

/** What a point read of the head also returns: the group's decided info and deletion. */
export interface HeadWithGroup extends Head {
  /** The info decided by the last GroupInfoChanged (undefined: as created, in `conversations`). */
  info: GroupInfo | undefined;
  deletedAt: number | null;
}

/** An event whose sequence is decided, with everything needed to complete it. */
export interface StageRow {
  sequence: bigint;
  keyed: boolean;
  senderUserId: string;
  clientMessageId: string;
  attempt: string;
  event: ConversationEvent;
  membership: MembershipChange | undefined;
  /** Set when the event changes the membership version: what completion writes to the members statics. */
  group: GroupStaging | undefined;
  stagedAt: number;
}

const toHead = (r: Row): Head | undefined =>
  r.last_sequence === null
    ? undefined
    : {
        lastSequence: r.last_sequence,
        lastActivity: Number(r.last_activity as bigint),
        completedThrough: r.completed_through ?? 0n,
        membershipVersion: r.membership_version ?? 0n,
      };

const toStage = (r: Row): StageRow => ({
  sequence: r.sequence,
  keyed: r.keyed,
  senderUserId: r.sender_user_id,
  clientMessageId: r.client_message_id,
  attempt: r.attempt,
  event: decodeEvent(r.payload),
  membership: decodeMembership(r.membership),
  group: decodeGroupStaging(r.group_change),
  stagedAt: Number(r.staged_at as bigint),
});

/** The head alone (one point read); undefined when the conversation has none. */
export async function readHead(client: CassandraClient, conversationId: string): Promise<HeadWithGroup | undefined> {
  const row = await selectOne(
    client,
    `SELECT sequence, last_sequence, last_activity, completed_through, membership_version, name, description, picture_ref,
            deleted_at FROM conversation_heads WHERE conversation_id = ? AND sequence = ?`,
    [conversationId, sentinel],
  );
  const head = row ? toHead(row) : undefined;
  if (!row || !head) return undefined;
  return {
    ...head,
    info:
      row.name === null ? undefined : { name: row.name, description: row.description ?? "", pictureRef: row.picture_ref ?? "" },
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at as bigint),
  };
}

/**
 * The head and every stage row from `from` up (one slice that also returns the sentinel, so the head
 * comes with it even when the stage is empty).
 */
export async function readStage(
  client: CassandraClient,
  conversationId: string,
  from: bigint,
): Promise<{ head: Head; stage: StageRow[] } | undefined> {
  const rows = await select(
    client,
    `SELECT last_sequence, last_activity, completed_through, membership_version, sequence, keyed, sender_user_id,
            client_message_id, attempt, payload, membership, group_change, staged_at
       FROM conversation_heads WHERE conversation_id = ? AND sequence >= ?`,
    [conversationId, from],
  );
  const head = rows[0] ? toHead(rows[0]) : undefined;
  if (!head) return undefined;
  // Ascending: completions of group changes must run in sequence order.
  const stage = rows
    .filter((r) => r.sequence !== sentinel && r.payload !== null)
    .map(toStage)
    .reverse();
  return { head, stage };
}

/**
 * Completes a decided event: membership change, then the group statics, then the event row, then
 * (for keyed sends) the idempotency row. The order makes "event visible" imply "membership and group
 * state applied" and "idempotency row present" imply "event visible". Every write is idempotent, so
 * owner, helpers and readers may all run it for the same row; rows that change the group are
 * completed in sequence order (the sequencer and readers see to it).
 */
export async function completeStage(client: CassandraClient, conversationId: string, row: StageRow): Promise<void> {
  if (row.membership) await applyMembership(client, conversationId, row.sequence, row.membership);
  if (row.group) await applyGroupState(client, conversationId, row.sequence, row.group);
  await insertEvent(client, row.event, row.attempt);
  if (row.keyed) {
    await write(
      client,
      "INSERT INTO message_ids (conversation_id, sender_user_id, client_message_id, sequence, attempt) VALUES (?, ?, ?, ?, ?)",
      [conversationId, row.senderUserId, row.clientMessageId, row.sequence, row.attempt],
    );
  }
}

/** Whether a stage row's last completion write is visible (then the row may be deleted). */
export async function isStageComplete(client: CassandraClient, conversationId: string, row: StageRow): Promise<boolean> {
  if (row.keyed) {
    const idem = await readMessageId(client, conversationId, row.senderUserId, row.clientMessageId);
    return idem?.sequence === row.sequence;
  }
  return (await readEventRow(client, conversationId, row.sequence)) !== undefined;
}

export async function readMessageId(client: CassandraClient, conversationId: string, sender: string, clientMessageId: string) {
  const row = await selectOne(
    client,
    "SELECT sequence, attempt FROM message_ids WHERE conversation_id = ? AND sender_user_id = ? AND client_message_id = ?",
    [conversationId, sender, clientMessageId],
  );
  return row ? { sequence: row.sequence as bigint, attempt: row.attempt as string } : undefined;
}

export async function readEventRow(client: CassandraClient, conversationId: string, sequence: bigint) {
  const row = await selectOne(
    client,
    "SELECT attempt, payload FROM events WHERE conversation_id = ? AND bucket = ? AND sequence = ?",
    [conversationId, bucketOf(sequence), sequence],
  );
  return row ? { attempt: row.attempt as string, event: decodeEvent(row.payload) } : undefined;
}
