// Sends one push through its provider and acts on the answer: done when sent; token removed when
// the provider says it is dead; retried with exponential backoff (or the provider's Retry-After)
// when throttled or failing; dead-lettered when rejected outright or after the last attempt.
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics.ts";
import type {
  DeadLetterStore,
  Notification,
  ProviderName,
  PushDeviceStore,
  PushProvider,
  PushTarget,
  SendResult,
} from "./ports.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles each time, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A Retry-After longer than this is not waited for in memory: the push is dead-lettered. */
const maxRetryAfterMs = 60 * 60 * 1000;

/**
 * The wait before attempt `attempt + 1`: the provider's Retry-After when it gave one, otherwise
 * exponential backoff with "equal jitter" (between half and all of base * 2^(attempt-1)), so
 * retries of many devices throttled at once spread out.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.max(0, retryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface DeliveryDeps {
  providers: Record<ProviderName, PushProvider>;
  devices: PushDeviceStore;
  deadLetters: DeadLetterStore;
  retry: RetryPolicy;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

export function createDelivery(deps: DeliveryDeps) {
  const { logger, metrics } = deps;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();

  /** Waits ms, or less if delivery stops meanwhile. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener("abort", done, { once: true });
    });

  async function attempt(provider: PushProvider, target: PushTarget, notification: Notification): Promise<SendResult> {
    try {
      return await provider.send(target, notification, stopping.signal);
    } catch (error) {
      // Providers answer with results; a throw is a bug or a network failure: worth a retry.
      return { kind: "retry", detail: `provider failed: ${String(error)}` };
    }
  }

  async function deadLetter(target: PushTarget, notification: Notification, attempts: number, lastError: string) {
    metrics.pushDeadLetters.inc({ provider: target.token.provider });
    logger.warn("push dead-lettered", { pushId: target.pushId, deviceId: target.deviceId, attempts, lastError });
    await deps.deadLetters.add({
      pushId: target.pushId,
      userId: target.userId,
      deviceId: target.deviceId,
      provider: target.token.provider,
      notification,
      attempts,
      lastError,
      failedAt: deps.clock.now(),
    });
  }

  async function run(target: PushTarget, notification: Notification): Promise<void> {
    const provider = deps.providers[target.token.provider];
    for (let n = 1; ; n++) {
      const result = await attempt(provider, target, notification);
      metrics.pushAttempts.inc({ provider: target.token.provider, result: result.kind });
      if (stopping.signal.aborted) return;
      switch (result.kind) {
        case "sent":
          return;
        case "unregistered": {
          const removed = await deps.devices.unregister(target.userId, target.deviceId, target.token);
          logger.info("push token removed", {
            deviceId: target.deviceId,
            provider: target.token.provider,
            removed,
            detail: result.detail,
          });
          return;
        }
        case "rejected":
          return deadLetter(target, notification, n, result.detail);
        case "retry": {
          const delay = retryDelayMs(deps.retry, n, result.retryAfterMs);
          if (n >= deps.retry.maxAttempts || delay > maxRetryAfterMs) return deadLetter(target, notification, n, result.detail);
          logger.debug("push retry", { pushId: target.pushId, attempt: n, delayMs: delay, detail: result.detail });
          await sleep(delay);
          if (stopping.signal.aborted) return;
        }
      }
    }
  }

  return {
    /** Starts delivering in the background; failures are logged, never thrown. */
    deliver(target: PushTarget, notification: Notification): void {
      const task = run(target, notification).catch((error) =>
        logger.error("push delivery failed", { pushId: target.pushId, error: String(error) }),
      );
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
    },
    get inFlight(): number {
      return inFlight.size;
    },
    /** Waits up to deadlineMs for deliveries in flight, then abandons the rest (retries stop waiting). */
    async stop(deadlineMs: number): Promise<void> {
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
