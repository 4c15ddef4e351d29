// kafkajs 2.2.4's request queue re-arms a timer forever once a connection's first request has
// finished: with no request waiting it computes a negative delay, which Node runs as 1 ms, and the
// timer's callback arms the next one (kafkajs issues #1556 and #1604; the fix proposed in PR #1667
// is not released). So every connection wakes its process about a thousand times a second, idle or
// busy: 2.7% of a core for each idle fanout worker here, and Node's TimeoutNegativeWarning.
// This puts the check back to what the queue needs it for: a timer only while requests wait for a
// free slot or a broker's throttle, at the throttle's end or every 10 ms, as kafkajs does then.
import { createRequire } from "node:module";

/** The fields and methods of kafkajs's RequestQueue that the check uses. */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const pendingCheckIntervalMs = 10;
/** The kafkajs release this was read against; another one is left alone until someone checks it. */
const fixedVersion = "2.2.4";

const require = createRequire(import.meta.url);

/** kafkajs's RequestQueue class (not part of its public API, hence the version check). */
export function requestQueueClass(): { prototype: RequestQueueInternals } {
  return require("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueueInternals };
}

function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilThrottleEnds = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilThrottleEnds > 0 ? untilThrottleEnds : pendingCheckIntervalMs,
  );
}

/**
 * Replaces the queue's timer scheduling in this process's kafkajs; idempotent. Returns the
 * installed kafkajs version when it is not the one this was written for (nothing is changed).
 */
export function fixRequestQueueTimer(): { applied: true } | { applied: false; version: string } {
  const { version } = require("kafkajs/package.json") as { version: string };
  if (version !== fixedVersion) return { applied: false, version };
  requestQueueClass().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return { applied: true };
}
