// The start and stop of one service process: logging, tracing, metrics, health, signals and a
// graceful drain. Each service's main.ts supplies only its routes and what to stop.
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { createHealthService, createHealthState, type HealthState } from "../health/service.ts";
import { reflectionFor } from "../reflection/catalog.ts";
import { type Authenticator, createAuthInterceptor } from "../shared/auth.ts";
import { createErrorInterceptor } from "../shared/error-interceptor.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import { createMetrics, type Metrics, serveMetrics } from "../shared/metrics.ts";
import { type DirectRoute, serve } from "../shared/serve.ts";
import { serverTracingInterceptor, startTracing } from "../shared/tracing.ts";
import type { ServiceConfig } from "./config.ts";

export interface ProcessContext {
  logger: Logger;
  metrics: Metrics;
  health: HealthState;
  /** Interceptors for the server (tracing, errors, authentication). */
  interceptors(authenticator: Authenticator | undefined, internalKey?: string): Interceptor[];
}

export interface ServiceDefinition {
  /** Registers the service's handlers (health and reflection are added by the lifecycle). */
  routes(router: ConnectRouter): void;
  /** Fully qualified names answered by health. */
  serviceNames: string[];
  authenticator: Authenticator | undefined;
  /** The key that internal procedures (parley.internal.*) require. */
  internalKey?: string;
  /** Requests served before Connect sees them (the gateway's plain-gRPC device stream). */
  direct?: DirectRoute;
  /** Runs after the listener is up (for example publishing the gateway's address). */
  started?(url: string): Promise<void> | void;
  /** Tells clients to leave (for gateways: GoAway) and resolves when they have or time is up. */
  drain?(deadlineMs: number): Promise<void>;
  /** Releases engines and workers after the listener is closed. */
  stop(): Promise<void>;
}

export function createProcessContext(name: string, config: ServiceConfig): ProcessContext {
  const logger = createLogger({ level: config.logLevel, base: { service: name } });
  const metrics = createMetrics();
  return {
    logger,
    metrics,
    health: createHealthState(),
    interceptors: (authenticator, key) => [
      serverTracingInterceptor(),
      createErrorInterceptor(logger, (procedure, code) => metrics.errors.inc({ procedure, code: String(code) })),
      ...(authenticator ? [createAuthInterceptor(authenticator, { internalKey: key })] : []),
    ],
  };
}

/** Starts serving; SIGTERM/SIGINT drain and stop the process. */
export async function runService(name: string, config: ServiceConfig, context: ProcessContext, definition: ServiceDefinition) {
  const { logger, health } = context;
  const stopTracing = startTracing(`parley-${name}`);
  process.stdout.on("error", () => {});
  process.on("unhandledRejection", (reason) => logger.error("unhandled rejection (a bug)", { error: reason }));
  const served = await serve({
    routes: (router) => {
      definition.routes(router);
      router.service(Health, createHealthService(health, definition.serviceNames));
      // Every process describes what it serves, so grpcurl and buf curl need no local protos.
      router.service(ServerReflection, reflectionFor(definition.serviceNames));
    },
    interceptors: context.interceptors(definition.authenticator, definition.internalKey),
    host: config.host,
    port: config.port,
    logger,
    direct: definition.direct,
  });
  const url = `http://${config.host}:${served.port}`;
  await definition.started?.(url);
  const metricsServer =
    config.metricsPort >= 0 ? await serveMetrics(context.metrics, config.host, config.metricsPort) : undefined;
  logger.info("parley listening", { port: served.port, url, metricsPort: metricsServer?.port });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      logger.info("shutting down", { reason });
      health.setServing(false);
      await definition.drain?.(config.drainTimeoutMs);
      await served.close();
      await definition.stop();
      metricsServer?.server.close();
      await stopTracing();
      logger.info("parley stopped");
    })();
    return stopping;
  };
  const exit = (reason: string) =>
    stop(reason).then(
      () => process.exit(0),
      (error) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  // Launched by a supervisor (the cluster launcher, a test): leave when it does, never orphaned.
  if (process.env.PARLEY_EXIT_WITH_PARENT === "1") {
    process.stdin.on("end", () => void exit("parent exited"));
    process.stdin.resume();
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => void exit(signal));
  }
  return { url, port: served.port };
}
