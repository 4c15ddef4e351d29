// Builds presence and typing for one gateway (or the all-in-one process) over any adapters: the
// stream extension, the PresenceService handlers, and the background loop (signal subscription
// and the tracker's refresh and sweep).
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type { RateLimiter } from "../shared/rate-limit.ts";
import { createAnnouncer } from "./announcer.ts";
import type { PresenceConfig } from "./config.ts";
import { createPresenceExtension } from "./extension.ts";
import { SignalHub } from "./hub.ts";
import { createPresenceMetrics } from "./metrics.ts";
import type { MembershipDirectory, PresenceSettingsStore, PresenceStore, SignalBus } from "./ports.ts";
import { createPresenceService } from "./service.ts";
import { PresenceTracker } from "./tracker.ts";
import { createTyping } from "./typing.ts";

export interface PresenceAdapters {
  store: PresenceStore;
  settings: PresenceSettingsStore;
  directory: MembershipDirectory;
  signals: SignalBus;
  limiter: RateLimiter;
}

export function composePresence(deps: {
  adapters: PresenceAdapters;
  config: PresenceConfig;
  heartbeatIntervalMs: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}) {
  const { adapters, config, clock } = deps;
  const logger = deps.logger.child({ service: "presence" });
  const metrics = createPresenceMetrics(deps.metrics.registry);
  const { liveMaxMembers } = config;
  const announcer = createAnnouncer({ ...adapters, metrics, logger, liveMaxMembers });
  const views = {
    store: adapters.store,
    settings: adapters.settings,
    directory: adapters.directory,
    now: () => clock.now(),
    liveMaxMembers,
  };
  const hub = new SignalHub({ clock, metrics, coalesceMs: config.coalesceMs });
  const tracker = new PresenceTracker({
    store: adapters.store,
    announcer,
    clock,
    logger,
    intervalMs: deps.heartbeatIntervalMs,
  });
  const typing = createTyping({ ...adapters, config, metrics, logger });
  return {
    extension: createPresenceExtension({ hub, tracker, typing, views, logger }),
    service: createPresenceService({ ...views, announcer, logger }),
    /** Subscribes to signals and starts the tracker; resolves once signals are flowing. */
    async run(signal: AbortSignal): Promise<void> {
      const unsubscribe = await adapters.signals.subscribe((s) => {
        // A malformed signal (another version's gateway, a stray publisher) must not take the process down.
        try {
          hub.deliver(s);
        } catch (error) {
          logger.error("signal delivery failed", { error, kind: (s as { kind?: unknown }).kind });
        }
      });
      tracker.run(signal);
      const stop = () => void unsubscribe().catch((error) => logger.warn("signal unsubscribe failed", { error: String(error) }));
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    },
    /** Waits for the presence updates of streams that already closed (call after draining, before closing engines). */
    idle: () => tracker.idle(),
  };
}
