// Builds every service of the all-in-one process over the embedded adapters and returns the
// Connect routes. The gateway reaches messaging through a typed client that calls its handlers in
// this process (the same Client interface it uses over gRPC in distributed mode).
import type { DatabaseSync } from "node:sqlite";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { PresenceService } from "../../gen/parley/v1/presence_pb.js";
import { PushService } from "../../gen/parley/v1/push_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";
import type { EventBus } from "../bus/ports.ts";
import { createFanoutWorker } from "../fanout/worker.ts";
import { composeGateway } from "../gateway/compose.ts";
import { createHealthService, type HealthState } from "../health/service.ts";
import { CachedDeviceStore } from "../identity/adapters/cached-devices.ts";
import {
  SqliteDeviceStore,
  SqliteLoginCodeStore,
  SqliteRefreshTokenStore,
  SqliteUserStore,
} from "../identity/adapters/sqlite.ts";
import { SqliteHistoryStart, SqliteLinkTokenStore } from "../identity/adapters/sqlite-linking.ts";
import { composeIdentity } from "../identity/compose.ts";
import type { CodeSender } from "../identity/ports.ts";
import type { MessagingWrites } from "../messaging/adapters/sqlite/writes.ts";
import {
  SqliteConversationStore,
  SqliteEventLog,
  SqliteGroupRetention,
  SqliteInviteLinkStore,
  SqliteJoinRequestStore,
  SqliteReceiptStore,
} from "../messaging/adapters/sqlite.ts";
import { userDirectory } from "../messaging/adapters/user-store-directory.ts";
import { composeMessaging } from "../messaging/compose.ts";
import { composePresence } from "../presence/compose.ts";
import { embeddedPresenceAdapters } from "../presence/embedded.ts";
import { CachedConversationSettingStore, CachedPushDeviceStore } from "../push/adapters/cached.ts";
import { SessionConnectedDevices } from "../push/adapters/session-connected.ts";
import {
  SqliteConversationSettingStore,
  SqliteDeadLetterStore,
  SqlitePushDeviceStore,
  SqlitePushOutbox,
} from "../push/adapters/sqlite.ts";
import { composePush } from "../push/compose.ts";
import { reflectionFor } from "../reflection/catalog.ts";
import { MemoryRateLimiter } from "../shared/adapters/memory-rate-limit.ts";
import { createAuthInterceptor } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { createErrorInterceptor } from "../shared/error-interceptor.ts";
import { createLocalClient } from "../shared/local-client.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { ParleyConfig } from "./config.ts";

export interface WiringDeps {
  config: ParleyConfig;
  db: DatabaseSync;
  /** Where appends and receipts commit: the write thread, or `db`'s own group commit. */
  writes: MessagingWrites;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  metrics: Metrics;
  health: HealthState;
  codeSender: CodeSender;
  secret: Uint8Array;
}

