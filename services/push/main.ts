// The push service as its own process (distributed mode): serves PushService, and consumes
// conversation events from Kafka in the consumer group "push" (off the send path), asking Redis
// which devices hold a stream and sharing per-device rate-limit buckets there. Stores are
// Cassandra's. SIGTERM sends the pushes still in their coalescing window before leaving.
import { PushService } from "../../gen/parley/v1/push_pb.js";
import { RedisRouteRegistry } from "../gateway/adapters/redis-routes.ts";
import { CassandraDeviceStore, CassandraUserStore } from "../identity/adapters/cassandra.ts";
import { composeAuthenticator } from "../identity/compose.ts";
import { CassandraConversationStore } from "../messaging/adapters/cassandra.ts";
import { userDirectory } from "../messaging/adapters/user-store-directory.ts";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openKafkaBus } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { RedisRateLimiter } from "../shared/adapters/redis-rate-limit.ts";
import { createUuidV7Generator, systemClock } from "../shared/clock.ts";
import { connectCassandra, settingsFromEnv } from "../storage/cassandra/client.ts";
import { openRedis } from "../storage/redis.ts";
import { CachedConversationSettingStore, CachedPushDeviceStore } from "./adapters/cached.ts";
import {
  CassandraConversationSettingStore,
  CassandraDeadLetterStore,
  CassandraPushDeviceStore,
  CassandraPushOutbox,
} from "./adapters/cassandra.ts";
import { RouteConnectedDevices } from "./adapters/route-connected.ts";
import { composePush } from "./compose.ts";
import { pushConfigFromEnv } from "./config.ts";

const config = serviceConfigFromEnv();
const pushConfig = pushConfigFromEnv();
const context = createProcessContext("push", config);
const settings = settingsFromEnv();
const cassandra = await connectCassandra(settings);
context.logger.info("cassandra connected", { contactPoints: settings.contactPoints, keyspace: settings.keyspace });
const redis = await openRedis({ logger: context.logger.child({ component: "redis" }), name: "parley-push" });
const bus = await openKafkaBus(context.logger, "push");
const identityDevices = new CassandraDeviceStore(cassandra);
const push = composePush({
  config: pushConfig,
  stores: {
    // Read for every message; other push processes write them too, so copies expire.
    devices: new CachedPushDeviceStore(new CassandraPushDeviceStore(cassandra), { maxAgeMs: pushConfig.cacheMaxAgeMs }),
    settings: new CachedConversationSettingStore(new CassandraConversationSettingStore(cassandra), {
      maxAgeMs: pushConfig.cacheMaxAgeMs,
    }),
    outbox: new CassandraPushOutbox(cassandra),
    deadLetters: new CassandraDeadLetterStore(cassandra),
  },
  bus,
  conversations: new CassandraConversationStore(cassandra),
  users: userDirectory(new CassandraUserStore(cassandra)),
  identityDevices,
  connected: new RouteConnectedDevices(new RedisRouteRegistry(redis)),
  rateLimiter: new RedisRateLimiter(redis),
  clock: systemClock,
  ids: createUuidV7Generator(),
  logger: context.logger,
  metrics: context.metrics,
});
const workers = new AbortController();
await push.dispatcher.run(workers.signal);
await runService("push", config, context, {
  routes: (router) => router.service(PushService, push.service),
  serviceNames: [PushService.typeName],
  authenticator: composeAuthenticator({
    tokens: { secret: config.tokenSecret, accessTokenTtlMs: config.accessTokenTtlMs },
    devices: identityDevices,
    clock: systemClock,
  }),
  // Pending pushes go out before the process leaves (the consumer group hands on the rest).
  drain: (deadlineMs) => push.stop(deadlineMs),
  async stop() {
    workers.abort();
    await bus.close();
    await redis.quit().catch(() => redis.disconnect());
    await cassandra.shutdown();
  },
});
