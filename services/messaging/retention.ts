// The retention of deleted groups as a background loop: a deleted group answers NOT_FOUND at once;
// what is stored for it stays until `retentionMs` after the deletion (so every member's device can
// still sync up to the GroupDeleted event), then this sweep removes it. PARLEY_DELETED_GROUP_RETENTION_MS
// and PARLEY_RETENTION_SWEEP_MS set the two periods (docs/groups.md).
import type { Clock } from "../shared/clock.ts";
import { wholeNumber } from "../shared/env-settings.ts";
import type { Logger } from "../shared/logger.ts";
import type { GroupRetention } from "./ports.ts";

export interface RetentionSettings {
  /** How long a deleted group's data is kept after its deletion. */
  retentionMs: number;
  /** How often the sweep runs. */
  sweepIntervalMs: number;
}

export const defaultRetention: RetentionSettings = { retentionMs: 7 * 24 * 3600_000, sweepIntervalMs: 3600_000 };

export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionSettings {
  return {
    retentionMs: wholeNumber(env, "PARLEY_DELETED_GROUP_RETENTION_MS", defaultRetention.retentionMs),
    sweepIntervalMs: wholeNumber(env, "PARLEY_RETENTION_SWEEP_MS", defaultRetention.sweepIntervalMs, { min: 10 }),
  };
}

const batch = 100;

export function createRetentionSweep(deps: {
  retention: GroupRetention;
  clock: Clock;
  logger: Logger;
  settings: RetentionSettings;
}) {
  /** Purges every group whose retention has ended; returns how many. */
  async function sweepOnce(): Promise<number> {
    let purged = 0;
    for (;;) {
      const due = await deps.retention.deletedBefore(deps.clock.now() - deps.settings.retentionMs, batch);
      for (const conversationId of due) {
        await deps.retention.purge(conversationId);
        deps.logger.info("deleted group purged", { conversationId });
      }
      purged += due.length;
      if (due.length < batch) return purged;
    }
  }

  return {
    sweepOnce,
    /** Sweeps every interval until the signal aborts; a failed sweep is logged and retried next time. */
    async run(signal: AbortSignal): Promise<void> {
      const tick = () => sweepOnce().catch((error) => deps.logger.error("retention sweep failed", { error: String(error) }));
      const timer = setInterval(tick, deps.settings.sweepIntervalMs);
      timer.unref();
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
}
