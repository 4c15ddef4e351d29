// Configuration of the all-in-one process, from environment variables with working defaults.
import { defaultLinkingSettings, type LinkingSettings } from "../identity/linking.ts";
import { linkingFromEnv } from "../identity/linking-config.ts";
import { defaultPresenceConfig, type PresenceConfig, presenceConfigFromEnv } from "../presence/config.ts";
import { defaultPushConfig, type PushConfig, pushConfigFromEnv } from "../push/config.ts";
import { type ProcessSettings, processSettingsFromEnv } from "../runtime/process-settings.ts";
import { oneOf, port, wholeNumber } from "../shared/env-settings.ts";
import type { SyncMode } from "../storage/sqlite.ts";
import { defaultRouteThresholds } from "../storage/write-route.ts";

export interface ParleyConfig extends ProcessSettings {
  host: string;
  /** Port for the WebSocket device stream (browsers); 0 picks a free one, -1 turns it off. */
  wsPort: number;
  dataDir: string;
  /** Dev mode logs sign-in codes instead of sending SMS. */
  devMode: boolean;
  sqliteSync: SyncMode;
  /**
   * Where appends and receipts commit: "true" on a thread of their own (write-thread.ts), "false"
   * on the serving connection, "auto" inline while the event loop has room and on the thread once
   * it is busy (write-route.ts).
   */
  sqliteWriteThread: "auto" | "true" | "false";
  /** With "auto": the serving thread's busy percentage that sends writes to the thread, and the one that brings them back. */
  sqliteWriteRoute: { threadAbovePercent: number; inlineBelowPercent: number };
  /** Device link tokens: lifetime and the default history policy of linked devices. */
  linking: LinkingSettings;
  /** Presence coalescing window and typing lifetime and rate limit (docs/presence-and-devices.md). */
  presence: PresenceConfig;
  /** Push notifications: coalescing, rate limit, retries, provider credentials (docs/push.md). */
  push: PushConfig;
}

export const defaultConfig: ParleyConfig = {
  host: "127.0.0.1",
  port: 50051,
  wsPort: 50052,
  dataDir: "./data",
  devMode: true,
  logLevel: "info",
  sqliteSync: "normal",
  sqliteWriteThread: "auto",
  sqliteWriteRoute: {
    threadAbovePercent: Math.round(defaultRouteThresholds.threadAbove * 100),
    inlineBelowPercent: Math.round(defaultRouteThresholds.inlineBelow * 100),
  },
  heartbeatIntervalMs: 30_000,
  deliveredLingerMs: 100,
  window: 256,
  accessTokenTtlMs: 15 * 60_000,
  codeTtlMs: 5 * 60_000,
  metricsPort: 9464,
  drainTimeoutMs: 5_000,
  linking: defaultLinkingSettings,
  presence: defaultPresenceConfig,
  push: defaultPushConfig,
};

/** Reads PARLEY_* variables; an invalid value is an error at start, not a surprise later. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ParleyConfig {
  const d = defaultConfig;
  return {
    ...processSettingsFromEnv(env, d),
    host: env.PARLEY_HOST || d.host,
    wsPort: port(env, "PARLEY_WS_PORT", d.wsPort, true),
    dataDir: env.PARLEY_DATA_DIR || d.dataDir,
    devMode: oneOf(env, "PARLEY_DEV_MODE", ["true", "false"], "true") === "true",
    sqliteSync: oneOf(env, "PARLEY_SQLITE_SYNC", ["normal", "full"], d.sqliteSync),
    sqliteWriteThread: oneOf(env, "PARLEY_SQLITE_WRITE_THREAD", ["auto", "true", "false"], d.sqliteWriteThread),
    sqliteWriteRoute: writeRouteFromEnv(env, d.sqliteWriteRoute),
    linking: linkingFromEnv(env),
    presence: presenceConfigFromEnv(env),
    push: pushConfigFromEnv(env),
  };
}

function writeRouteFromEnv(env: NodeJS.ProcessEnv, d: ParleyConfig["sqliteWriteRoute"]): ParleyConfig["sqliteWriteRoute"] {
  const percent = { min: 0, max: 100 };
  const threadAbovePercent = wholeNumber(env, "PARLEY_SQLITE_THREAD_ABOVE", d.threadAbovePercent, percent);
  const inlineBelowPercent = wholeNumber(env, "PARLEY_SQLITE_INLINE_BELOW", d.inlineBelowPercent, percent);
  if (inlineBelowPercent > threadAbovePercent) {
    throw new Error(
      `PARLEY_SQLITE_INLINE_BELOW (${inlineBelowPercent}) must not be above PARLEY_SQLITE_THREAD_ABOVE (${threadAbovePercent})`,
    );
  }
  return { threadAbovePercent, inlineBelowPercent };
}
