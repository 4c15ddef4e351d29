// A messaging instance as its own process (distributed mode): conversations and messaging over
// Cassandra, events to Kafka. Several instances may write into one conversation at once.
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { composeAuthenticator } from "../identity/compose.ts";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openCassandra, openKafkaBus } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { createUuidV7Generator, systemClock } from "../shared/clock.ts";
import { composeMessaging } from "./compose.ts";

const config = serviceConfigFromEnv();
const context = createProcessContext("messaging", config);
const cassandra = await openCassandra(context.logger);
const bus = await openKafkaBus(context.logger, "messaging");
const messaging = composeMessaging({
  stores: cassandra.messaging,
  bus,
  clock: systemClock,
  ids: createUuidV7Generator(),
  metrics: context.metrics,
  logger: context.logger,
});
// Every instance sweeps deleted groups; purging is idempotent, so instances need not coordinate.
const sweeps = new AbortController();
await messaging.retention.run(sweeps.signal);
await runService("messaging", config, context, {
  routes: (router) => {
    router.service(ConversationService, messaging.conversationService);
    router.service(MessagingService, messaging.messagingService);
  },
  serviceNames: [ConversationService.typeName, MessagingService.typeName],
  authenticator: composeAuthenticator({
    tokens: { secret: config.tokenSecret, accessTokenTtlMs: config.accessTokenTtlMs },
    devices: cassandra.identity.devices,
    clock: systemClock,
  }),
  async stop() {
    sweeps.abort();
    await bus.close();
    await cassandra.close();
  },
});
