// Push settings from PARLEY_* variables, shared by the all-in-one process and the push process.
// A provider is used when its credentials are configured; otherwise its pushes go to the outbox.
// A half-configured provider or an invalid number stops the process at start.
import { positiveWholeNumber } from "../shared/env-settings.ts";
import type { RetryPolicy } from "./delivery.ts";

export interface PushConfig {
  /** A message opens a window this long; messages for the same device within it share one push. */
  coalesceWindowMs: number;
  /** Per-device token bucket: `burst` pushes at once, refilled at `perMinute`. */
  rate: { burst: number; perMinute: number };
  retry: RetryPolicy;
  fcm?: { serviceAccountFile: string; baseUrl?: string; tokenUri?: string };
  apns?: { keyFile: string; keyId: string; teamId: string; topic: string; baseUrl?: string };
  vapid?: { subject: string; publicKey: string; privateKey: string };
  /** Web Push endpoints must be on these hosts (or their subdomains), so clients cannot make the server post anywhere. */
  webPushHosts: string[];
  /** Accept http:// endpoints (tests against local servers only). */
  webPushAllowHttp: boolean;
  /**
   * Distributed mode: how long a push process acts on its copy of a user's push devices or a
   * conversation's notification settings before reading them again, so what another push process
   * writes (a new token, a mute, a sign-out) shows here within this long.
   */
  cacheMaxAgeMs: number;
}

/** The browsers' push services (Chrome, Firefox, Edge, Safari). */
export const defaultWebPushHosts = [
  "fcm.googleapis.com",
  "updates.push.services.mozilla.com",
  "notify.windows.com",
  "push.apple.com",
];

export const defaultPushConfig: PushConfig = {
  coalesceWindowMs: 2_000,
  rate: { burst: 10, perMinute: 6 },
  retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 },
  webPushHosts: defaultWebPushHosts,
  webPushAllowHttp: false,
  cacheMaxAgeMs: 10_000,
};

/** All of a provider's variables, or none of them; undefined when none is set. */
function group<K extends string>(env: NodeJS.ProcessEnv, what: string, vars: Record<K, string>): Record<K, string> | undefined {
  const entries = Object.entries(vars) as [K, string][];
  const set = entries.filter(([, name]) => env[name]);
  if (set.length === 0) return undefined;
  const missing = entries.filter(([, name]) => !env[name]).map(([, name]) => name);
  if (missing.length > 0) throw new Error(`${what} is half configured: set ${missing.join(", ")} too (or none of them)`);
  return Object.fromEntries(entries.map(([key, name]) => [key, env[name] as string])) as Record<K, string>;
}

const optional = (env: NodeJS.ProcessEnv, name: string) => env[name] || undefined;

export function pushConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PushConfig {
  const d = defaultPushConfig;
  const fcm = group(env, "FCM", { serviceAccountFile: "PARLEY_FCM_SERVICE_ACCOUNT" });
  const apns = group(env, "APNs", {
    keyFile: "PARLEY_APNS_KEY_FILE",
    keyId: "PARLEY_APNS_KEY_ID",
    teamId: "PARLEY_APNS_TEAM_ID",
    topic: "PARLEY_APNS_TOPIC",
  });
  const vapid = group(env, "Web Push", {
    subject: "PARLEY_VAPID_SUBJECT",
    publicKey: "PARLEY_VAPID_PUBLIC_KEY",
    privateKey: "PARLEY_VAPID_PRIVATE_KEY",
  });
  const allowHttp = env.PARLEY_WEB_PUSH_ALLOW_HTTP ?? "false";
  if (!["true", "false"].includes(allowHttp)) throw new Error(`PARLEY_WEB_PUSH_ALLOW_HTTP must be true or false`);
  return {
    coalesceWindowMs: positiveWholeNumber(env, "PARLEY_PUSH_COALESCE_MS", d.coalesceWindowMs),
    cacheMaxAgeMs: positiveWholeNumber(env, "PARLEY_PUSH_CACHE_MS", d.cacheMaxAgeMs),
    rate: {
      burst: positiveWholeNumber(env, "PARLEY_PUSH_RATE_BURST", d.rate.burst),
      perMinute: positiveWholeNumber(env, "PARLEY_PUSH_RATE_PER_MINUTE", d.rate.perMinute),
    },
    retry: {
      maxAttempts: positiveWholeNumber(env, "PARLEY_PUSH_MAX_ATTEMPTS", d.retry.maxAttempts),
      baseDelayMs: positiveWholeNumber(env, "PARLEY_PUSH_RETRY_BASE_MS", d.retry.baseDelayMs),
      maxDelayMs: positiveWholeNumber(env, "PARLEY_PUSH_RETRY_MAX_MS", d.retry.maxDelayMs),
    },
    ...(fcm && {
      fcm: { ...fcm, baseUrl: optional(env, "PARLEY_FCM_BASE_URL"), tokenUri: optional(env, "PARLEY_FCM_TOKEN_URI") },
    }),
    ...(apns && { apns: { ...apns, baseUrl: optional(env, "PARLEY_APNS_URL") } }),
    ...(vapid && { vapid }),
    webPushHosts: env.PARLEY_WEB_PUSH_HOSTS
      ? env.PARLEY_WEB_PUSH_HOSTS.split(",")
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean)
      : d.webPushHosts,
    webPushAllowHttp: allowHttp === "true",
  };
}
