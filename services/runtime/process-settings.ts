// The settings every Parley process reads the same way, whether it runs everything (all-in-one)
// or one service (distributed mode): ports, log level, stream timing and token lifetimes. Each
// kind of process passes its own defaults; the rules for a value are the same in both.
import { maxWindow } from "../gateway/window.ts";
import { oneOf, port, positiveWholeNumber, wholeNumber } from "../shared/env-settings.ts";
import type { LogLevel } from "../shared/logger.ts";

export interface ProcessSettings {
  /** 0 picks a free port. */
  port: number;
  /** Port for Prometheus metrics over HTTP/1.1; 0 picks a free one, -1 turns it off. */
  metricsPort: number;
  logLevel: LogLevel;
  heartbeatIntervalMs: number;
  /** How long a busy device's next delivered write waits, so its acks coalesce (ms; 0 = none). */
  deliveredLingerMs: number;
  window: number;
  accessTokenTtlMs: number;
  codeTtlMs: number;
  /** How long a SIGTERM waits for streams to leave before closing them. */
  drainTimeoutMs: number;
}

export function processSettingsFromEnv(env: NodeJS.ProcessEnv, d: ProcessSettings): ProcessSettings {
  return {
    port: port(env, "PARLEY_PORT", d.port),
    metricsPort: port(env, "PARLEY_METRICS_PORT", d.metricsPort, true),
    logLevel: oneOf<LogLevel>(env, "PARLEY_LOG_LEVEL", ["debug", "info", "warn", "error"], d.logLevel),
    heartbeatIntervalMs: positiveWholeNumber(env, "PARLEY_HEARTBEAT_MS", d.heartbeatIntervalMs),
    deliveredLingerMs: wholeNumber(env, "PARLEY_DELIVERED_LINGER_MS", d.deliveredLingerMs),
    window: wholeNumber(env, "PARLEY_WINDOW", d.window, { min: 1, max: maxWindow }),
    accessTokenTtlMs: positiveWholeNumber(env, "PARLEY_ACCESS_TOKEN_TTL_MS", d.accessTokenTtlMs),
    codeTtlMs: positiveWholeNumber(env, "PARLEY_CODE_TTL_MS", d.codeTtlMs),
    drainTimeoutMs: wholeNumber(env, "PARLEY_DRAIN_TIMEOUT_MS", d.drainTimeoutMs),
  };
}
