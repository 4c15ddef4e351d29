// Builds the push service (RPC handlers) and its dispatcher over any stores, bus, connectivity
// view and rate limiter: the all-in-one process passes embedded ones, the push process engines.
import type { EventBus } from "../bus/ports.ts";
import type { DeviceStore } from "../identity/ports.ts";
import type { ConversationStore, UserDirectory } from "../messaging/ports.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { RateLimiter } from "../shared/rate-limit.ts";
import type { PushConfig } from "./config.ts";
import { createDelivery } from "./delivery.ts";
import { createPushDispatcher } from "./dispatcher.ts";
import type { ConnectedDevices, ConversationSettingStore, DeadLetterStore, PushDeviceStore, PushOutbox } from "./ports.ts";
import { createProviders } from "./providers/select.ts";
import { createPushService } from "./service.ts";

export interface PushStores {
  devices: PushDeviceStore;
  settings: ConversationSettingStore;
  outbox: PushOutbox;
  deadLetters: DeadLetterStore;
}

export function composePush(deps: {
  config: PushConfig;
  stores: PushStores;
  bus: EventBus;
  conversations: ConversationStore;
  users: UserDirectory;
  identityDevices: DeviceStore;
  connected: ConnectedDevices;
  rateLimiter: RateLimiter;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  metrics: Metrics;
}) {
  const { config, stores, clock, metrics } = deps;
  const logger = deps.logger.child({ service: "push" });
  const providers = createProviders(config, stores.outbox, clock);
  logger.info("push providers", { configured: providers.configured });
  const delivery = createDelivery({
    providers: providers.byName,
    devices: stores.devices,
    deadLetters: stores.deadLetters,
    retry: config.retry,
    clock,
    logger,
    metrics,
  });
  const dispatcher = createPushDispatcher({
    bus: deps.bus,
    conversations: deps.conversations,
    users: deps.users,
    devices: stores.devices,
    settings: stores.settings,
    connected: deps.connected,
    rateLimiter: deps.rateLimiter,
    delivery,
    coalesceWindowMs: config.coalesceWindowMs,
    rateRule: { capacity: config.rate.burst, refillPerSecond: config.rate.perMinute / 60 },
    clock,
    ids: deps.ids,
    logger,
    metrics,
  });
  const service = createPushService({
    devices: stores.devices,
    settings: stores.settings,
    outbox: stores.outbox,
    identityDevices: deps.identityDevices,
    conversations: deps.conversations,
    endpoints: { hosts: config.webPushHosts, allowHttp: config.webPushAllowHttp },
    clock,
  });
  return {
    service,
    dispatcher,
    /** Graceful stop: pending pushes are flushed and given up to deadlineMs. */
    async stop(deadlineMs: number): Promise<void> {
      await dispatcher.drain(deadlineMs);
      providers.close();
    },
    /** Immediate stop (the all-in-one process): pending pushes are dropped, connections closed. */
    closeProviders: () => providers.close(),
  };
}
