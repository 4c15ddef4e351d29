// A messaging instance as its own process (distributed mode): conversations and messaging over
// Cassandra, events to Kafka. Several instances may write into one conversation at once.

import { MessagingRelayService } from "../../gen/parley/internal/v1/messaging_relay_pb.js";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { HeardRevocationsDevices } from "../identity/adapters/heard-revocations-devices.ts";
import { composeAuthenticator } from "../identity/compose.ts";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openCassandra, openKafkaBus } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { internalKey } from "../shared/auth.ts";
import { createUuidV7Generator, systemClock } from "../shared/clock.ts";
import { createLocalClient } from "../shared/local-client.ts";
import { composeMessaging } from "./compose.ts";
import { createMessagingRelayService } from "./relay-service.ts";

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
// Every relayed send and receipt checks its device: this instance keeps active devices for a
// while and hears every sign-out itself (a group of its own), so a signed-out device is refused
// within the bus's delay.
const devices = new HeardRevocationsDevices(cassandra.identity.devices, {
  clock: systemClock,
  maxAgeMs: config.deviceCheckCacheMs,
});
const stopHearing = await bus.subscribe("device-control", `messaging-device-checks.${config.instanceId}`, async (control) =>
  devices.forget(control.deviceId),
);
const authenticator = composeAuthenticator({
  tokens: { secret: config.tokenSecret, accessTokenTtlMs: config.accessTokenTtlMs },
  devices,
  clock: systemClock,
});
// Gateways' sends and receipts arrive on Relay streams; each request is authenticated by its
// device's token through the same handlers as a call.
const draining = new AbortController();
const relay = createMessagingRelayService({
  messaging: createLocalClient(MessagingService, messaging.messagingService, authenticator),
  logger: context.logger,
  onError: (procedure, code) => context.metrics.errors.inc({ procedure, code: String(code) }),
  closing: draining.signal,
  inFlight: context.metrics.relayInFlight,
});
await runService("messaging", config, context, {
  routes: (router) => {
    router.service(ConversationService, messaging.conversationService);
    router.service(MessagingService, messaging.messagingService);
    router.service(MessagingRelayService, relay);
  },
  serviceNames: [ConversationService.typeName, MessagingService.typeName, MessagingRelayService.typeName],
  authenticator,
  internalKey: internalKey(config.tokenSecret),
  async drain() {
    draining.abort();
  },
  async stop() {
    sweeps.abort();
    await stopHearing();
    await bus.close();
    await cassandra.close();
  },
});
