// Configuration shared by the processes of distributed mode (one service per process), from
// PARLEY_* environment variables. Invalid values stop the process at start with a clear message.
import type { LinkingSettings } from "../identity/linking.ts";
import { linkingFromEnv } from "../identity/linking-config.ts";
import { type PresenceConfig, presenceConfigFromEnv } from "../presence/config.ts";
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

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

function secret(env: NodeJS.ProcessEnv): Uint8Array {
  const raw = env.PARLEY_TOKEN_SECRET;
  if (!raw) throw new Error("PARLEY_TOKEN_SECRET is required in distributed mode (base64 of at least 32 random bytes)");
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length < 32) throw new Error("PARLEY_TOKEN_SECRET must decode to at least 32 bytes");
  return bytes;
}

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const level = env.PARLEY_LOG_LEVEL || "info";
  if (!["debug", "info", "warn", "error"].includes(level)) throw new Error(`PARLEY_LOG_LEVEL must be debug, info, warn or error`);
  return {
    host: env.PARLEY_HOST || "127.0.0.1",
    port: int(env, "PARLEY_PORT", 0),
    metricsPort: int(env, "PARLEY_METRICS_PORT", -1),
    logLevel: level as LogLevel,
    tokenSecret: secret(env),
    accessTokenTtlMs: int(env, "PARLEY_ACCESS_TOKEN_TTL_MS", 15 * 60_000),
    codeTtlMs: int(env, "PARLEY_CODE_TTL_MS", 5 * 60_000),
    heartbeatIntervalMs: int(env, "PARLEY_HEARTBEAT_MS", 30_000),
    deliveredLingerMs: int(env, "PARLEY_DELIVERED_LINGER_MS", 100),
    window: int(env, "PARLEY_WINDOW", 256),
    drainTimeoutMs: int(env, "PARLEY_DRAIN_TIMEOUT_MS", 5_000),
    messagingUrls: (env.PARLEY_MESSAGING_URLS ?? "").split(",").filter((u) => u !== ""),
    gatewayId: env.PARLEY_GATEWAY_ID || undefined,
    linking: linkingFromEnv(env),
    presence: presenceConfigFromEnv(env),
  };
}
