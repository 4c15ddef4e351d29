// A fanout worker as its own process (distributed mode): consumes events from Kafka, finds each
// recipient device's gateway in Redis and hands the event to that gateway.

import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GatewayInternalService } from "../../gen/parley/internal/v1/gateway_pb.js";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openCassandra, openKafkaBus, openRedisRoutes } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { internalKey, internalKeyInterceptor } from "../shared/auth.ts";
import { clientTracingInterceptor } from "../shared/tracing.ts";
import { createDeliverStream, type GatewayDeliverer } from "./deliver-stream.ts";
import { createRemoteRouter } from "./remote-router.ts";
import { createFanoutWorker } from "./worker.ts";

const config = serviceConfigFromEnv();
const context = createProcessContext("fanout", config);
const cassandra = await openCassandra(context.logger);
const redis = await openRedisRoutes(context.logger);
const bus = await openKafkaBus(context.logger, "fanout");
const withInternalKey = internalKeyInterceptor(internalKey(config.tokenSecret));
const gateways = new Map<string, GatewayDeliverer>();
const router = createRemoteRouter({
  routes: redis.routes,
  gateway(gatewayId) {
    let deliverer = gateways.get(gatewayId);
    if (!deliverer) {
      const client = createClient(
        GatewayInternalService,
        createGrpcTransport({ baseUrl: gatewayId, interceptors: [clientTracingInterceptor(), withInternalKey] }),
      );
      deliverer = createDeliverStream(client, {
        gatewayId,
        logger: context.logger,
        onOpen: () => context.metrics.streamOpens.inc({ peer: "gateway" }),
      });
      gateways.set(gatewayId, deliverer);
    }
    return deliverer;
  },
  logger: context.logger,
});
const workers = new AbortController();
const counted = {
  ...router,
  deliverEvent: async (...[userIds, event, delivery]: Parameters<typeof router.deliverEvent>) => {
    context.metrics.deliveries.inc();
    await router.deliverEvent(userIds, event, delivery);
    if (event.sentAt) context.metrics.fanoutLag.observe((Date.now() - timestampMs(event.sentAt)) / 1000);
  },
};
await createFanoutWorker({
  bus,
  store: cassandra.messaging.conversations,
  router: counted,
  logger: context.logger,
  metrics: context.metrics,
}).run(workers.signal);
await runService("fanout", config, context, {
  routes: () => {},
  serviceNames: [],
  authenticator: undefined,
  async stop() {
    workers.abort();
    for (const deliverer of gateways.values()) deliverer.close();
    await bus.close();
    await redis.close();
    await cassandra.close();
  },
});
