// Identity tables on the embedded SQLite store (schema in services/storage/migrations.ts).
import type { DatabaseSync } from "node:sqlite";
import { prepared } from "../../storage/sqlite.ts";
import type {
  DeviceRecord,
  DeviceStore,
  LoginCodeRecord,
  LoginCodeStore,
  RefreshTokenStore,
  UserRecord,
  UserStore,
} from "../ports.ts";

type Row = Record<string, unknown>;

const toUser = (r: Row): UserRecord => ({
  userId: r.user_id as string,
  phoneNumber: r.phone_number as string,
  displayName: r.display_name as string,
  createdAt: r.created_at as number,
});

const toDevice = (r: Row): DeviceRecord => ({
  deviceId: r.device_id as string,
  userId: r.user_id as string,
  name: r.name as string,
  createdAt: r.created_at as number,
  revokedAt: (r.revoked_at as number | null) ?? null,
});

export class SqliteUserStore implements UserStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  async getOrCreate(candidate: UserRecord) {
    const inserted = prepared(
      this.#db,
      "INSERT INTO users (user_id, phone_number, display_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (phone_number) DO NOTHING",
    ).run(candidate.userId, candidate.phoneNumber, candidate.displayName, candidate.createdAt);
    const row = prepared(this.#db, "SELECT * FROM users WHERE phone_number = ?").get(candidate.phoneNumber) as Row;
    return { user: toUser(row), created: inserted.changes > 0 };
  }
  async findByPhones(phoneNumbers: string[]) {
    const stmt = prepared(this.#db, "SELECT * FROM users WHERE phone_number = ?");
    return phoneNumbers
      .map((p) => stmt.get(p) as Row | undefined)
      .filter((r) => r !== undefined)
      .map(toUser);
  }
  async findByIds(userIds: string[]) {
    const stmt = prepared(this.#db, "SELECT * FROM users WHERE user_id = ?");
    return userIds
      .map((id) => stmt.get(id) as Row | undefined)
      .filter((r) => r !== undefined)
      .map(toUser);
  }
}

export class SqliteLoginCodeStore implements LoginCodeStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  async get(phoneNumber: string) {
    const r = prepared(this.#db, "SELECT * FROM login_codes WHERE phone_number = ?").get(phoneNumber) as Row | undefined;
    if (!r) return undefined;
    return {
      phoneNumber,
      codeHash: r.code_hash as string,
      expiresAt: r.expires_at as number,
      attempts: r.attempts as number,
      windowStart: r.window_start as number,
      sentInWindow: r.sent_in_window as number,
    } satisfies LoginCodeRecord;
  }
  async put(c: LoginCodeRecord) {
    prepared(
      this.#db,
      `INSERT INTO login_codes (phone_number, code_hash, expires_at, attempts, window_start, sent_in_window)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (phone_number) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at,
           attempts = excluded.attempts, window_start = excluded.window_start, sent_in_window = excluded.sent_in_window`,
    ).run(c.phoneNumber, c.codeHash, c.expiresAt, c.attempts, c.windowStart, c.sentInWindow);
  }
  async countFailedAttempt(phoneNumber: string) {
    const r = prepared(this.#db, "UPDATE login_codes SET attempts = attempts + 1 WHERE phone_number = ? RETURNING attempts").get(
      phoneNumber,
    ) as Row | undefined;
    return (r?.attempts as number | undefined) ?? 0;
  }
  async consume(phoneNumber: string) {
    prepared(this.#db, "UPDATE login_codes SET code_hash = '' WHERE phone_number = ?").run(phoneNumber);
  }
}

export class SqliteDeviceStore implements DeviceStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  async create(d: DeviceRecord) {
    prepared(this.#db, "INSERT INTO devices (device_id, user_id, name, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)").run(
      d.deviceId,
      d.userId,
      d.name,
      d.createdAt,
      d.revokedAt,
    );
  }
  async get(deviceId: string) {
    const r = prepared(this.#db, "SELECT * FROM devices WHERE device_id = ?").get(deviceId) as Row | undefined;
    return r ? toDevice(r) : undefined;
  }
  async listActive(userId: string) {
    const rows = prepared(this.#db, "SELECT * FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at").all(
      userId,
    ) as Row[];
    return rows.map(toDevice);
  }
  async revoke(deviceId: string, at: number) {
    prepared(this.#db, "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL").run(at, deviceId);
  }
}

export class SqliteRefreshTokenStore implements RefreshTokenStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  async issue(tokenHash: string, deviceId: string, at: number) {
    prepared(this.#db, "INSERT INTO refresh_tokens (token_hash, device_id, issued_at) VALUES (?, ?, ?)").run(
      tokenHash,
      deviceId,
      at,
    );
  }
  async spend(tokenHash: string, at: number) {
    const before = prepared(this.#db, "SELECT device_id, spent_at FROM refresh_tokens WHERE token_hash = ?").get(tokenHash) as
      | Row
      | undefined;
    if (!before) return undefined;
    // The conditional update decides who spends it: only one caller sees changes === 1.
    const updated = prepared(this.#db, "UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ? AND spent_at IS NULL").run(
      at,
      tokenHash,
    );
    return {
      deviceId: before.device_id as string,
      alreadySpent: updated.changes === 0,
    };
  }
}
