// The fanout worker: turns appended events and receipt changes into deliveries to member devices.
import type { EventBus } from "../bus/ports.ts";
import type { ConversationStore, MemberRecord } from "../messaging/ports.ts";
import { withSpanFromHeaders } from "../shared/tracing.ts";
import type { DeliveryRouter } from "./ports.ts";

/** Members who may see the event at `sequence`: joined at or before it, not removed before it. */
export function recipientsAt(members: MemberRecord[], sequence: bigint): string[] {
  return members
    .filter((m) => m.joinedAtSeq <= sequence && (m.leftAtSeq === null || m.leftAtSeq >= sequence))
    .map((m) => m.userId);
}

export function createFanoutWorker(deps: { bus: EventBus; store: ConversationStore; router: DeliveryRouter }) {
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
            const members = await deps.store.members(event.conversationId);
            await deps.router.deliverEvent(recipientsAt(members, event.sequence), event);
          }),
        ),
        deps.bus.subscribe("receipts", "fanout", async (receipt) => {
          const members = await deps.store.members(receipt.conversationId);
          await deps.router.deliverReceipt(
            members.filter((m) => m.leftAtSeq === null).map((m) => m.userId),
            receipt,
          );
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
