// The messaging store's hot writes (appends and receipt watermarks) as plain functions of a
// connection, so the same code commits on the serving connection's group commit or in the write
// thread (services/storage/write-thread.ts), which imports this module by its URL.
import type { DatabaseSync } from "node:sqlite";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { conversationNotFound } from "../../../shared/errors.ts";
import { eventBytes, withSequence } from "../../../shared/event-bytes.ts";
import type { Logger } from "../../../shared/logger.ts";
import { groupCommitFor } from "../../../storage/group-commit.ts";
import { prepared, type SyncMode } from "../../../storage/sqlite.ts";
import { type OperationArgs, startWriteThread, type WriteThread } from "../../../storage/write-thread.ts";
import { membershipVersionConflict } from "../../group-errors.ts";
import { type AppendInput, type AppendResult, bumpsVersion, type GroupChange, type MembershipChange } from "../../ports.ts";
import { applyGroup, applyMembership, decode, insertEvent, insertEventRow, type Row } from "./rows.ts";

export interface Watermarks {
  changed: boolean;
  deliveredThrough: bigint;
  readThrough: bigint;
}

/** What an append stores besides the event itself. */
interface AppendRow {
  conversationId: string;
  senderUserId: string;
  clientMessageId?: string;
  expectedMembershipVersion?: bigint;
  membership?: MembershipChange;
  group?: GroupChange;
  sentAtMs: number;
}

/** An append as the write thread takes it: the event already encoded, without its sequence. */
export interface EncodedAppend extends AppendRow {
  unsequenced: Uint8Array;
}

/** A duplicate's stored bytes, or the sequence the event was stored at. */
export type AppendedRow = { prior: Uint8Array } | { sequence: bigint };

/** The append's checks, its sequence, the event's row (written by `store`) and any group change. */
function appendRow(db: DatabaseSync, row: AppendRow, store: (sequence: bigint) => void): AppendedRow {
  if (row.clientMessageId !== undefined) {
    const prior = prepared(
      db,
      "SELECT payload FROM events WHERE conversation_id = ? AND sender_user_id = ? AND client_message_id = ?",
    ).get(row.conversationId, row.senderUserId, row.clientMessageId) as Row | undefined;
    if (prior) return { prior: prior.payload as Uint8Array };
  }
  const at = Math.floor(row.sentAtMs);
  // The sequence and the version check in one statement; a conflict throws and the
  // transaction rolls the allocation back.
  const allocated = prepared(
    db,
    `UPDATE conversations SET last_sequence = last_sequence + 1, last_activity = ? WHERE conversation_id = ?
       RETURNING last_sequence, membership_version`,
  ).get(at, row.conversationId) as Row | undefined;
  if (!allocated) throw conversationNotFound();
  const version = BigInt(allocated.membership_version as number);
  if (row.expectedMembershipVersion !== undefined && row.expectedMembershipVersion !== version) {
    throw membershipVersionConflict();
  }
  const sequence = BigInt(allocated.last_sequence as number);
  store(sequence);
  if (row.membership) applyMembership(db, row.conversationId, sequence, row.membership);
  const next = bumpsVersion(row) ? version + 1n : version;
  if (row.group || next !== version) applyGroup(db, row.conversationId, row.group ?? {}, next, at);
  return { sequence };
}

const rowOf = (input: AppendInput, sentAtMs: number): AppendRow => ({
  conversationId: input.conversationId,
  senderUserId: input.event.senderUserId,
  clientMessageId: input.clientMessageId,
  expectedMembershipVersion: input.expectedMembershipVersion,
  membership: input.membership,
  group: input.group,
  sentAtMs,
});

const millisOf = (at: Timestamp) => Number(at.seconds) * 1000 + at.nanos / 1e6;

/** On the serving connection: the event object is stored and its bytes kept for the fanout. */
function append(db: DatabaseSync, input: AppendInput): AppendResult {
  const sentAtMs = input.event.sentAt ? millisOf(input.event.sentAt) : Date.now();
  const event = clone(ConversationEventSchema, input.event);
  event.conversationId = input.conversationId;
  event.sentAt ??= timestampFromMs(sentAtMs);
  const row = appendRow(db, rowOf(input, sentAtMs), (sequence) => {
    event.sequence = sequence;
    insertEvent(db, event, input.clientMessageId ?? null);
  });
  return "prior" in row ? { event: decode({ payload: row.prior }), duplicate: true } : { event, duplicate: false };
}

/** In the write thread: the bytes get their sequence and are stored as they are. */
function appendEncoded(db: DatabaseSync, input: EncodedAppend): AppendedRow {
  return appendRow(db, input, (sequence) =>
    insertEventRow(
      db,
      input.conversationId,
      sequence,
      input.senderUserId,
      input.clientMessageId ?? null,
      withSequence(input.unsequenced, sequence),
    ),
  );
}

