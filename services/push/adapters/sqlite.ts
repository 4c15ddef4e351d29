// Push stores on the embedded SQLite database (schema: services/storage/sqlite-migrations/push.ts).
import type { DatabaseSync } from "node:sqlite";
import { prepared } from "../../storage/sqlite.ts";
import { decodeNotification, decodeToken, encodeNotification, encodeToken } from "../codec.ts";
import type {
  ConversationSetting,
  ConversationSettingStore,
  DeadLetter,
  DeadLetterStore,
  DevicePreferences,
  NotificationLevel,
  OutboxEntry,
  ProviderName,
  PushDevice,
  PushDeviceStore,
  PushOutbox,
  PushToken,
} from "../ports.ts";

const day = 24 * 60 * 60 * 1000;
/** Outbox entries are a development aid: a week is plenty. */
export const outboxRetentionMs = 7 * day;
/** Dead letters wait this long for someone to look at them. */
export const deadLetterRetentionMs = 30 * day;

interface DeviceRow {
  device_id: string;
  user_id: string;
  provider: string | null;
  token: string | null;
  registered_at: number | null;
  enabled: number;
  show_previews: number;
}

export class SqlitePushDeviceStore implements PushDeviceStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async register(userId: string, deviceId: string, token: PushToken, at: number): Promise<void> {
    prepared(
      this.#db,
      `INSERT INTO push_devices (device_id, user_id, provider, token, registered_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET provider = excluded.provider, token = excluded.token,
         registered_at = excluded.registered_at`,
    ).run(deviceId, userId, token.provider, encodeToken(token), at);
  }

  async unregister(userId: string, deviceId: string, onlyIf?: PushToken): Promise<boolean> {
    const sql = onlyIf
      ? "UPDATE push_devices SET provider = NULL, token = NULL, registered_at = NULL WHERE device_id = ? AND user_id = ? AND provider = ? AND token = ?"
      : "UPDATE push_devices SET provider = NULL, token = NULL, registered_at = NULL WHERE device_id = ? AND user_id = ? AND token IS NOT NULL";
    const params = onlyIf ? [deviceId, userId, onlyIf.provider, encodeToken(onlyIf)] : [deviceId, userId];
    return Number(prepared(this.#db, sql).run(...params).changes) > 0;
  }

  async setPreferences(userId: string, deviceId: string, preferences: DevicePreferences): Promise<void> {
    prepared(
      this.#db,
      `INSERT INTO push_devices (device_id, user_id, enabled, show_previews) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET enabled = excluded.enabled, show_previews = excluded.show_previews`,
    ).run(deviceId, userId, preferences.enabled ? 1 : 0, preferences.showPreviews ? 1 : 0);
  }

  async devicesOf(userIds: string[]): Promise<PushDevice[]> {
    if (userIds.length === 0) return [];
    // One statement for every recipient of a message (a group's worth), not one per user.
    const rows = prepared(this.#db, "SELECT * FROM push_devices WHERE user_id IN (SELECT DISTINCT value FROM json_each(?))").all(
      JSON.stringify(userIds),
    ) as unknown as DeviceRow[];
    return rows.map(toDevice);
  }

  async forget(userId: string, deviceId: string): Promise<void> {
    prepared(this.#db, "DELETE FROM push_devices WHERE device_id = ? AND user_id = ?").run(deviceId, userId);
  }
}

function toDevice(row: DeviceRow): PushDevice {
  const token = row.provider && row.token ? decodeToken(row.provider, row.token) : null;
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    token,
    registeredAt: token ? row.registered_at : null,
    preferences: { enabled: row.enabled === 1, showPreviews: row.show_previews === 1 },
  };
}

export class SqliteConversationSettingStore implements ConversationSettingStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async set(s: ConversationSetting): Promise<void> {
    const forever = s.mutedUntil === Number.POSITIVE_INFINITY;
    prepared(
      this.#db,
      `INSERT INTO push_conversation_settings (conversation_id, user_id, level, muted_until, muted_forever) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET level = excluded.level, muted_until = excluded.muted_until,
         muted_forever = excluded.muted_forever`,
    ).run(s.conversationId, s.userId, s.level, forever ? null : s.mutedUntil, forever ? 1 : 0);
  }

  async forConversation(conversationId: string): Promise<Map<string, ConversationSetting>> {
    const rows = prepared(this.#db, "SELECT * FROM push_conversation_settings WHERE conversation_id = ?").all(conversationId) as {
      user_id: string;
      level: string;
      muted_until: number | null;
      muted_forever: number;
    }[];
    return new Map(
      rows.map((r) => [
        r.user_id,
        {
          conversationId,
          userId: r.user_id,
          level: r.level as NotificationLevel,
          mutedUntil: r.muted_forever === 1 ? Number.POSITIVE_INFINITY : r.muted_until,
        },
      ]),
    );
  }
}

export class SqlitePushOutbox implements PushOutbox {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async add(e: OutboxEntry): Promise<void> {
    prepared(
      this.#db,
      "INSERT OR IGNORE INTO push_outbox (push_id, user_id, device_id, provider, notification, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(e.pushId, e.userId, e.deviceId, e.provider, encodeNotification(e.notification), e.createdAt);
    prepared(this.#db, "DELETE FROM push_outbox WHERE created_at < ?").run(e.createdAt - outboxRetentionMs);
  }

  async listForUser(userId: string, limit: number): Promise<OutboxEntry[]> {
    const rows = prepared(
      this.#db,
      "SELECT * FROM push_outbox WHERE user_id = ? ORDER BY created_at DESC, push_id DESC LIMIT ?",
    ).all(userId, limit) as {
      push_id: string;
      user_id: string;
      device_id: string;
      provider: string;
      notification: string;
      created_at: number;
    }[];
    return rows.map((r) => ({
      pushId: r.push_id,
      userId: r.user_id,
      deviceId: r.device_id,
      provider: r.provider as ProviderName,
      notification: decodeNotification(r.notification),
      createdAt: r.created_at,
    }));
  }
}

export class SqliteDeadLetterStore implements DeadLetterStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async add(l: DeadLetter): Promise<void> {
    prepared(
      this.#db,
      `INSERT OR REPLACE INTO push_dead_letters (push_id, user_id, device_id, provider, notification, attempts, last_error, failed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(l.pushId, l.userId, l.deviceId, l.provider, encodeNotification(l.notification), l.attempts, l.lastError, l.failedAt);
    prepared(this.#db, "DELETE FROM push_dead_letters WHERE failed_at < ?").run(l.failedAt - deadLetterRetentionMs);
  }

  async list(since: number, limit: number): Promise<DeadLetter[]> {
    const rows = prepared(
      this.#db,
      "SELECT * FROM push_dead_letters WHERE failed_at >= ? ORDER BY failed_at DESC, push_id DESC LIMIT ?",
    ).all(since, limit) as {
      push_id: string;
      user_id: string;
      device_id: string;
      provider: string;
      notification: string;
      attempts: number;
      last_error: string;
      failed_at: number;
    }[];
    return rows.map((r) => ({
      pushId: r.push_id,
      userId: r.user_id,
      deviceId: r.device_id,
      provider: r.provider as ProviderName,
      notification: decodeNotification(r.notification),
      attempts: r.attempts,
      lastError: r.last_error,
      failedAt: r.failed_at,
    }));
  }
}
