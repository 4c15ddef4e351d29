// The one place distributed mode picks its engine adapters: Cassandra for every store, Kafka for
// the bus, Redis for device routes. Each opener connects and fails at start if the engine is down.
import { createKafkaBus } from "../bus/adapters/kafka.ts";
import type { EventBus } from "../bus/ports.ts";
import { RedisRouteRegistry } from "../gateway/adapters/redis-routes.ts";
import type { RouteRegistry } from "../gateway/ports.ts";
import {
  CassandraDeviceStore,
  CassandraLoginCodeStore,
  CassandraRefreshTokenStore,
  CassandraUserStore,
} from "../identity/adapters/cassandra.ts";
import type { IdentityStores } from "../identity/compose.ts";
import {
  CassandraConversationStore,
  CassandraEventLog,
  CassandraGroupRetention,
  CassandraInviteLinkStore,
  CassandraJoinRequestStore,
  CassandraReceiptStore,
} from "../messaging/adapters/cassandra.ts";
import { userDirectory } from "../messaging/adapters/user-store-directory.ts";
import type { MessagingStores } from "../messaging/compose.ts";
import { positiveWholeNumber } from "../shared/env-settings.ts";
import type { Logger } from "../shared/logger.ts";
import { connectCassandra, settingsFromEnv } from "../storage/cassandra/client.ts";
import { openRedis } from "../storage/redis.ts";

export interface CassandraStores {
  identity: IdentityStores;
  messaging: MessagingStores;
  close(): Promise<void>;
}

export async function openCassandra(logger: Logger): Promise<CassandraStores> {
  const settings = settingsFromEnv();
  const client = await connectCassandra(settings);
  logger.info("cassandra connected", { contactPoints: settings.contactPoints, keyspace: settings.keyspace });
  const users = new CassandraUserStore(client);
  return {
    identity: {
      users,
      codes: new CassandraLoginCodeStore(client),
      devices: new CassandraDeviceStore(client),
      refreshTokens: new CassandraRefreshTokenStore(client),
    },
    messaging: {
      conversations: new CassandraConversationStore(client),
      log: new CassandraEventLog(client),
      receipts: new CassandraReceiptStore(client),
      links: new CassandraInviteLinkStore(client),
      joinRequests: new CassandraJoinRequestStore(client),
      retention: new CassandraGroupRetention(client),
      users: userDirectory(users),
    },
    close: () => client.shutdown(),
  };
}

export async function openKafkaBus(logger: Logger, clientId: string): Promise<EventBus> {
  return createKafkaBus({
    logger: logger.child({ component: "kafka" }),
    clientId: `parley-${clientId}`,
    concurrency: positiveWholeNumber(process.env, "PARLEY_KAFKA_CONCURRENCY", 12),
  });
}

export async function openRedisRoutes(logger: Logger): Promise<{ routes: RouteRegistry; close(): Promise<void> }> {
  const client = await openRedis({ logger: logger.child({ component: "redis" }), name: "parley-routes" });
  return {
    routes: new RedisRouteRegistry(client),
    close: async () => {
      // quit() fails on a connection that is already down; then just drop it.
      await client.quit().catch(() => client.disconnect());
    },
  };
}