/**
 * The thread's side of an append, done on the serving thread: the event is encoded here once
 * (the fanout frames these same bytes), and only the bytes cross to the thread and only the
 * sequence comes back; objects of many parts cost more to clone across threads than to encode.
 */
async function appendThrough(thread: WriteThread<MessagingOperations>, input: AppendInput): Promise<AppendResult> {
  const sentAt = input.event.sentAt ?? timestampNow();
  // A copy of the caller's event with the store's fields; its parts are shared, and nothing
  // changes an event once it is published.
  const event: ConversationEvent = { ...input.event, conversationId: input.conversationId, sentAt, sequence: 0n };
  const unsequenced = toBinary(ConversationEventSchema, event);
  const row = await thread.call("appendEncoded", [Object.assign(rowOf(input, millisOf(sentAt)), { unsequenced })]);
  if ("prior" in row) return { event: fromBinary(ConversationEventSchema, row.prior), duplicate: true };
  event.sequence = row.sequence;
  eventBytes.remember(event, withSequence(unsequenced, row.sequence));
  return { event, duplicate: false };
}

function advanceDelivered(db: DatabaseSync, conversationId: string, userId: string, deviceId: string, through: bigint) {
  // The watermark's read comes first: a missing member throws before anything is written.
  const raised = raise(db, conversationId, userId, through, "delivered");
  prepared(
    db,
    `INSERT INTO device_cursors (device_id, conversation_id, sequence) VALUES (?, ?, ?)
     ON CONFLICT (device_id, conversation_id) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)`,
  ).run(deviceId, conversationId, through);
  return raised;
}

function advanceRead(db: DatabaseSync, conversationId: string, userId: string, through: bigint) {
  return raise(db, conversationId, userId, through, "read");
}

/**
 * Raises the watermarks in one statement when they move (the common case: every ack of a new
 * event); only when nothing moved is the row read, to answer with its current values.
 */
function raise(
  db: DatabaseSync,
  conversationId: string,
  userId: string,
  through: bigint,
  kind: "delivered" | "read",
): Watermarks {
  const raised = prepared(
    db,
    kind === "delivered"
      ? `UPDATE members SET delivered_through = $through
           WHERE conversation_id = $conversation AND user_id = $user AND delivered_through < $through
           RETURNING delivered_through, read_through`
      : `UPDATE members SET read_through = MAX(read_through, $through), delivered_through = MAX(delivered_through, $through)
           WHERE conversation_id = $conversation AND user_id = $user AND (read_through < $through OR delivered_through < $through)
           RETURNING delivered_through, read_through`,
  ).get({ through, conversation: conversationId, user: userId }) as Row | undefined;
  const row =
    raised ??
    (prepared(db, "SELECT delivered_through, read_through FROM members WHERE conversation_id = ? AND user_id = ?").get(
      conversationId,
      userId,
    ) as Row | undefined);
  if (!row) throw conversationNotFound();
  return {
    changed: raised !== undefined,
    deliveredThrough: BigInt(row.delivered_through as number),
    readThrough: BigInt(row.read_through as number),
  };
}

/** What the write thread runs (its worker imports this module and looks this export up). */
export const operations = { appendEncoded, advanceDelivered, advanceRead };
type MessagingOperations = typeof operations;

/**
 * The hot writes as the stores call them. "now": a send waits on it. "bulk": receipts, which
 * nobody waits on to see a message, commit after the turn's sends.
 */
export interface MessagingWrites {
  append(input: AppendInput): Promise<AppendResult>;
  advanceDelivered(conversationId: string, userId: string, deviceId: string, through: bigint): Promise<Watermarks>;
  advanceRead(conversationId: string, userId: string, through: bigint): Promise<Watermarks>;
}

/** On the serving connection: a turn's writes share one transaction (group commit). */
export function inlineWrites(db: DatabaseSync): MessagingWrites {
  const commit = groupCommitFor(db);
  return {
    append: (input) => commit(() => append(db, input)),
    advanceDelivered: (...args) => commit(() => advanceDelivered(db, ...args), "bulk"),
    advanceRead: (...args) => commit(() => advanceRead(db, ...args), "bulk"),
  };
}

export type MessagingWriteThread = WriteThread<MessagingOperations> & MessagingWrites;

/** In a thread of their own, on a second connection to the database file at `path`. */
export function threadWrites(options: {
  path: string;
  sync: SyncMode;
  logger: Logger;
  onRestart?: () => void;
  onBatch?: (calls: number) => void;
}): MessagingWriteThread {
  const thread = startWriteThread<MessagingOperations>({ ...options, operations: new URL(import.meta.url) });
  return Object.assign(thread, {
    append: (input: AppendInput) => appendThrough(thread, input),
    advanceDelivered: (...args: OperationArgs<MessagingOperations["advanceDelivered"]>) =>
      thread.call("advanceDelivered", args, "bulk"),
    advanceRead: (...args: OperationArgs<MessagingOperations["advanceRead"]>) => thread.call("advanceRead", args, "bulk"),
  });
}
