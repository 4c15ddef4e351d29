// Presence privacy settings on Cassandra (presence_settings, schema in
// services/storage/cassandra/migrations/004-devices.cql): plain upserts, the latest write wins.
import { type CassandraClient, mapLimited, selectOne, write } from "../../storage/cassandra/client.ts";
import { defaultVisibility, type PresenceSettingsStore, type Visibility } from "../ports.ts";

export class CassandraPresenceSettingsStore implements PresenceSettingsStore {
  readonly #client: CassandraClient;
  constructor(client: CassandraClient) {
    this.#client = client;
  }

  async visibility(userIds: string[]) {
    const rows = await mapLimited(userIds, 16, (userId) =>
      selectOne(this.#client, "SELECT visibility FROM presence_settings WHERE user_id = ?", [userId]),
    );
    return new Map(userIds.map((userId, i) => [userId, (rows[i]?.visibility as Visibility | undefined) ?? defaultVisibility]));
  }

  async setVisibility(userId: string, visibility: Visibility, at: number) {
    await write(this.#client, "INSERT INTO presence_settings (user_id, visibility, updated_at) VALUES (?, ?, ?)", [
      userId,
      visibility,
      BigInt(at),
    ]);
  }
}
