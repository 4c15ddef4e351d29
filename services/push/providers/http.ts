// What every provider adapter shares: reading Retry-After, and the answer for a failed request.
import type { SendResult } from "../ports.ts";

/** Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A request that never got an answer (refused, reset, timed out) is worth another try. */
export function networkFailure(error: unknown): SendResult {
  const name = error instanceof Error ? error.name : "";
  return { kind: "retry", detail: `${name === "TimeoutError" ? "timeout" : "network"}: ${String(error)}` };
}

/** Throttled (429) and server errors (5xx) are retried; returns undefined for other statuses. */
export function retryable(status: number, retryAfter: number | undefined, detail: string): SendResult | undefined {
  if (status === 429 || status >= 500) return { kind: "retry", detail: `${status} ${detail}`.trim(), retryAfterMs: retryAfter };
  return undefined;
}

/** Per-request time limit, combined with the caller's stop signal. */
export const requestTimeoutMs = 10_000;

export function withTimeout(signal: AbortSignal, ms = requestTimeoutMs): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}
