// Configuration shared by the processes of distributed mode (one service per process), from
// PARLEY_* environment variables. Invalid values stop the process at start with a clear message.
import { maxWindow } from "../gateway/window.ts";
import type { LinkingSettings } from "../identity/linking.ts";
import { linkingFromEnv } from "../identity/linking-config.ts";
import { type PresenceConfig, presenceConfigFromEnv } from "../presence/config.ts";
import { oneOf, port, positiveWholeNumber, wholeNumber } from "../shared/env-settings.ts";
import type { LogLevel } from "../shared/logger.ts";

export interface ServiceConfig {
  host: string;
  port: number;
  /** -1 turns the metrics endpoint off; 0 picks a free port. */
  metricsPort: number;
  logLevel: LogLevel;
  /** The HMAC key every service uses to check access tokens (base64, at least 32 bytes). */
  tokenSecret: Uint8Array;
  accessTokenTtlMs: number;
  codeTtlMs: number;
  heartbeatIntervalMs: number;
  /** How long a gateway holds a busy device's next delivered write (ms; 0 = none). */
  deliveredLingerMs: number;
  window: number;
  drainTimeoutMs: number;
  /** Messaging instances the gateways call (comma-separated base URLs). */
  messagingUrls: string[];
  /** This gateway's internal address, as fanout dials it (defaults to http://host:port). */
  gatewayId: string | undefined;
  /** Device link tokens: lifetime and the default history policy (identity). */
  linking: LinkingSettings;
  /** Presence coalescing window and typing lifetime and rate limit (gateway). */
  presence: PresenceConfig;
}

function secret(env: NodeJS.ProcessEnv): Uint8Array {
  const raw = env.PARLEY_TOKEN_SECRET;
  if (!raw) throw new Error("PARLEY_TOKEN_SECRET is required in distributed mode (base64 of at least 32 random bytes)");
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length < 32) throw new Error("PARLEY_TOKEN_SECRET must decode to at least 32 bytes");
  return bytes;
}

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return {
    host: env.PARLEY_HOST || "127.0.0.1",
    port: port(env, "PARLEY_PORT", 0),
    metricsPort: port(env, "PARLEY_METRICS_PORT", -1, true),
    logLevel: oneOf<LogLevel>(env, "PARLEY_LOG_LEVEL", ["debug", "info", "warn", "error"], "info"),
    tokenSecret: secret(env),
    accessTokenTtlMs: positiveWholeNumber(env, "PARLEY_ACCESS_TOKEN_TTL_MS", 15 * 60_000),
    codeTtlMs: positiveWholeNumber(env, "PARLEY_CODE_TTL_MS", 5 * 60_000),
    heartbeatIntervalMs: positiveWholeNumber(env, "PARLEY_HEARTBEAT_MS", 30_000),
    deliveredLingerMs: wholeNumber(env, "PARLEY_DELIVERED_LINGER_MS", 100),
    window: wholeNumber(env, "PARLEY_WINDOW", 256, { min: 1, max: maxWindow }),
    drainTimeoutMs: wholeNumber(env, "PARLEY_DRAIN_TIMEOUT_MS", 5_000),
    messagingUrls: (env.PARLEY_MESSAGING_URLS ?? "").split(",").filter((u) => u !== ""),
    gatewayId: env.PARLEY_GATEWAY_ID || undefined,
    linking: linkingFromEnv(env),
    presence: presenceConfigFromEnv(env),
  };
}
