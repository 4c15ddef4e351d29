// The messaging store's hot writes (appends and receipt watermarks) as plain functions of a
// connection, so the same code commits on the serving connection's group commit or in the write
// thread (services/storage/write-thread.ts), which imports this module by its URL.
import type { DatabaseSync } from "node:sqlite";
import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { conversationNotFound } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logger.ts";
import { groupCommitFor } from "../../../storage/group-commit.ts";
import { prepared, type SyncMode } from "../../../storage/sqlite.ts";
import { startWriteThread, type WriteThread } from "../../../storage/write-thread.ts";
import { membershipVersionConflict } from "../../group-errors.ts";
import { type AppendInput, type AppendResult, bumpsVersion } from "../../ports.ts";
import { applyGroup, applyMembership, decode, insertEvent, type Row } from "./rows.ts";

export interface Watermarks {
  changed: boolean;
  deliveredThrough: bigint;
  readThrough: bigint;
}

function append(db: DatabaseSync, input: AppendInput): AppendResult {
  if (input.clientMessageId !== undefined) {
    const prior = prepared(
      db,
      "SELECT payload FROM events WHERE conversation_id = ? AND sender_user_id = ? AND client_message_id = ?",
    ).get(input.conversationId, input.event.senderUserId, input.clientMessageId) as Row | undefined;
    if (prior) return { event: decode(prior), duplicate: true };
  }
  const sentAt = input.event.sentAt ? Number(input.event.sentAt.seconds) * 1000 + input.event.sentAt.nanos / 1e6 : Date.now();
  // The sequence and the version check in one statement; a conflict throws and the
  // transaction rolls the allocation back.
  const allocated = prepared(
    db,
    `UPDATE conversations SET last_sequence = last_sequence + 1, last_activity = ? WHERE conversation_id = ?
       RETURNING last_sequence, membership_version`,
  ).get(Math.floor(sentAt), input.conversationId) as Row | undefined;
  if (!allocated) throw conversationNotFound();
  const version = BigInt(allocated.membership_version as number);
  if (input.expectedMembershipVersion !== undefined && input.expectedMembershipVersion !== version) {
    throw membershipVersionConflict();
  }
  const event = clone(ConversationEventSchema, input.event);
  event.conversationId = input.conversationId;
  event.sequence = BigInt(allocated.last_sequence as number);
  event.sentAt ??= timestampFromMs(sentAt);
  insertEvent(db, event, input.clientMessageId ?? null);
  if (input.membership) applyMembership(db, input.conversationId, event.sequence, input.membership);
  const next = bumpsVersion(input) ? version + 1n : version;
  if (input.group || next !== version) applyGroup(db, input.conversationId, input.group ?? {}, next, Math.floor(sentAt));
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
export const operations = { append, advanceDelivered, advanceRead };
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
export function threadWrites(options: { path: string; sync: SyncMode; logger: Logger }): MessagingWriteThread {
  const thread = startWriteThread<MessagingOperations>({ ...options, operations: new URL(import.meta.url) });
  return Object.assign(thread, {
    append: (input: AppendInput) => thread.call("append", [input]),
    advanceDelivered: (...args: OperationArgsOf<"advanceDelivered">) => thread.call("advanceDelivered", args, "bulk"),
    advanceRead: (...args: OperationArgsOf<"advanceRead">) => thread.call("advanceRead", args, "bulk"),
  });
}

type OperationArgsOf<K extends keyof MessagingOperations> =
  Parameters<MessagingOperations[K]> extends [DatabaseSync, ...infer A] ? A : never;
