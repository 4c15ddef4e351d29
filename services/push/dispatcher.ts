// The push dispatcher: consumes appended conversation events in its own consumer group ("push"),
// so it is never on the send path, and decides which devices get a push: members at the
// message's sequence, except the sender, who have not muted the conversation, on devices with a
// token, notifications enabled and no open stream. Those messages are coalesced per device, then
// rate-limited per device and handed to delivery.

import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import type { EventBus } from "../bus/ports.ts";
import { recipientsAt } from "../fanout/worker.ts";
import { MemberCache } from "../messaging/member-cache.ts";
import type { ConversationStore, UserDirectory } from "../messaging/ports.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { RateLimiter, RateRule } from "../shared/rate-limit.ts";
import { type Batch, Coalescer } from "./coalescer.ts";
import type { Delivery } from "./delivery.ts";
import { notificationFor } from "./notification.ts";
import type { ConnectedDevices, ConversationSetting, ConversationSettingStore, PushDeviceStore } from "./ports.ts";

export interface DispatcherDeps {
  bus: EventBus;
  conversations: ConversationStore;
  users: UserDirectory;
  devices: PushDeviceStore;
  settings: ConversationSettingStore;
  connected: ConnectedDevices;
  rateLimiter: RateLimiter;
  delivery: Delivery;
  coalesceWindowMs: number;
  rateRule: RateRule;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  metrics: Metrics;
}

/** Muted now, or set to no pushes at all. */
export function silenced(setting: ConversationSetting | undefined, now: number): boolean {
  if (!setting) return false;
  return setting.level === "none" || (setting.mutedUntil !== null && setting.mutedUntil > now);
}

export function createPushDispatcher(deps: DispatcherDeps) {
  const { logger, metrics } = deps;
  const skipped = (reason: string, count = 1) => count > 0 && metrics.pushSkipped.inc({ reason }, count);
  let stopped = false;
  let unsubscribers: (() => Promise<void>)[] = [];
  // Events arrive in each conversation's order, so members are read once per membership change.
  const memberCache = new MemberCache(deps.conversations);
  const flushing = new Set<Promise<void>>();

  const coalescer = new Coalescer({
    windowMs: deps.coalesceWindowMs,
    onFlush: (batch) => {
      const task = flush(batch).catch((error) =>
        logger.error("push flush failed", { deviceId: batch.deviceId, error: String(error) }),
      );
      flushing.add(task);
      void task.finally(() => flushing.delete(task));
    },
  });

  const unsubscribe = async () => {
    const current = unsubscribers;
    unsubscribers = [];
    // Failures to unsubscribe are the bus's to report; bus.close() stops everything anyway.
    await Promise.allSettled(current.map((u) => u()));
  };

  async function onEvent(event: ConversationEvent): Promise<void> {
    if (event.body.case !== "message" || stopped) return;
    const { conversationId, sequence, senderUserId } = event;
    const [members, settings] = await Promise.all([memberCache.forEvent(event), deps.settings.forConversation(conversationId)]);
    const now = deps.clock.now();
    // Your own message never notifies you, on any of your devices.
    const others = recipientsAt(members, sequence).filter((userId) => userId !== senderUserId);
    const audible = others.filter((userId) => !silenced(settings.get(userId), now));
    skipped("muted", others.length - audible.length);
    if (audible.length === 0) return;
    const devices = (await deps.devices.devicesOf(audible)).filter((d) => d.token !== null);
    const enabled = devices.filter((d) => d.preferences.enabled);
    skipped("disabled", devices.length - enabled.length);
    if (enabled.length === 0) return;
    const connected = await deps.connected.connected([...new Set(enabled.map((d) => d.userId))]);
    const offline = enabled.filter((d) => !connected.has(d.deviceId));
    skipped("connected", enabled.length - offline.length);
    if (offline.length === 0) return;
    const [conversation, senders] = await Promise.all([deps.conversations.get(conversationId), deps.users.find([senderUserId])]);
    const text = event.body.value.content?.kind.case === "text" ? event.body.value.content.kind.value.body : "";
    for (const device of offline) {
      const joined = coalescer.add({
        userId: device.userId,
        deviceId: device.deviceId,
        conversationId,
        sequence,
        senderName: senders[0]?.displayName ?? "Someone",
        groupName: conversation?.kind === "group" ? conversation.name : "",
        text,
        quiet: settings.get(device.userId)?.level === "quiet",
      });
      if (!joined) metrics.pushCoalesced.inc();
    }
  }

  /** The window closed: check the device again (it may have connected), take a rate token, deliver. */
  async function flush(batch: Batch): Promise<void> {
    if (stopped) return;
    const device = (await deps.devices.devicesOf([batch.userId])).find((d) => d.deviceId === batch.deviceId);
    if (!device?.token || !device.preferences.enabled) return void skipped("disabled");
    if ((await deps.connected.connected([batch.userId])).has(batch.deviceId)) return void skipped("connected");
    const decision = await deps.rateLimiter.take(`push:${batch.deviceId}`, 1, deps.rateRule);
    if (!decision.allowed) {
      // Not dropped: it waits and keeps collecting, so a rate-limited device gets one bigger push.
      metrics.pushRateLimited.inc();
      coalescer.defer(batch, decision.retryAfterMs);
      return;
    }
    const notification = notificationFor(batch, device.preferences.showPreviews);
    deps.delivery.deliver(
      { pushId: deps.ids.next(), userId: batch.userId, deviceId: batch.deviceId, token: device.token },
      notification,
    );
  }

  return {
    /** Subscribes (group "push"); resolves once the subscriptions are running. Abort stops them. */
    async run(signal: AbortSignal): Promise<void> {
      unsubscribers = await Promise.all([
        deps.bus.subscribe("conversation-events", "push", (event) => onEvent(event)),
        // A signed-out device must not be woken by pushes any more.
        deps.bus.subscribe("device-control", "push", (control) => deps.devices.forget(control.userId, control.deviceId)),
      ]);
      // Abort is the immediate stop: pushes still in their window are dropped (docs/push.md).
      const stop = () => {
        stopped = true;
        const dropped = coalescer.clear();
        if (dropped > 0) logger.info("pending pushes dropped at shutdown", { dropped });
        void deps.delivery.stop(0);
        void unsubscribe();
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    },
    /**
     * Graceful stop: takes no more events, sends the pushes still in their window at once, and
     * gives delivery (retries included) up to deadlineMs.
     */
    async drain(deadlineMs: number): Promise<void> {
      await unsubscribe();
      coalescer.flushAll();
      await Promise.allSettled([...flushing]);
      stopped = true;
      await deps.delivery.stop(deadlineMs);
    },
  };
}
