// Invite links, join requests and the retention of deleted groups on Cassandra (schema in
// services/storage/cassandra/migrations/003-groups.cql). Each invite_links and join_requests row is
// written only with LWTs, so the use counter is a compare-and-set and never races a plain write.
import {
  type CassandraClient,
  conditional,
  mapLimited,
  type Row,
  select,
  selectOne,
  write,
} from "../../../storage/cassandra/client.ts";
import { unusableAt } from "../../link-state.ts";
import type {
  ClaimOutcome,
  GroupRetention,
  InviteLinkRecord,
  InviteLinkStore,
  JoinRequestRecord,
  JoinRequestStore,
} from "../../ports.ts";
import { bucketOf, decodeEvent, writeConcurrency } from "./rows.ts";
import { readHead } from "./stage.ts";

const optionalNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v as bigint));

const toLink = (r: Row): InviteLinkRecord => ({
  code: r.code,
  conversationId: r.conversation_id,
  createdBy: r.created_by,
  createdAt: Number(r.created_at as bigint),
  expiresAt: optionalNumber(r.expires_at),
  maxUses: r.max_uses,
  uses: r.uses,
  revokedAt: optionalNumber(r.revoked_at),
});

const toRequest = (r: Row): JoinRequestRecord => ({
  conversationId: r.conversation_id,
  userId: r.user_id,
  code: r.code,
  requestedAt: Number(r.requested_at as bigint),
});

/** Compare-and-set rounds before giving up (each lost round means another use was counted). */
const maxRounds = 100;

