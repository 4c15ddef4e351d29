// Presence privacy settings on the embedded SQLite store (presence_settings, schema in
// services/storage/sqlite-migrations/devices.ts).
import type { DatabaseSync } from "node:sqlite";
import { prepared } from "../../storage/sqlite.ts";
import { defaultVisibility, type PresenceSettingsStore, type Visibility } from "../ports.ts";

export class SqlitePresenceSettingsStore implements PresenceSettingsStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async visibility(userIds: string[]) {
    const stmt = prepared(this.#db, "SELECT visibility FROM presence_settings WHERE user_id = ?");
    const found = new Map<string, Visibility>();
    for (const userId of userIds) {
      const row = stmt.get(userId) as { visibility: Visibility } | undefined;
      found.set(userId, row?.visibility ?? defaultVisibility);
    }
    return found;
  }

  async setVisibility(userId: string, visibility: Visibility, at: number) {
    prepared(
      this.#db,
      `INSERT INTO presence_settings (user_id, visibility, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET visibility = excluded.visibility, updated_at = excluded.updated_at`,
    ).run(userId, visibility, at);
  }
}
