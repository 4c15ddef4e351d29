// Configuration shared by the processes of distributed mode (one service per process), from
// PARLEY_* environment variables. Invalid values stop the process at start with a clear message.
import { hostname } from "node:os";
import type { LinkingSettings } from "../identity/linking.ts";
import { linkingFromEnv } from "../identity/linking-config.ts";
import { type PresenceConfig, presenceConfigFromEnv } from "../presence/config.ts";
import { wholeNumber } from "../shared/env-settings.ts";
import { type ProcessSettings, processSettingsFromEnv } from "./process-settings.ts";

export interface ServiceConfig extends ProcessSettings {
  host: string;
  /** The HMAC key every service uses to check access tokens (base64, at least 32 bytes). */
  tokenSecret: Uint8Array;
  /** Messaging instances the gateways call (comma-separated base URLs). */
  messagingUrls: string[];
  /** This gateway's internal address, as fanout dials it (defaults to http://host:port). */
  gatewayId: string | undefined;
  /** Device link tokens: lifetime and the default history policy (identity). */
  linking: LinkingSettings;
  /** Presence coalescing window and typing lifetime and rate limit (gateway). */
  presence: PresenceConfig;
  /**
   * This process among its peers (PARLEY_INSTANCE_ID; the pod name on Kubernetes), for what each
   * instance must hear on its own: defaults to host name and process id.
   */
  instanceId: string;
  /**
   * Messaging: how long an instance trusts its copy of an active device before reading the store
   * again (PARLEY_DEVICE_CHECK_CACHE_MS, 0 to read on every request). A sign-out heard on the bus
   * drops the copy at once; this bounds the wait if the bus loses one.
   */
  deviceCheckCacheMs: number;
}

function secret(env: NodeJS.ProcessEnv): Uint8Array {
  const raw = env.PARLEY_TOKEN_SECRET;
  if (!raw) throw new Error("PARLEY_TOKEN_SECRET is required in distributed mode (base64 of at least 32 random bytes)");
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length < 32) throw new Error("PARLEY_TOKEN_SECRET must decode to at least 32 bytes");
  return bytes;
}

/** Distributed mode's defaults: any free port, no metrics endpoint unless asked for. */
const serviceDefaults: ProcessSettings = {
  port: 0,
  metricsPort: -1,
  logLevel: "info",
  accessTokenTtlMs: 15 * 60_000,
  codeTtlMs: 5 * 60_000,
  heartbeatIntervalMs: 30_000,
  deliveredLingerMs: 100,
  window: 256,
  drainTimeoutMs: 5_000,
};

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return {
    ...processSettingsFromEnv(env, serviceDefaults),
    host: env.PARLEY_HOST || "127.0.0.1",
    tokenSecret: secret(env),
    messagingUrls: (env.PARLEY_MESSAGING_URLS ?? "").split(",").filter((u) => u !== ""),
    gatewayId: env.PARLEY_GATEWAY_ID || undefined,
    linking: linkingFromEnv(env),
    presence: presenceConfigFromEnv(env),
    instanceId: env.PARLEY_INSTANCE_ID || `${hostname()}-${process.pid}`,
    deviceCheckCacheMs: wholeNumber(env, "PARLEY_DEVICE_CHECK_CACHE_MS", 10_000),
  };
}
