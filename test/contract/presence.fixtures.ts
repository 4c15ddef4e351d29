// Adapter factories of the presence and device-linking contract suites, listed in registry.ts:
// in-memory and SQLite ones, and with PARLEY_ENGINES=1 Redis ones under a fresh key prefix and
// Cassandra ones in the registry's scratch keyspace.
import { randomBytes } from "node:crypto";
import { SqliteUserStore } from "../../services/identity/adapters/sqlite.ts";
import { SqliteLinkTokenStore } from "../../services/identity/adapters/sqlite-linking.ts";
import { MemoryPresenceStore } from "../../services/presence/adapters/memory-presence.ts";
import { MemorySignalBus } from "../../services/presence/adapters/memory-signals.ts";
import { RedisPresenceStore } from "../../services/presence/adapters/redis-presence.ts";
import { RedisSignalBus } from "../../services/presence/adapters/redis-signals.ts";
import { SqlitePresenceSettingsStore } from "../../services/presence/adapters/sqlite-settings.ts";
import { silentLogger } from "../../services/shared/logger.ts";
import type { CassandraClient } from "../../services/storage/cassandra/client.ts";
import { openRedis } from "../../services/storage/redis.ts";
import type { LinkTokenAdapters } from "./devices.contract.ts";
import { freshSqlite } from "./harness.ts";
import type { PresenceSettingsAdapters, PresenceStoreAdapters, SignalBusAdapters } from "./presence.contract.ts";

const freshPrefix = () => `parley-test-${process.pid}-${randomBytes(4).toString("hex")}:`;

async function dropPrefix(redis: Awaited<ReturnType<typeof openRedis>>, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

export const memoryPresenceStore = async (): Promise<PresenceStoreAdapters> => ({
  store: new MemoryPresenceStore(),
  cleanup: async () => {},
});

export async function redisPresenceStore(): Promise<PresenceStoreAdapters> {
  const redis = await openRedis({ logger: silentLogger, name: "parley-contract" });
  const prefix = freshPrefix();
  return {
    store: new RedisPresenceStore(redis, { prefix }),
    async cleanup() {
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

export async function memorySignalBuses(): Promise<SignalBusAdapters> {
  // In one process every gateway shares the one bus.
  const bus = new MemorySignalBus();
  return { buses: [bus, bus], cleanup: async () => {} };
}

export async function redisSignalBuses(): Promise<SignalBusAdapters> {
  const prefix = freshPrefix();
  const clients = await Promise.all([1, 2].map(() => openRedis({ logger: silentLogger, name: "parley-contract" })));
  const [one, two] = clients.map((client) => new RedisSignalBus(client, { logger: silentLogger, prefix })) as [
    RedisSignalBus,
    RedisSignalBus,
  ];
  return {
    buses: [one, two],
    async cleanup() {
      for (const client of clients) await client.quit();
    },
  };
}

export async function sqlitePresenceSettings(): Promise<PresenceSettingsAdapters> {
  const { db, cleanup } = freshSqlite();
  const users = new SqliteUserStore(db);
  return {
    settings: new SqlitePresenceSettingsStore(db),
    async seedUsers(userIds) {
      for (const userId of userIds)
        await users.getOrCreate({ userId, phoneNumber: `phone-of-${userId}`, displayName: userId, createdAt: 0 });
    },
    cleanup,
  };
}

export async function sqliteLinkTokens(): Promise<LinkTokenAdapters> {
  const { db, cleanup } = freshSqlite();
  const users = new SqliteUserStore(db);
  return {
    linkTokens: new SqliteLinkTokenStore(db),
    async seedUsers(userIds) {
      for (const userId of userIds)
        await users.getOrCreate({ userId, phoneNumber: `phone-of-${userId}`, displayName: userId, createdAt: 0 });
    },
    cleanup,
  };
}

/** Cassandra entries share the registry's scratch keyspace and check no references. */
export async function cassandraPresenceSettings(client: CassandraClient): Promise<PresenceSettingsAdapters> {
  const m = await import("../../services/presence/adapters/cassandra-settings.ts");
  return { settings: new m.CassandraPresenceSettingsStore(client), seedUsers: async () => {}, cleanup: async () => {} };
}

export async function cassandraLinkTokens(client: CassandraClient): Promise<LinkTokenAdapters> {
  const m = await import("../../services/identity/adapters/cassandra-linking.ts");
  return { linkTokens: new m.CassandraLinkTokenStore(client), seedUsers: async () => {}, cleanup: async () => {} };
}