export function wireServices(deps: WiringDeps) {
  const { config, db, bus, clock, ids, logger, metrics } = deps;
  const tokens = { secret: deps.secret, accessTokenTtlMs: config.accessTokenTtlMs };

  const identityStores = {
    users: new SqliteUserStore(db),
    codes: new SqliteLoginCodeStore(db),
    // Every device write of this process goes through here, so the copy it keeps stays right.
    devices: new CachedDeviceStore(new SqliteDeviceStore(db)),
    refreshTokens: new SqliteRefreshTokenStore(db),
  };
  const identity = composeIdentity({
    stores: identityStores,
    linking: { linkTokens: new SqliteLinkTokenStore(db), historyStart: new SqliteHistoryStart(db), settings: config.linking },
    bus,
    codeSender: deps.codeSender,
    tokens,
    codeTtlMs: config.codeTtlMs,
    clock,
    ids,
    logger,
  });

  const conversations = new SqliteConversationStore(db);
  const messaging = composeMessaging({
    stores: {
      conversations,
      log: new SqliteEventLog(db, deps.writes),
      receipts: new SqliteReceiptStore(db, deps.writes),
      users: userDirectory(identityStores.users),
      links: new SqliteInviteLinkStore(db),
      joinRequests: new SqliteJoinRequestStore(db),
      retention: new SqliteGroupRetention(db),
    },
    logger,
    bus,
    clock,
    ids,
    metrics,
  });

  const interceptors: Interceptor[] = [
    createErrorInterceptor(logger, (procedure, code) => metrics.errors.inc({ procedure, code: String(code) })),
    createAuthInterceptor(identity.authenticator),
  ];

  // The gateway calls messaging's handlers directly, with the device's own token checked per call.
  const internalMessaging = createLocalClient(MessagingService, messaging.messagingService, identity.authenticator);
  // Presence and typing ride on the gateway's streams (in-memory state, in-process signals).
  const presence = composePresence({
    adapters: embeddedPresenceAdapters(db, conversations, clock),
    config: config.presence,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    clock,
    logger,
    metrics,
  });
  const gateway = composeGateway({
    messaging: internalMessaging,
    extension: presence.extension,
    settings: {
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      deliveredLingerMs: config.deliveredLingerMs,
      window: config.window,
      maxMessageBytes: messaging.limits.maxMessageBytes,
    },
    clock,
    logger,
    metrics,
  });

  const push = composePush({
    config: config.push,
    stores: {
      // Every write to these goes through this process, so the dispatcher's reads can be cached.
      devices: new CachedPushDeviceStore(new SqlitePushDeviceStore(db)),
      settings: new CachedConversationSettingStore(new SqliteConversationSettingStore(db)),
      outbox: new SqlitePushOutbox(db),
      deadLetters: new SqliteDeadLetterStore(db),
    },
    bus,
    conversations,
    users: userDirectory(identityStores.users),
    identityDevices: identityStores.devices,
    // The one gateway holds every stream: push asks its registry which devices are connected.
    connected: new SessionConnectedDevices(gateway.registry),
    rateLimiter: new MemoryRateLimiter({ clock }),
    clock,
    ids,
    logger,
    metrics,
  });

  // Fanout in this process hands events straight to the local registry.
  const fanoutWorker = createFanoutWorker({
    bus,
    store: conversations,
    logger,
    metrics,
    router: {
      deliverEvent: async (userIds, event, delivery) => {
        metrics.deliveries.inc();
        await gateway.registry.deliverEvent(userIds, event, delivery);
      },
      deliverReceipt: (userIds, receipt) => gateway.registry.deliverReceipt(userIds, receipt),
      closeDevice: (userId, deviceId) => gateway.registry.closeDevice(userId, deviceId),
    },
  });
  // Presence's signal subscription and sweep start and stop with the fanout worker.
  const fanout = {
    async run(signal: AbortSignal): Promise<void> {
      await fanoutWorker.run(signal);
      await presence.run(signal);
    },
  };

  const routes = (router: ConnectRouter) => {
    router.service(IdentityService, identity.service);
    router.service(ConversationService, messaging.conversationService);
    router.service(MessagingService, messaging.messagingService);
    router.service(SessionService, gateway.sessionService);
    router.service(PresenceService, presence.service);
    router.service(PushService, push.service);
    const served = [IdentityService, ConversationService, MessagingService, SessionService, PushService].map((s) => s.typeName);
    served.push(PresenceService.typeName);
    router.service(Health, createHealthService(deps.health, served));
    // Reflection lets grpcurl and buf curl discover every service above without local protos.
    router.service(ServerReflection, reflectionFor(served));
  };

  // The process starts its background workers through `fanout.run`: push consumes in its own group.
  const workers = {
    async run(signal: AbortSignal): Promise<void> {
      await fanout.run(signal);
      await messaging.retention.run(signal);
      await push.dispatcher.run(signal);
      signal.addEventListener("abort", () => push.closeProviders(), { once: true });
    },
  };

  return {
    routes,
    interceptors,
    registry: gateway.registry,
    fanout: workers,
    /** What the WebSocket transport calls directly: the session handler and the token check. */
    sessions: { service: gateway.sessionService, authenticator: identity.authenticator },
  };
}
