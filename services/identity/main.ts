// The identity service as its own process (distributed mode): Cassandra stores, Kafka bus.
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openCassandra, openKafkaBus } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { createUuidV7Generator, systemClock } from "../shared/clock.ts";
import { connectCassandra, settingsFromEnv } from "../storage/cassandra/client.ts";
import { CassandraHistoryStart, CassandraLinkTokenStore } from "./adapters/cassandra-linking.ts";
import { LogCodeSender } from "./adapters/log-code-sender.ts";
import { composeIdentity } from "./compose.ts";

const config = serviceConfigFromEnv();
const context = createProcessContext("identity", config);
if (process.env.PARLEY_DEV_MODE !== "true")
  throw new Error("no SMS provider is configured; set PARLEY_DEV_MODE=true to log codes");
const cassandra = await openCassandra(context.logger);
// Linking writes link tokens and (for from-link devices) start cursors: its own session.
const linkingClient = await connectCassandra(settingsFromEnv());
const bus = await openKafkaBus(context.logger, "identity");
const identity = composeIdentity({
  stores: cassandra.identity,
  linking: {
    linkTokens: new CassandraLinkTokenStore(linkingClient),
    historyStart: new CassandraHistoryStart(linkingClient, cassandra.messaging.conversations),
    settings: config.linking,
  },
  bus,
  codeSender: new LogCodeSender(context.logger),
  tokens: { secret: config.tokenSecret, accessTokenTtlMs: config.accessTokenTtlMs },
  codeTtlMs: config.codeTtlMs,
  clock: systemClock,
  ids: createUuidV7Generator(),
  logger: context.logger,
});
await runService("identity", config, context, {
  routes: (router) => router.service(IdentityService, identity.service),
  serviceNames: [IdentityService.typeName],
  authenticator: identity.authenticator,
  async stop() {
    await bus.close();
    await linkingClient.shutdown();
    await cassandra.close();
  },
});
