// Row mappings and the group-state writes shared by the messaging adapters on SQLite
// (schema in services/storage/migrations.ts and services/storage/sqlite-migrations/groups.ts).
import type { DatabaseSync } from "node:sqlite";
import { fromBinary } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../../../gen/parley/v1/events_pb.js";
import { eventBytes } from "../../../shared/event-bytes.ts";
import { LruMap } from "../../../shared/lru-map.ts";
import { prepared } from "../../../storage/sqlite.ts";
import {
  type ConversationRecord,
  defaultGroupSettings,
  type GroupChange,
  type GroupSettings,
  type GroupState,
  type MemberRecord,
  type MembershipChange,
  type Role,
} from "../../ports.ts";

export type Row = Record<string, unknown>;

const optionalNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export const toConversation = (r: Row): ConversationRecord => ({
  conversationId: r.conversation_id as string,
  kind: r.kind === 1 ? "direct" : "group",
  name: r.name as string,
  description: r.description as string,
  pictureRef: r.picture_ref as string,
  createdAt: r.created_at as number,
  lastSequence: BigInt(r.last_sequence as number),
  deletedAt: optionalNumber(r.deleted_at),
});

/** Settings are stored as JSON; missing keys (older rows, NULL) take the defaults. */
export function parseSettings(text: unknown): GroupSettings {
  if (typeof text !== "string") return defaultGroupSettings;
  // Every ack and send reads a seat, and a group's settings text rarely changes: parse it once.
  let settings = parsedSettings.get(text);
  if (!settings) {
    settings = Object.freeze({ ...defaultGroupSettings, ...(JSON.parse(text) as Partial<GroupSettings>) });
    parsedSettings.set(text, settings);
  }
  return settings;
}

const parsedSettings = new LruMap<string, GroupSettings>(256);

export const toGroupState = (r: Row): GroupState => ({
  membershipVersion: BigInt(r.membership_version as number),
  settings: parseSettings(r.settings),
  deletedAt: optionalNumber(r.deleted_at),
});

export const toMember = (r: Row): MemberRecord => ({
  conversationId: r.conversation_id as string,
  userId: r.user_id as string,
  role: r.role as Role,
  joinedAtSeq: BigInt(r.joined_at_seq as number),
  leftAtSeq: r.left_at_seq === null ? null : BigInt(r.left_at_seq as number),
  visibleFromSeq: BigInt((r.visible_from_seq ?? r.joined_at_seq) as number),
  banned: r.banned_at_seq !== null && r.banned_at_seq !== undefined,
  deliveredThrough: BigInt(r.delivered_through as number),
  readThrough: BigInt(r.read_through as number),
});

export const decode = (r: Row) => fromBinary(ConversationEventSchema, r.payload as Uint8Array);

export function insertEvent(db: DatabaseSync, event: ConversationEvent, clientMessageId: string | null) {
  insertEventRow(db, event.conversationId, event.sequence, event.senderUserId, clientMessageId, eventBytes(event));
}

/** The event's row from its parts, when the event is already bytes (the write thread). */
export function insertEventRow(
  db: DatabaseSync,
  conversationId: string,
  sequence: bigint,
  senderUserId: string,
  clientMessageId: string | null,
  payload: Uint8Array,
) {
  prepared(
    db,
    "INSERT INTO events (conversation_id, sequence, sender_user_id, client_message_id, payload) VALUES (?, ?, ?, ?, ?)",
  ).run(conversationId, sequence, senderUserId, clientMessageId, payload);
}

export function upsertMember(
  db: DatabaseSync,
  conversationId: string,
  userId: string,
  role: Role,
  joinedAt: bigint,
  visibleFrom: bigint,
) {
  prepared(
    db,
    `INSERT INTO members (conversation_id, user_id, role, joined_at_seq, visible_from_seq) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (conversation_id, user_id) DO UPDATE SET joined_at_seq = excluded.joined_at_seq, left_at_seq = NULL,
       role = excluded.role, visible_from_seq = excluded.visible_from_seq, banned_at_seq = NULL`,
  ).run(conversationId, userId, role, joinedAt, visibleFrom);
}

const setMember = (
  db: DatabaseSync,
  assignments: string,
  conversationId: string,
  userId: string,
  value: bigint | string | null,
) =>
  prepared(db, `UPDATE members SET ${assignments} WHERE conversation_id = ? AND user_id = ?`).run(value, conversationId, userId);

/** Applies the membership change of the event at `sequence` (inside the append's transaction). */
export function applyMembership(db: DatabaseSync, conversationId: string, sequence: bigint, change: MembershipChange) {
  if ("add" in change) {
    const visibleFrom = change.historyVisible ? 1n : sequence;
    for (const m of change.add) upsertMember(db, conversationId, m.userId, m.role, sequence, visibleFrom);
  } else if ("remove" in change) {
    // A former member keeps no role: there is exactly one owner among current members.
    setMember(db, "left_at_seq = ?, role = 'member'", conversationId, change.remove, sequence);
    if (change.ban) setMember(db, "banned_at_seq = ?", conversationId, change.remove, sequence);
    if (change.newOwner) setMember(db, "role = ?", conversationId, change.newOwner, "owner");
  } else if ("roles" in change) {
    for (const r of change.roles) setMember(db, "role = ?", conversationId, r.userId, r.role);
  } else if ("ban" in change) {
    setMember(db, "banned_at_seq = ?", conversationId, change.ban, sequence);
  } else {
    setMember(db, "banned_at_seq = ?", conversationId, change.unban, null);
  }
}

/** Applies a group change and the new membership version (inside the append's transaction). */
export function applyGroup(db: DatabaseSync, conversationId: string, change: GroupChange, version: bigint, at: number) {
  if (change.info) {
    prepared(db, "UPDATE conversations SET name = ?, description = ?, picture_ref = ? WHERE conversation_id = ?").run(
      change.info.name,
      change.info.description,
      change.info.pictureRef,
      conversationId,
    );
  }
  if (change.settings) {
    prepared(db, "UPDATE conversations SET settings = ? WHERE conversation_id = ?").run(
      JSON.stringify(change.settings),
      conversationId,
    );
  }
  if (change.deleted) prepared(db, "UPDATE conversations SET deleted_at = ? WHERE conversation_id = ?").run(at, conversationId);
  prepared(db, "UPDATE conversations SET membership_version = ? WHERE conversation_id = ?").run(version, conversationId);
}
