// Builds the conversation and messaging services over any stores and bus.
import type { EventBus } from "../bus/ports.ts";
import { withRetriablePublish } from "../bus/publish-errors.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import type { Metrics } from "../shared/metrics.ts";
import { createAccess } from "./access.ts";
import { createConversationService } from "./conversation-service.ts";
import { createConversations } from "./conversations.ts";
import { createHistory } from "./history.ts";
import { defaultMessagingLimits, type MessagingLimits } from "./limits.ts";
import { createMessagingService } from "./messaging-service.ts";
import type { ConversationStore, EventLog, ReceiptStore, UserDirectory } from "./ports.ts";
import { createReceipts } from "./receipts.ts";
import { createSend } from "./send.ts";

export interface MessagingStores {
  conversations: ConversationStore;
  log: EventLog;
  receipts: ReceiptStore;
  users: UserDirectory;
}

export function composeMessaging(deps: {
  stores: MessagingStores;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  metrics: Metrics;
  limits?: MessagingLimits;
}) {
  const { stores, clock, ids, metrics } = deps;
  const bus = withRetriablePublish(deps.bus);
  const limits = deps.limits ?? defaultMessagingLimits;
  const store = stores.conversations;
  const access = createAccess(store);
  const send = createSend({ access, log: stores.log, bus, clock, ids, limits });
  const history = createHistory({ access, store, log: stores.log, receipts: stores.receipts });
  const receipts = createReceipts({ access, store, receipts: stores.receipts, bus });
  const conversations = createConversations({ access, store, log: stores.log, users: stores.users, bus, clock, ids, limits });
  return {
    limits,
    conversationService: createConversationService({ conversations, access, store, users: stores.users }),
    messagingService: createMessagingService({
      send: async (caller, req) => {
        const result = await send(caller, req);
        metrics.sends.inc({ duplicate: String(result.duplicate) });
        return result;
      },
      history,
      receipts,
    }),
  };
}
