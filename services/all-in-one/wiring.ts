// Builds every service of the all-in-one process over the embedded adapters and returns the
// Connect routes. The gateway reaches messaging through Connect's in-process router transport,
// exactly as it would through gRPC in distributed mode.
import type { DatabaseSync } from "node:sqlite";
import { type ConnectRouter, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";
import type { EventBus } from "../bus/ports.ts";
import { createFanoutWorker } from "../fanout/worker.ts";
import { SessionRegistry } from "../gateway/registry.ts";
import { createSessionService } from "../gateway/session-service.ts";
import { createHealthService, type HealthState } from "../health/service.ts";
import {
  SqliteDeviceStore,
  SqliteLoginCodeStore,
  SqliteRefreshTokenStore,
  SqliteUserStore,
} from "../identity/adapters/sqlite.ts";
import { createAuthenticator } from "../identity/authenticator.ts";
import type { CodeSender } from "../identity/ports.ts";
import { createIdentityService } from "../identity/service.ts";
import { createDeviceSessions } from "../identity/sessions.ts";
import { createSignIn, defaultSignInLimits } from "../identity/sign-in.ts";
import { createTokenIssuer } from "../identity/tokens.ts";
import { createAccess } from "../messaging/access.ts";
import { SqliteConversationStore, SqliteEventLog, SqliteReceiptStore } from "../messaging/adapters/sqlite.ts";
import { createConversationService } from "../messaging/conversation-service.ts";
import { createConversations } from "../messaging/conversations.ts";
import { createHistory } from "../messaging/history.ts";
import { defaultMessagingLimits } from "../messaging/limits.ts";
import { createMessagingService } from "../messaging/messaging-service.ts";
import type { UserDirectory } from "../messaging/ports.ts";
import { createReceipts } from "../messaging/receipts.ts";
import { createSend } from "../messaging/send.ts";
import { createAuthInterceptor } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { createErrorInterceptor } from "../shared/error-interceptor.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { ParleyConfig } from "./config.ts";

export interface WiringDeps {
  config: ParleyConfig;
  db: DatabaseSync;
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
  const limits = { ...defaultMessagingLimits };

  // identity
  const users = new SqliteUserStore(db);
  const devices = new SqliteDeviceStore(db);
  const refreshTokens = new SqliteRefreshTokenStore(db);
  const tokens = createTokenIssuer({ secret: deps.secret, clock, accessTtlMs: config.accessTokenTtlMs });
  const signInLimits = { ...defaultSignInLimits, codeTtlMs: config.codeTtlMs };
  const signIn = createSignIn({
    users,
    codes: new SqliteLoginCodeStore(db),
    devices,
    refreshTokens,
    codeSender: deps.codeSender,
    tokens,
    clock,
    ids,
    logger: logger.child({ service: "identity" }),
    limits: signInLimits,
  });
  const sessions = createDeviceSessions({ devices, refreshTokens, tokens, signIn, bus, clock, logger });
  const authenticator = createAuthenticator({ tokens, devices });

  // conversations and messaging
  const store = new SqliteConversationStore(db);
  const log = new SqliteEventLog(db);
  const receiptStore = new SqliteReceiptStore(db);
  const directory: UserDirectory = {
    find: async (userIds) => (await users.findByIds(userIds)).map((u) => ({ userId: u.userId, displayName: u.displayName })),
  };
  const access = createAccess(store);
  const send = createSend({ access, log, bus, clock, ids, limits });
  const history = createHistory({ access, store, log, receipts: receiptStore });
  const receipts = createReceipts({ access, store, receipts: receiptStore, bus });
  const conversations = createConversations({ access, store, log, users: directory, bus, clock, ids, limits });
  const messagingImpl = createMessagingService({
    send: async (caller, req) => {
      const result = await send(caller, req);
      metrics.sends.inc({ duplicate: String(result.duplicate) });
      return result;
    },
    history,
    receipts,
  });

  const interceptors: Interceptor[] = [
    createErrorInterceptor(logger, (procedure, code) => metrics.errors.inc({ procedure, code: String(code) })),
    createAuthInterceptor(authenticator),
  ];

  // gateway: calls messaging through the in-process transport, with the device's own token
  const internalMessaging = createClient(
    MessagingService,
    createRouterTransport((router) => router.service(MessagingService, messagingImpl), { router: { interceptors } }),
  );
  const registry = new SessionRegistry({ clock, heartbeatIntervalMs: config.heartbeatIntervalMs });
  const sessionService = createSessionService({
    registry,
    messaging: internalMessaging,
    clock,
    logger: logger.child({ service: "gateway" }),
    settings: {
      window: config.window,
      maxWindow: 1024,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      maxMessageBytes: limits.maxMessageBytes,
      pageSize: 500,
      helloTimeoutMs: 10_000,
    },
    onStreamCount: (delta) => metrics.openStreams.inc(delta),
  });

  // fanout: in this process it hands events straight to the local registry
  const fanout = createFanoutWorker({
    bus,
    store,
    router: {
      deliverEvent: async (userIds, event) => {
        metrics.deliveries.inc();
        await registry.deliverEvent(userIds, event);
      },
      deliverReceipt: (userIds, receipt) => registry.deliverReceipt(userIds, receipt),
      closeDevice: (deviceId) => registry.closeDevice(deviceId),
    },
  });

  const routes = (router: ConnectRouter) => {
    router.service(IdentityService, createIdentityService({ signIn, sessions, users, limits: signInLimits }));
    router.service(ConversationService, createConversationService({ conversations, access, store, users: directory }));
    router.service(MessagingService, messagingImpl);
    router.service(SessionService, sessionService);
    router.service(
      Health,
      createHealthService(
        deps.health,
        [IdentityService, ConversationService, MessagingService, SessionService].map((s) => s.typeName),
      ),
    );
  };

  return { routes, interceptors, registry, fanout };
}
