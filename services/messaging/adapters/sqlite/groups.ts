// Invite links, join requests and the retention of deleted groups on the embedded SQLite store.
import type { DatabaseSync } from "node:sqlite";
import { prepared, transaction } from "../../../storage/sqlite.ts";
import { unusableAt } from "../../link-state.ts";
import type {
  ClaimOutcome,
  GroupRetention,
  InviteLinkRecord,
  InviteLinkStore,
  JoinRequestRecord,
  JoinRequestStore,
} from "../../ports.ts";
import type { Row } from "./rows.ts";

const toLink = (r: Row): InviteLinkRecord => ({
  code: r.code as string,
  conversationId: r.conversation_id as string,
  createdBy: r.created_by as string,
  createdAt: r.created_at as number,
  expiresAt: (r.expires_at as number | null) ?? null,
  maxUses: r.max_uses as number,
  uses: r.uses as number,
  revokedAt: (r.revoked_at as number | null) ?? null,
});

const toRequest = (r: Row): JoinRequestRecord => ({
  conversationId: r.conversation_id as string,
  userId: r.user_id as string,
  code: r.code as string,
  requestedAt: r.requested_at as number,
});

export class SqliteInviteLinkStore implements InviteLinkStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async create(link: InviteLinkRecord) {
    prepared(
      this.#db,
      `INSERT INTO invite_links (code, conversation_id, created_by, created_at, expires_at, max_uses, uses, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      link.code,
      link.conversationId,
      link.createdBy,
      link.createdAt,
      link.expiresAt,
      link.maxUses,
      link.uses,
      link.revokedAt,
    );
  }

  async find(code: string) {
    const r = prepared(this.#db, "SELECT * FROM invite_links WHERE code = ?").get(code) as Row | undefined;
    return r ? toLink(r) : undefined;
  }

  async list(conversationId: string) {
    const rows = prepared(this.#db, "SELECT * FROM invite_links WHERE conversation_id = ? ORDER BY created_at DESC, code").all(
      conversationId,
    ) as Row[];
    return rows.map(toLink);
  }

  async revoke(code: string, at: number) {
    const r = prepared(this.#db, "UPDATE invite_links SET revoked_at = COALESCE(revoked_at, ?) WHERE code = ? RETURNING *").get(
      at,
      code,
    ) as Row | undefined;
    return r ? toLink(r) : undefined;
  }

  async claim(code: string, now: number): Promise<ClaimOutcome> {
    return transaction(this.#db, () => {
      const r = prepared(this.#db, "SELECT * FROM invite_links WHERE code = ?").get(code) as Row | undefined;
      if (!r) return "missing";
      const why = unusableAt(toLink(r), now);
      if (why) return why;
      prepared(this.#db, "UPDATE invite_links SET uses = uses + 1 WHERE code = ?").run(code);
      return "claimed";
    });
  }

  async release(code: string) {
    prepared(this.#db, "UPDATE invite_links SET uses = MAX(uses - 1, 0) WHERE code = ?").run(code);
  }
}

export class SqliteJoinRequestStore implements JoinRequestStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async put(request: JoinRequestRecord) {
    return transaction(this.#db, () => {
      const inserted = prepared(
        this.#db,
        `INSERT INTO join_requests (conversation_id, user_id, code, requested_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING *`,
      ).get(request.conversationId, request.userId, request.code, request.requestedAt) as Row | undefined;
      if (inserted) return { request: toRequest(inserted), created: true };
      const pending = prepared(this.#db, "SELECT * FROM join_requests WHERE conversation_id = ? AND user_id = ?").get(
        request.conversationId,
        request.userId,
      ) as Row;
      return { request: toRequest(pending), created: false };
    });
  }

  async find(conversationId: string, userId: string) {
    const r = prepared(this.#db, "SELECT * FROM join_requests WHERE conversation_id = ? AND user_id = ?").get(
      conversationId,
      userId,
    ) as Row | undefined;
    return r ? toRequest(r) : undefined;
  }

  async list(conversationId: string) {
    const rows = prepared(this.#db, "SELECT * FROM join_requests WHERE conversation_id = ? ORDER BY requested_at, user_id").all(
      conversationId,
    ) as Row[];
    return rows.map(toRequest);
  }

  async remove(conversationId: string, userId: string) {
    const r = prepared(this.#db, "DELETE FROM join_requests WHERE conversation_id = ? AND user_id = ? RETURNING user_id").get(
      conversationId,
      userId,
    );
    return r !== undefined;
  }
}

export class SqliteGroupRetention implements GroupRetention {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async deletedBefore(cutoff: number, limit: number) {
    const rows = prepared(
      this.#db,
      "SELECT conversation_id FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at LIMIT ?",
    ).all(cutoff, limit) as Row[];
    return rows.map((r) => r.conversation_id as string);
  }

  async purge(conversationId: string) {
    transaction(this.#db, () => {
      for (const table of ["events", "join_requests", "invite_links", "device_cursors", "members", "conversations"]) {
        prepared(this.#db, `DELETE FROM ${table} WHERE conversation_id = ?`).run(conversationId);
      }
    });
  }
}