export class CassandraInviteLinkStore implements InviteLinkStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async create(link: InviteLinkRecord) {
    await conditional(
      this.#client,
      `INSERT INTO invite_links (code, conversation_id, created_by, created_at, expires_at, max_uses, uses, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [
        link.code,
        link.conversationId,
        link.createdBy,
        BigInt(link.createdAt),
        link.expiresAt === null ? null : BigInt(link.expiresAt),
        link.maxUses,
        link.uses,
        link.revokedAt === null ? null : BigInt(link.revokedAt),
      ],
    );
    await write(this.#client, "INSERT INTO invite_links_by_conversation (conversation_id, code) VALUES (?, ?)", [
      link.conversationId,
      link.code,
    ]);
  }

  async find(code: string) {
    const row = await selectOne(this.#client, "SELECT * FROM invite_links WHERE code = ?", [code]);
    return row ? toLink(row) : undefined;
  }

  async list(conversationId: string) {
    const codes = await select(this.#client, "SELECT code FROM invite_links_by_conversation WHERE conversation_id = ?", [
      conversationId,
    ]);
    const links = await mapLimited(codes, writeConcurrency, (r) => this.find(r.code as string));
    return links
      .filter((l): l is InviteLinkRecord => l !== undefined)
      .sort((a, b) => b.createdAt - a.createdAt || (a.code < b.code ? -1 : 1));
  }

  async revoke(code: string, at: number) {
    await conditional(
      this.#client,
      "UPDATE invite_links SET revoked_at = ? WHERE code = ? IF conversation_id != null AND revoked_at = null",
      [BigInt(at), code],
    );
    return this.find(code);
  }

  async claim(code: string, now: number): Promise<ClaimOutcome> {
    let link = await this.find(code);
    for (let round = 0; round < maxRounds; round++) {
      if (!link) return "missing";
      const why = unusableAt(link, now);
      if (why) return why;
      const result = await conditional(
        this.#client,
        "UPDATE invite_links SET uses = ? WHERE code = ? IF uses = ? AND revoked_at = null",
        [link.uses + 1, code, link.uses],
      );
      if (result.applied) return "claimed";
      // The failed LWT answers with the current row; go again from it.
      link =
        result.current && result.current.uses !== undefined ? { ...link, ...currentOf(result.current) } : await this.find(code);
    }
    throw new Error(`invite link ${code}: no use claimed after ${maxRounds} rounds`);
  }

  async release(code: string) {
    let link = await this.find(code);
    for (let round = 0; link && link.uses > 0 && round < maxRounds; round++) {
      const result = await conditional(this.#client, "UPDATE invite_links SET uses = ? WHERE code = ? IF uses = ?", [
        link.uses - 1,
        code,
        link.uses,
      ]);
      if (result.applied) return;
      link = await this.find(code);
    }
  }
}

const currentOf = (r: Row) => ({ uses: r.uses as number, revokedAt: optionalNumber(r.revoked_at) });

export class CassandraJoinRequestStore implements JoinRequestStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async put(request: JoinRequestRecord) {
    const result = await conditional(
      this.#client,
      "INSERT INTO join_requests (conversation_id, user_id, code, requested_at) VALUES (?, ?, ?, ?) IF NOT EXISTS",
      [request.conversationId, request.userId, request.code, BigInt(request.requestedAt)],
    );
    if (result.applied || !result.current) return { request, created: result.applied };
    return { request: toRequest(result.current), created: false };
  }

  async find(conversationId: string, userId: string) {
    const row = await selectOne(this.#client, "SELECT * FROM join_requests WHERE conversation_id = ? AND user_id = ?", [
      conversationId,
      userId,
    ]);
    return row ? toRequest(row) : undefined;
  }

  async list(conversationId: string) {
    const rows = await select(this.#client, "SELECT * FROM join_requests WHERE conversation_id = ?", [conversationId]);
    return rows.map(toRequest).sort((a, b) => a.requestedAt - b.requestedAt || (a.userId < b.userId ? -1 : 1));
  }

  async remove(conversationId: string, userId: string) {
    const result = await conditional(
      this.#client,
      "DELETE FROM join_requests WHERE conversation_id = ? AND user_id = ? IF EXISTS",
      [conversationId, userId],
    );
    return result.applied;
  }
}

/**
 * Purging deletes with the wall clock's timestamp, which shadows every cell written USING TIMESTAMP
 * <sequence> for good: conversation ids are never reused, so nothing should come back. Device cursors
 * (partitioned by device) are left: they hold a device id, this conversation id and a sequence.
 */
export class CassandraGroupRetention implements GroupRetention {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async deletedBefore(cutoff: number, limit: number) {
    const rows = await select(this.#client, "SELECT conversation_id, deleted_at FROM deleted_conversations WHERE shard = 0", []);
    return rows
      .filter((r) => Number(r.deleted_at as bigint) < cutoff)
      .sort((a, b) => Number((a.deleted_at as bigint) - (b.deleted_at as bigint)))
      .slice(0, limit)
      .map((r) => r.conversation_id as string);
  }

  async purge(conversationId: string) {
    const c = this.#client;
    const id = [conversationId];
    const head = await readHead(c, conversationId);
    // The log, and the idempotency rows its messages name (their keys are only known from the events).
    for (let bucket = 0n; head && bucket <= bucketOf(head.lastSequence); bucket++) {
      const rows = await select(c, "SELECT payload FROM events WHERE conversation_id = ? AND bucket = ?", [
        conversationId,
        bucket,
      ]);
      await mapLimited(rows, writeConcurrency, async (r) => {
        const event = decodeEvent(r.payload);
        if (event.body.case !== "message") return;
        await write(c, "DELETE FROM message_ids WHERE conversation_id = ? AND sender_user_id = ? AND client_message_id = ?", [
          conversationId,
          event.senderUserId,
          event.body.value.clientMessageId,
        ]);
      });
      await write(c, "DELETE FROM events WHERE conversation_id = ? AND bucket = ?", [conversationId, bucket]);
    }
    const members = await select(c, "SELECT user_id FROM members WHERE conversation_id = ?", id);
    await mapLimited(members, writeConcurrency, (m) =>
      write(c, "DELETE FROM conversations_by_user WHERE user_id = ? AND conversation_id = ?", [m.user_id, conversationId]),
    );
    const links = await select(c, "SELECT code FROM invite_links_by_conversation WHERE conversation_id = ?", id);
    await mapLimited(links, writeConcurrency, (l) =>
      conditional(c, "DELETE FROM invite_links WHERE code = ? IF EXISTS", [l.code]),
    );
    const row = await selectOne(c, "SELECT creation_key FROM conversations WHERE conversation_id = ?", id);
    if (row?.creation_key) {
      await conditional(c, "DELETE FROM conversation_keys WHERE key_kind = 'creation' AND key_value = ? IF EXISTS", [
        row.creation_key,
      ]);
    }
    for (const table of ["invite_links_by_conversation", "join_requests", "members", "conversation_heads", "conversations"]) {
      await write(c, `DELETE FROM ${table} WHERE conversation_id = ?`, id);
    }
    await write(c, "DELETE FROM deleted_conversations WHERE shard = 0 AND conversation_id = ?", id);
  }
}
