// Builds the conversation and messaging services over any stores and bus.
import type { EventBus } from "../bus/ports.ts";
import { withRetriablePublish } from "../bus/publish-errors.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import { createAccess } from "./access.ts";
import { createConversationService } from "./conversation-service.ts";
import { createConversations } from "./conversations.ts";
import { createGroupAdmin } from "./group-admin.ts";
import { createHistory } from "./history.ts";
import { createInvites } from "./invites.ts";
import { type MessagingLimits, messagingLimitsFromEnv } from "./limits.ts";
import { createMembershipChanges } from "./membership.ts";
import { createMessagingService } from "./messaging-service.ts";
import type {
  ConversationStore,
  EventLog,
  GroupRetention,
  InviteLinkStore,
  JoinRequestStore,
  ReceiptStore,
  UserDirectory,
} from "./ports.ts";
import { createReceipts } from "./receipts.ts";
import { createRetentionSweep, type RetentionSettings, retentionFromEnv } from "./retention.ts";
import { createSend } from "./send.ts";
import { SequenceFloor } from "./sequence-floor.ts";

export interface MessagingStores {
  conversations: ConversationStore;
  log: EventLog;
  receipts: ReceiptStore;
  users: UserDirectory;
  links: InviteLinkStore;
  joinRequests: JoinRequestStore;
  retention: GroupRetention;
}

export function composeMessaging(deps: {
  stores: MessagingStores;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  metrics: Metrics;
  logger?: Logger;
  /** Defaults: messagingLimitsFromEnv() (PARLEY_MAX_GROUP_MEMBERS). */
  limits?: MessagingLimits;
  /** Defaults: retentionFromEnv() (PARLEY_DELETED_GROUP_RETENTION_MS, PARLEY_RETENTION_SWEEP_MS). */
  retention?: RetentionSettings;
}) {
  const { stores, clock, ids, metrics } = deps;
  const bus = withRetriablePublish(deps.bus);
  const limits = deps.limits ?? messagingLimitsFromEnv();
  const logger = (deps.logger ?? createLogger({ level: "error" })).child({ service: "messaging" });
  const store = stores.conversations;
  const access = createAccess(store);
  const changes = createMembershipChanges({ store, log: stores.log, bus, clock, ids });
  // Sends raise it and acks read it: one process's acks of its own sends skip a head read.
  const floor = new SequenceFloor();
  const send = createSend({
    access,
    log: stores.log,
    bus,
    clock,
    ids,
    limits,
    floor,
    onHop: (hop, ageMs) => metrics.eventAge.observe({ hop }, ageMs / 1000),
  });
  const history = createHistory({ access, store, log: stores.log, receipts: stores.receipts });
  const receipts = createReceipts({ access, store, receipts: stores.receipts, bus, floor });
  const conversations = createConversations({ store, users: stores.users, bus, clock, ids, limits, changes });
  const admin = createGroupAdmin({ access, store, users: stores.users, changes, limits });
  const invites = createInvites({
    access,
    store,
    links: stores.links,
    requests: stores.joinRequests,
    changes,
    clock,
    limits,
  });
  return {
    limits,
    conversationService: createConversationService({ conversations, admin, invites, access, store, users: stores.users }),
    messagingService: createMessagingService({
      send: async (caller, req) => {
        const result = await send(caller, req);
        metrics.sends.inc({ duplicate: String(result.duplicate) });
        return result;
      },
      history,
      receipts,
    }),
    /** The background sweep that removes deleted groups once their retention ends (start with run). */
    retention: createRetentionSweep({
      retention: stores.retention,
      clock,
      logger,
      settings: deps.retention ?? retentionFromEnv(),
    }),
  };
}
