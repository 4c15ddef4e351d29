// Configuration of the all-in-one process, from environment variables with working defaults.
import { maxWindow } from "../gateway/window.ts";
import { defaultLinkingSettings, type LinkingSettings } from "../identity/linking.ts";
import { linkingFromEnv } from "../identity/linking-config.ts";
import { defaultPresenceConfig, type PresenceConfig, presenceConfigFromEnv } from "../presence/config.ts";
import { defaultPushConfig, type PushConfig, pushConfigFromEnv } from "../push/config.ts";
import { oneOf, port, positiveWholeNumber, wholeNumber } from "../shared/env-settings.ts";
import type { LogLevel } from "../shared/logger.ts";
import type { SyncMode } from "../storage/sqlite.ts";

export interface ParleyConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Port for the WebSocket device stream (browsers); 0 picks a free one, -1 turns it off. */
  wsPort: number;
  dataDir: string;
  /** Dev mode logs sign-in codes instead of sending SMS. */
  devMode: boolean;
  logLevel: LogLevel;
  sqliteSync: SyncMode;
  heartbeatIntervalMs: number;
  /** How long a busy device's next delivered write waits, so its acks coalesce (ms; 0 = none). */
  deliveredLingerMs: number;
  window: number;
  accessTokenTtlMs: number;
  codeTtlMs: number;
  /** Port for Prometheus metrics over HTTP/1.1; 0 picks a free one, -1 turns it off. */
  metricsPort: number;
  /** How long a SIGTERM waits for streams to leave before closing them. */
  drainTimeoutMs: number;
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
    host: env.PARLEY_HOST || d.host,
    port: port(env, "PARLEY_PORT", d.port),
    wsPort: port(env, "PARLEY_WS_PORT", d.wsPort, true),
    dataDir: env.PARLEY_DATA_DIR || d.dataDir,
    devMode: oneOf(env, "PARLEY_DEV_MODE", ["true", "false"], "true") === "true",
    logLevel: oneOf(env, "PARLEY_LOG_LEVEL", ["debug", "info", "warn", "error"], d.logLevel),
    sqliteSync: oneOf(env, "PARLEY_SQLITE_SYNC", ["normal", "full"], d.sqliteSync),
    heartbeatIntervalMs: positiveWholeNumber(env, "PARLEY_HEARTBEAT_MS", d.heartbeatIntervalMs),
    deliveredLingerMs: wholeNumber(env, "PARLEY_DELIVERED_LINGER_MS", d.deliveredLingerMs),
    window: wholeNumber(env, "PARLEY_WINDOW", d.window, { min: 1, max: maxWindow }),
    accessTokenTtlMs: positiveWholeNumber(env, "PARLEY_ACCESS_TOKEN_TTL_MS", d.accessTokenTtlMs),
    codeTtlMs: positiveWholeNumber(env, "PARLEY_CODE_TTL_MS", d.codeTtlMs),
    metricsPort: port(env, "PARLEY_METRICS_PORT", d.metricsPort, true),
    drainTimeoutMs: wholeNumber(env, "PARLEY_DRAIN_TIMEOUT_MS", d.drainTimeoutMs),
    linking: linkingFromEnv(env),
    presence: presenceConfigFromEnv(env),
    push: pushConfigFromEnv(env),
  };
}
