// Device linking on the embedded SQLite store: link tokens (schema in
// services/storage/sqlite-migrations/devices.ts) and the start cursors of a from-link device.
import type { DatabaseSync } from "node:sqlite";
import { prepared, transaction } from "../../storage/sqlite.ts";
import type { HistoryPolicyName, HistoryStart, LinkTokenRecord, LinkTokenStore } from "../ports.ts";

type Row = Record<string, unknown>;

/** Expired tokens are kept this long (so they answer "expired", not "unknown"), then deleted. */
const keepExpiredMs = 60 * 60_000;

export class SqliteLinkTokenStore implements LinkTokenStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async put(r: LinkTokenRecord) {
    // Each new token sweeps the long-expired ones (an index range, usually empty).
    prepared(this.#db, "DELETE FROM link_tokens WHERE expires_at < ?").run(r.createdAt - keepExpiredMs);
    prepared(
      this.#db,
      `INSERT INTO link_tokens (token_hash, user_id, created_by_device_id, history, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(r.tokenHash, r.userId, r.createdByDeviceId, r.history, r.createdAt, r.expiresAt);
  }

  async spend(tokenHash: string, at: number) {
    return transaction(this.#db, () => {
      const row = prepared(this.#db, "SELECT * FROM link_tokens WHERE token_hash = ?").get(tokenHash) as Row | undefined;
      if (!row) return undefined;
      // Inside one transaction nothing interleaves: only the first spender sees spent_at NULL.
      const updated = prepared(this.#db, "UPDATE link_tokens SET spent_at = ? WHERE token_hash = ? AND spent_at IS NULL").run(
        at,
        tokenHash,
      );
      const record: LinkTokenRecord = {
        tokenHash,
        userId: row.user_id as string,
        createdByDeviceId: row.created_by_device_id as string,
        history: row.history as HistoryPolicyName,
        createdAt: row.created_at as number,
        expiresAt: row.expires_at as number,
      };
      return { record, alreadySpent: updated.changes === 0 };
    });
  }
}

/**
 * Writes the new device's cursors at the current end of each of the user's conversations (at the
 * removal event for ones they left) into messaging's device_cursors table, in one statement; the
 * member's delivered watermark is not touched.
 */
export class SqliteHistoryStart implements HistoryStart {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async fromNow(userId: string, deviceId: string) {
    prepared(
      this.#db,
      `INSERT INTO device_cursors (device_id, conversation_id, sequence)
       SELECT ?, m.conversation_id, COALESCE(m.left_at_seq, c.last_sequence)
         FROM members m JOIN conversations c ON c.conversation_id = m.conversation_id
        WHERE m.user_id = ?
       ON CONFLICT (device_id, conversation_id) DO NOTHING`,
    ).run(deviceId, userId);
  }
}
