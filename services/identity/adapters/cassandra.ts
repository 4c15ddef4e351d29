// Identity tables on Cassandra (schema in services/storage/cassandra/migrations/001-identity.cql).
// Uniqueness and atomic counters use LWTs; everything else is plain prepared reads and upserts.
import { type CassandraClient, conditional, type Row, select, selectOne, write } from "../../storage/cassandra/client.ts";
import type {
  DeviceRecord,
  DeviceStore,
  LoginCodeRecord,
  LoginCodeStore,
  RefreshTokenStore,
  UserRecord,
  UserStore,
} from "../ports.ts";

const num = (value: unknown) => Number(value as bigint);
const optionalNum = (value: unknown) => (value === null || value === undefined ? null : Number(value as bigint));

const toUser = (r: Row): UserRecord => ({
  userId: r.user_id,
  phoneNumber: r.phone_number,
  displayName: r.display_name,
  createdAt: num(r.created_at),
});

const toDevice = (r: Row): DeviceRecord => ({
  deviceId: r.device_id,
  userId: r.user_id,
  name: r.name,
  createdAt: num(r.created_at),
  revokedAt: optionalNum(r.revoked_at),
});

const insertUser = "INSERT INTO users (user_id, phone_number, display_name, created_at) VALUES (?, ?, ?, ?)";
const userParams = (u: UserRecord) => [u.userId, u.phoneNumber, u.displayName, BigInt(u.createdAt)];

