// The fanout worker: turns appended events and receipt changes into deliveries to member devices.
// It runs off the send path (a bus consumer). The strategy depends on the recipient count: up to
// the batch threshold the event goes to the router in one call ("direct"); above it, in batches of
// batchSize users with at most `concurrency` batches in flight ("batched"), so one large group
// neither builds one huge call nor floods the gateways. Each event counts in
// parley_fanout_events_total{strategy}.

import { Counter } from "prom-client";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { type EventBus, receiptKindHeader } from "../bus/ports.ts";
import { MemberCache } from "../messaging/member-cache.ts";
import type { ConversationStore, MemberRecord } from "../messaging/ports.ts";
import { positiveWholeNumber } from "../shared/env-settings.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import { type Metrics, observeMessageAge } from "../shared/metrics.ts";
import { withSpanFromHeaders } from "../shared/tracing.ts";
import type { DeliveryRouter } from "./ports.ts";
import { ReceiptAudience } from "./receipt-audience.ts";

export interface FanoutSettings {
  /** Recipient counts above this are delivered in batches. */
  batchThreshold: number;
  /** Users per batch. */
  batchSize: number;
  /** Batches in flight at once per event. */
  concurrency: number;
  /**
   * Receipt watermarks are pushed live only in conversations with at most this many members. In a
   * larger group every member's ack would reach every member (members squared frames per message);
   * there members read the watermarks with GetConversation instead.
   */
  liveReceiptsMaxMembers: number;
}

export const defaultFanoutSettings: FanoutSettings = {
  batchThreshold: 100,
  batchSize: 100,
  concurrency: 4,
  liveReceiptsMaxMembers: 100,
};

/**
 * PARLEY_FANOUT_BATCH_THRESHOLD, PARLEY_FANOUT_BATCH_SIZE, PARLEY_FANOUT_CONCURRENCY,
 * PARLEY_LIVE_RECEIPTS_MAX_MEMBERS (positive integers).
 */
export function fanoutSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FanoutSettings {
  const positive = (name: string, fallback: number) => positiveWholeNumber(env, name, fallback);
  const d = defaultFanoutSettings;
  return {
    batchThreshold: positive("PARLEY_FANOUT_BATCH_THRESHOLD", d.batchThreshold),
    batchSize: positive("PARLEY_FANOUT_BATCH_SIZE", d.batchSize),
    concurrency: positive("PARLEY_FANOUT_CONCURRENCY", d.concurrency),
    liveReceiptsMaxMembers: positive("PARLEY_LIVE_RECEIPTS_MAX_MEMBERS", d.liveReceiptsMaxMembers),
  };
}

/** Members who may see the event at `sequence`: joined at or before it, not removed before it. */
export function recipientsAt(members: MemberRecord[], sequence: bigint): string[] {
  return members
    .filter((m) => m.joinedAtSeq <= sequence && (m.leftAtSeq === null || m.leftAtSeq >= sequence))
    .map((m) => m.userId);
}

export type FanoutStrategy = "direct" | "batched";

export const strategyFor = (recipients: number, settings: FanoutSettings): FanoutStrategy =>
  recipients > settings.batchThreshold ? "batched" : "direct";

function strategyCounter(metrics: Metrics | undefined): Counter<"strategy"> | undefined {
  if (!metrics) return undefined;
  const name = "parley_fanout_events_total";
  return (
    (metrics.registry.getSingleMetric(name) as Counter<"strategy"> | undefined) ??
    new Counter({
      name,
      help: "Conversation events fanned out, by strategy (direct, or batched for large groups)",
      labelNames: ["strategy"],
      registers: [metrics.registry],
    })
  );
}

export function createFanoutWorker(deps: {
  bus: EventBus;
  store: ConversationStore;
  router: DeliveryRouter;
  /** Defaults: fanoutSettingsFromEnv(). */
  settings?: FanoutSettings;
  logger?: Logger;
  metrics?: Metrics;
}) {
  const settings = deps.settings ?? fanoutSettingsFromEnv();
  const logger = (deps.logger ?? createLogger({ level: "error" })).child({ component: "fanout" });
  const events = strategyCounter(deps.metrics);
  const members = new MemberCache(deps.store);
  const audience = new ReceiptAudience(deps.store);

  async function deliver(recipients: string[], event: ConversationEvent): Promise<void> {
    const delivery = { receiptsNotLive: recipients.length > settings.liveReceiptsMaxMembers };
    const strategy = strategyFor(recipients.length, settings);
    events?.inc({ strategy });
    logger.debug("fan out", {
      conversationId: event.conversationId,
      sequence: String(event.sequence),
      recipients: recipients.length,
      strategy,
    });
    if (strategy === "direct") {
      await deps.router.deliverEvent(recipients, event, delivery);
      return;
    }
    const batches: string[][] = [];
    for (let i = 0; i < recipients.length; i += settings.batchSize) batches.push(recipients.slice(i, i + settings.batchSize));
    let next = 0;
    const lane = async () => {
      while (next < batches.length) await deps.router.deliverEvent(batches[next++] as string[], event, delivery);
    };
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, batches.length) }, lane));
  }

  return {
    /**
     * Consumes until the signal aborts. Resolves once every subscription is running, so events
     * published afterwards are fanned out.
     */
    async run(signal: AbortSignal): Promise<void> {
      const unsubscribers = await Promise.all([
        deps.bus.subscribe("conversation-events", "fanout", (event, _key, headers) =>
          // The span continues the sender's trace from the message headers.
          withSpanFromHeaders("conversation-events consume", headers, async () => {
            if (deps.metrics) observeMessageAge(deps.metrics, "consumed", event);
            await deliver(recipientsAt(await members.forEvent(event), event.sequence), event);
          }),
        ),
        deps.bus.subscribe("receipts", "fanout", async (receipt, _key, headers) => {
          // A large group known from its events is skipped without a read.
          if ((members.knownSize(receipt.conversationId) ?? 0) > settings.liveReceiptsMaxMembers) return;
          const current = await audience.of(receipt.conversationId);
          if (current.length > settings.liveReceiptsMaxMembers) return;
          // Your own delivered tick tells your devices nothing; your read one clears their unread counts.
          const recipients =
            headers[receiptKindHeader] === "delivered" ? current.filter((userId) => userId !== receipt.userId) : current;
          if (recipients.length > 0) await deps.router.deliverReceipt(recipients, receipt);
        }),
        deps.bus.subscribe("device-control", "fanout", async (control) => {
          await deps.router.closeDevice(control.userId, control.deviceId);
        }),
      ]);
      // Failures to unsubscribe are the bus's to report; bus.close() stops everything anyway.
      const stop = () => void Promise.allSettled(unsubscribers.map((unsubscribe) => unsubscribe()));
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    },
  };
}
