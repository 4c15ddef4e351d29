// Push stores on Cassandra (schema: services/storage/cassandra/migrations/005-push.cql). Plain
// prepared upserts, except removing a token only if it is still the one a provider rejected,
// which is a lightweight transaction (rare: it happens on a provider's "unregistered" answer).
import { type Clock, systemClock } from "../../shared/clock.ts";
import {
  type CassandraClient,
  conditional,
  mapLimited,
  type Row,
  select,
  selectOne,
  write,
} from "../../storage/cassandra/client.ts";
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

const num = (value: unknown) => Number(value as bigint);

export class CassandraPushDeviceStore implements PushDeviceStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async register(userId: string, deviceId: string, token: PushToken, at: number): Promise<void> {
    await write(
      this.#client,
      "UPDATE push_devices SET provider = ?, push_token = ?, registered_at = ? WHERE user_id = ? AND device_id = ?",
      [token.provider, encodeToken(token), BigInt(at), userId, deviceId],
    );
  }

  async unregister(userId: string, deviceId: string, onlyIf?: PushToken): Promise<boolean> {
    const clear =
      "UPDATE push_devices SET provider = null, push_token = null, registered_at = null WHERE user_id = ? AND device_id = ?";
    if (onlyIf) {
      const result = await conditional(this.#client, `${clear} IF push_token = ?`, [userId, deviceId, encodeToken(onlyIf)]);
      return result.applied;
    }
    const row = await selectOne(this.#client, "SELECT push_token FROM push_devices WHERE user_id = ? AND device_id = ?", [
      userId,
      deviceId,
    ]);
    if (!row?.push_token) return false;
    await write(this.#client, clear, [userId, deviceId]);
    return true;
  }

  async setPreferences(userId: string, deviceId: string, p: DevicePreferences): Promise<void> {
    await write(this.#client, "UPDATE push_devices SET enabled = ?, show_previews = ? WHERE user_id = ? AND device_id = ?", [
      p.enabled,
      p.showPreviews,
      userId,
      deviceId,
    ]);
  }

  async devicesOf(userIds: string[]): Promise<PushDevice[]> {
    const perUser = await mapLimited([...new Set(userIds)], 32, (userId) =>
      select(this.#client, "SELECT * FROM push_devices WHERE user_id = ?", [userId]),
    );
    return perUser.flat().map(toDevice);
  }

  async forget(userId: string, deviceId: string): Promise<void> {
    await write(this.#client, "DELETE FROM push_devices WHERE user_id = ? AND device_id = ?", [userId, deviceId]);
  }
}

function toDevice(r: Row): PushDevice {
  const token = r.provider && r.push_token ? decodeToken(r.provider, r.push_token) : null;
  return {
    userId: r.user_id,
    deviceId: r.device_id,
    token,
    registeredAt: token && r.registered_at !== null ? num(r.registered_at) : null,
    // A row written only by register has no preferences yet: the defaults apply.
    preferences: { enabled: r.enabled ?? true, showPreviews: r.show_previews ?? true },
  };
}

export class CassandraConversationSettingStore implements ConversationSettingStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async set(s: ConversationSetting): Promise<void> {
    const forever = s.mutedUntil === Number.POSITIVE_INFINITY;
    await write(
      this.#client,
      "INSERT INTO push_conversation_settings (conversation_id, user_id, level, muted_until, muted_forever) VALUES (?, ?, ?, ?, ?)",
      [s.conversationId, s.userId, s.level, forever || s.mutedUntil === null ? null : BigInt(s.mutedUntil), forever],
    );
  }

  async forConversation(conversationId: string): Promise<Map<string, ConversationSetting>> {
    const rows = await select(this.#client, "SELECT * FROM push_conversation_settings WHERE conversation_id = ?", [
      conversationId,
    ]);
    return new Map(
      rows.map((r) => [
        r.user_id as string,
        {
          conversationId,
          userId: r.user_id,
          level: r.level as NotificationLevel,
          mutedUntil: r.muted_forever ? Number.POSITIVE_INFINITY : r.muted_until === null ? null : num(r.muted_until),
        },
      ]),
    );
  }
}

export class CassandraPushOutbox implements PushOutbox {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async add(e: OutboxEntry): Promise<void> {
    await write(
      this.#client,
      "INSERT INTO push_outbox (user_id, created_at, push_id, device_id, provider, notification) VALUES (?, ?, ?, ?, ?, ?)",
      [e.userId, BigInt(e.createdAt), e.pushId, e.deviceId, e.provider, encodeNotification(e.notification)],
    );
  }

  async listForUser(userId: string, limit: number): Promise<OutboxEntry[]> {
    const result = await this.#client.execute("SELECT * FROM push_outbox WHERE user_id = ? LIMIT ?", [userId, limit], {
      prepare: true,
    });
    return result.rows.map((r) => ({
      pushId: r.push_id,
      userId: r.user_id,
      deviceId: r.device_id,
      provider: r.provider as ProviderName,
      notification: decodeNotification(r.notification),
      createdAt: num(r.created_at),
    }));
  }
}

const dayMs = 24 * 60 * 60 * 1000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class CassandraDeadLetterStore implements DeadLetterStore {
  readonly #client: CassandraClient;
  readonly #clock: Clock;
  constructor(client: CassandraClient, options: { clock?: Clock } = {}) {
    this.#client = client;
    this.#clock = options.clock ?? systemClock;
  }

  async add(l: DeadLetter): Promise<void> {
    await write(
      this.#client,
      `INSERT INTO push_dead_letters (day, failed_at, push_id, user_id, device_id, provider, notification, attempts, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        dayOf(l.failedAt),
        BigInt(l.failedAt),
        l.pushId,
        l.userId,
        l.deviceId,
        l.provider,
        encodeNotification(l.notification),
        l.attempts,
        l.lastError,
      ],
    );
  }

  /** Walks the day partitions from today back to `since`'s day (at most the 30 days kept). */
  async list(since: number, limit: number): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    const first = Math.max(since, this.#clock.now() - 31 * dayMs);
    for (let day = this.#clock.now() + dayMs; letters.length < limit && dayOf(day) >= dayOf(first); day -= dayMs) {
      const result = await this.#client.execute(
        "SELECT * FROM push_dead_letters WHERE day = ? AND failed_at >= ? LIMIT ?",
        [dayOf(day), BigInt(since), limit - letters.length],
        { prepare: true },
      );
      for (const r of result.rows) {
        letters.push({
          pushId: r.push_id,
          userId: r.user_id,
          deviceId: r.device_id,
          provider: r.provider as ProviderName,
          notification: decodeNotification(r.notification),
          attempts: r.attempts,
          lastError: r.last_error,
          failedAt: num(r.failed_at),
        });
      }
    }
    return letters;
  }
}