export class CassandraUserStore implements UserStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }
  async getOrCreate(candidate: UserRecord) {
    // The phone claim decides; the by-id row is (re)written by every caller, so a creator that died
    // between the two writes is repaired by the next sign-in of that number.
    const claim = await conditional(
      this.#client,
      "INSERT INTO users_by_phone (phone_number, user_id, display_name, created_at) VALUES (?, ?, ?, ?) IF NOT EXISTS",
      [candidate.phoneNumber, candidate.userId, candidate.displayName, BigInt(candidate.createdAt)],
    );
    const user = claim.applied || !claim.current ? candidate : toUser(claim.current);
    await write(this.#client, insertUser, userParams(user));
    return { user, created: claim.applied };
  }
  async findByPhones(phoneNumbers: string[]) {
    const rows = await Promise.all(
      phoneNumbers.map((p) => selectOne(this.#client, "SELECT * FROM users_by_phone WHERE phone_number = ?", [p])),
    );
    return rows.filter((r) => r !== undefined).map(toUser);
  }
  async findByIds(userIds: string[]) {
    const rows = await Promise.all(userIds.map((id) => selectOne(this.#client, "SELECT * FROM users WHERE user_id = ?", [id])));
    return rows.filter((r) => r !== undefined).map(toUser);
  }
}

/**
 * Every write to login_codes is an LWT, so the attempt counter's compare-and-set never races a plain
 * write with an unrelated timestamp. Sign-in traffic is low, so the Paxos cost does not matter.
 */
export class CassandraLoginCodeStore implements LoginCodeStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }
  async get(phoneNumber: string) {
    const r = await selectOne(this.#client, "SELECT * FROM login_codes WHERE phone_number = ?", [phoneNumber]);
    if (!r) return undefined;
    return {
      phoneNumber,
      codeHash: r.code_hash,
      expiresAt: num(r.expires_at),
      attempts: r.attempts,
      windowStart: num(r.window_start),
      sentInWindow: r.sent_in_window,
    } satisfies LoginCodeRecord;
  }
  async put(c: LoginCodeRecord) {
    const values = [c.codeHash, BigInt(c.expiresAt), c.attempts, BigInt(c.windowStart), c.sentInWindow, c.phoneNumber];
    // An upsert as two LWTs: update the row if it exists, else insert it (rows are never deleted).
    for (;;) {
      const updated = await conditional(
        this.#client,
        `UPDATE login_codes SET code_hash = ?, expires_at = ?, attempts = ?, window_start = ?, sent_in_window = ?
           WHERE phone_number = ? IF EXISTS`,
        values,
      );
      if (updated.applied) return;
      const inserted = await conditional(
        this.#client,
        `INSERT INTO login_codes (code_hash, expires_at, attempts, window_start, sent_in_window, phone_number)
           VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
        values,
      );
      if (inserted.applied) return;
    }
  }
  async countFailedAttempt(phoneNumber: string) {
    const row = await selectOne(this.#client, "SELECT attempts FROM login_codes WHERE phone_number = ?", [phoneNumber]);
    let seen: number | null = row ? row.attempts : null;
    // Compare-and-set: a failed LWT returns the current count, which is the next expected value.
    while (seen !== null) {
      const cas = await conditional(this.#client, "UPDATE login_codes SET attempts = ? WHERE phone_number = ? IF attempts = ?", [
        seen + 1,
        phoneNumber,
        seen,
      ]);
      if (cas.applied) return seen + 1;
      seen = cas.current?.attempts ?? null;
    }
    return 0;
  }
  async consume(phoneNumber: string) {
    // IF EXISTS: an UPDATE would otherwise create a row for a number that never had a code.
    await conditional(this.#client, "UPDATE login_codes SET code_hash = '' WHERE phone_number = ? IF EXISTS", [phoneNumber]);
  }
}

export class CassandraDeviceStore implements DeviceStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }
  async create(d: DeviceRecord) {
    await Promise.all([
      write(this.#client, "INSERT INTO devices (device_id, user_id, name, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)", [
        d.deviceId,
        d.userId,
        d.name,
        BigInt(d.createdAt),
        // Unset, not null: a null here would be a tombstone with this client's clock that could shadow
        // a revoke decided by Paxos with a slightly earlier coordinator clock.
        d.revokedAt === null ? undefined : BigInt(d.revokedAt),
      ]),
      write(this.#client, "INSERT INTO devices_by_user (user_id, device_id) VALUES (?, ?)", [d.userId, d.deviceId]),
    ]);
  }
  async get(deviceId: string) {
    const r = await selectOne(this.#client, "SELECT * FROM devices WHERE device_id = ?", [deviceId]);
    return r ? toDevice(r) : undefined;
  }
  async listActive(userId: string) {
    const ids = await select(this.#client, "SELECT device_id FROM devices_by_user WHERE user_id = ?", [userId]);
    const devices = await Promise.all(ids.map((r) => this.get(r.device_id)));
    return devices
      .filter((d) => d !== undefined && d.revokedAt === null)
      .map((d) => d as DeviceRecord)
      .sort((a, b) => a.createdAt - b.createdAt);
  }
  async revoke(deviceId: string, at: number) {
    // Only the first revocation applies; `user_id != null` keeps the LWT from creating a row for an
    // unknown device.
    await conditional(
      this.#client,
      "UPDATE devices SET revoked_at = ? WHERE device_id = ? IF user_id != null AND revoked_at = null",
      [BigInt(at), deviceId],
    );
  }
}

export class CassandraRefreshTokenStore implements RefreshTokenStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }
  async issue(tokenHash: string, deviceId: string, at: number) {
    await write(this.#client, "INSERT INTO refresh_tokens (token_hash, device_id, issued_at) VALUES (?, ?, ?)", [
      tokenHash,
      deviceId,
      BigInt(at),
    ]);
  }
  async spend(tokenHash: string, at: number) {
    const row = await selectOne(this.#client, "SELECT device_id FROM refresh_tokens WHERE token_hash = ?", [tokenHash]);
    if (!row) return undefined;
    // Paxos decides the one caller that sees spent_at still null.
    const cas = await conditional(
      this.#client,
      "UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ? IF device_id != null AND spent_at = null",
      [BigInt(at), tokenHash],
    );
    return { deviceId: row.device_id as string, alreadySpent: !cas.applied };
  }
}
