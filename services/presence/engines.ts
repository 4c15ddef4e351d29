// Presence adapters of a gateway in distributed mode: streams, signals and typing rate limits in
// Redis; settings in Cassandra (its own session); membership from messaging's Cassandra store.
import type { ConversationStore } from "../messaging/ports.ts";
import { RedisRateLimiter } from "../shared/adapters/redis-rate-limit.ts";
import type { Logger } from "../shared/logger.ts";
import { connectCassandra, settingsFromEnv } from "../storage/cassandra/client.ts";
import { openRedis } from "../storage/redis.ts";
import { CassandraPresenceSettingsStore } from "./adapters/cassandra-settings.ts";
import { conversationDirectory } from "./adapters/conversation-directory.ts";
import { RedisPresenceStore } from "./adapters/redis-presence.ts";
import { RedisSignalBus } from "./adapters/redis-signals.ts";
import type { PresenceAdapters } from "./compose.ts";

export async function openPresenceEngines(
  logger: Logger,
  conversations: ConversationStore,
): Promise<{ adapters: PresenceAdapters; close(): Promise<void> }> {
  const redis = await openRedis({ logger: logger.child({ component: "redis" }), name: "parley-presence" });
  const cassandra = await connectCassandra(settingsFromEnv());
  return {
    adapters: {
      store: new RedisPresenceStore(redis),
      settings: new CassandraPresenceSettingsStore(cassandra),
      directory: conversationDirectory(conversations),
      signals: new RedisSignalBus(redis, { logger }),
      limiter: new RedisRateLimiter(redis),
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await cassandra.shutdown();
    },
  };
}
