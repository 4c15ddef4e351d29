// Device linking on Cassandra: link tokens (schema in migrations/004-devices.cql) and the start
// cursors of a from-link device (messaging's device_cursors, 002-messaging.cql).
import type { ConversationStore } from "../../messaging/ports.ts";
import { type CassandraClient, conditional, mapLimited, selectOne, write } from "../../storage/cassandra/client.ts";
import type { HistoryPolicyName, HistoryStart, LinkTokenRecord, LinkTokenStore } from "../ports.ts";

/** Expired tokens are kept this long (so they answer "expired", not "unknown"), then expire. */
const keepExpiredSeconds = 3600;

export class CassandraLinkTokenStore implements LinkTokenStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async put(r: LinkTokenRecord) {
    const ttl = Math.ceil((r.expiresAt - r.createdAt) / 1000) + keepExpiredSeconds;
    await write(
      this.#client,
      `INSERT INTO link_tokens (token_hash, user_id, created_by_device_id, history, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
      [r.tokenHash, r.userId, r.createdByDeviceId, r.history, BigInt(r.createdAt), BigInt(r.expiresAt), ttl],
    );
  }

  async spend(tokenHash: string, at: number) {
    const row = await selectOne(this.#client, "SELECT * FROM link_tokens WHERE token_hash = ?", [tokenHash]);
    if (!row) return undefined;
    const record: LinkTokenRecord = {
      tokenHash,
      userId: row.user_id,
      createdByDeviceId: row.created_by_device_id,
      history: row.history as HistoryPolicyName,
      createdAt: Number(row.created_at as bigint),
      expiresAt: Number(row.expires_at as bigint),
    };
    // Paxos decides the one caller that sees spent_at still null. The spent cell gets the row's
    // remaining lifetime, so it never outlives the token.
    const ttl = Math.max(1, Math.ceil((record.expiresAt - at) / 1000) + keepExpiredSeconds);
    const cas = await conditional(
      this.#client,
      "UPDATE link_tokens USING TTL ? SET spent_at = ? WHERE token_hash = ? IF user_id != null AND spent_at = null",
      [ttl, BigInt(at), tokenHash],
    );
    return { record, alreadySpent: !cas.applied };
  }
}

/**
 * Places the new device's cursors at the current end of each of the user's conversations. The
 * cursor cells are written USING TIMESTAMP <sequence>, as messaging writes them, so a later ack
 * (a higher sequence) always wins.
 */
export class CassandraHistoryStart implements HistoryStart {
  readonly #client: CassandraClient;
  readonly #conversations: ConversationStore;
  constructor(client: CassandraClient, conversations: ConversationStore) {
    this.#client = client;
    this.#conversations = conversations;
  }

  async fromNow(userId: string, deviceId: string) {
    const memberships = await this.#conversations.membershipsOf(userId);
    await mapLimited(memberships, 16, async (m) => {
      const conversation = await this.#conversations.get(m.conversationId);
      const end = m.leftAtSeq ?? conversation?.lastSequence ?? 0n;
      if (end <= 0n) return;
      await write(
        this.#client,
        "UPDATE device_cursors USING TIMESTAMP ? SET sequence = ? WHERE device_id = ? AND conversation_id = ?",
        [end, end, deviceId, m.conversationId],
      );
    });
  }
}
