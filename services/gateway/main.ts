// A gateway as its own process (distributed mode): holds device streams, calls messaging over
// gRPC, publishes where each device is held in Redis and takes deliveries from fanout workers.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GatewayInternalService } from "../../gen/parley/internal/v1/gateway_pb.js";
import { MessagingRelayService } from "../../gen/parley/internal/v1/messaging_relay_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { PresenceService } from "../../gen/parley/v1/presence_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";
import { composeAuthenticator } from "../identity/compose.ts";
import { defaultMessagingLimits } from "../messaging/limits.ts";
import { composePresence } from "../presence/compose.ts";
import { openPresenceEngines } from "../presence/engines.ts";
import { balancedTransport } from "../runtime/balanced-transport.ts";
import { serviceConfigFromEnv } from "../runtime/config.ts";
import { openCassandra, openRedisRoutes } from "../runtime/engines.ts";
import { createProcessContext, runService } from "../runtime/lifecycle.ts";
import { internalKey, internalKeyInterceptor } from "../shared/auth.ts";
import { systemClock } from "../shared/clock.ts";
import { clientTracingInterceptor } from "../shared/tracing.ts";
import { composeGateway } from "./compose.ts";
import { grpcSessionRoute } from "./grpc/session-route.ts";
import { maxClientFrameBytes } from "./inbound-frames.ts";
import { relayedMessaging } from "./messaging-relay.ts";
import type { RouteRegistry } from "./ports.ts";
import { directSessionOpener } from "./session-opener.ts";

const config = serviceConfigFromEnv();
const context = createProcessContext("gateway", config);
if (config.messagingUrls.length === 0) throw new Error("PARLEY_MESSAGING_URLS must name at least one messaging instance");
const cassandra = await openCassandra(context.logger);
const redis = await openRedisRoutes(context.logger);
// Presence and typing: device online state, signals to other gateways and typing budgets in Redis.
const presenceEngines = await openPresenceEngines(context.logger, cassandra.messaging.conversations);
const presence = composePresence({
  adapters: presenceEngines.adapters,
  config: config.presence,
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  clock: systemClock,
  logger: context.logger,
  metrics: context.metrics,
});
const background = new AbortController();
await presence.run(background.signal);
// Sends and receipts go over one Relay stream per messaging instance; other calls stay calls.
const withInternalKey = internalKeyInterceptor(internalKey(config.tokenSecret));
const messaging = relayedMessaging(
  createClient(
    MessagingService,
    balancedTransport(
      config.messagingUrls.map((baseUrl) => createGrpcTransport({ baseUrl, interceptors: [clientTracingInterceptor()] })),
    ),
  ),
  config.messagingUrls.map((url) => ({
    url,
    client: createClient(
      MessagingRelayService,
      createGrpcTransport({ baseUrl: url, interceptors: [clientTracingInterceptor(), withInternalKey] }),
    ),
  })),
  context.logger,
  () => context.metrics.streamOpens.inc({ peer: "messaging" }),
);
// The gateway's id is its own address, known once it listens; routes are published after that.
const routes: { registry: RouteRegistry; gatewayId: string; logger: typeof context.logger } = {
  registry: redis.routes,
  gatewayId: config.gatewayId ?? "",
  logger: context.logger,
};
const draining = new AbortController();
const gateway = composeGateway({
  messaging,
  closing: draining.signal,
  settings: {
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    deliveredLingerMs: config.deliveredLingerMs,
    window: config.window,
    maxMessageBytes: defaultMessagingLimits.maxMessageBytes,
  },
  clock: systemClock,
  logger: context.logger,
  metrics: context.metrics,
  routes,
  extension: presence.extension,
});
const authenticator = composeAuthenticator({
  tokens: { secret: config.tokenSecret, accessTokenTtlMs: config.accessTokenTtlMs },
  devices: cassandra.identity.devices,
  clock: systemClock,
});
await runService("gateway", config, context, {
  routes: (router) => {
    router.service(SessionService, gateway.sessionService);
    router.service(GatewayInternalService, gateway.internalService);
    router.service(PresenceService, presence.service);
  },
  serviceNames: [SessionService.typeName, GatewayInternalService.typeName, PresenceService.typeName],
  authenticator,
  direct: grpcSessionRoute({
    open: directSessionOpener(gateway.sessionService, authenticator, "grpc"),
    maxFrameBytes: maxClientFrameBytes,
    logger: context.logger,
    onError: (procedure, code) => context.metrics.errors.inc({ procedure, code: String(code) }),
  }),
  internalKey: internalKey(config.tokenSecret),
  started(url) {
    routes.gatewayId ||= url;
  },
  drain: (deadlineMs) => {
    draining.abort();
    return gateway.registry.drain({ reconnectAfterMs: 1_000, deadlineMs });
  },
  async stop() {
    gateway.registry.stop();
    background.abort();
    await presence.idle();
    await presenceEngines.close();
    await redis.close();
    await cassandra.close();
  },
});
