// Starts the all-in-one Parley process: gRPC, gRPC-Web and Connect on one HTTP/2 port over the
// embedded store, the WebSocket device stream on its own port, plus the metrics endpoint; stop()
// drains streams and flushes the store.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createMemoryBus } from "../bus/adapters/memory.ts";
import { grpcSessionRoute } from "../gateway/grpc/session-route.ts";
import { maxClientFrameBytes } from "../gateway/inbound-frames.ts";
import { directSessionOpener } from "../gateway/session-opener.ts";
import { serveWebSocket } from "../gateway/websocket/server.ts";
import { createHealthState } from "../health/service.ts";
import { LogCodeSender } from "../identity/adapters/log-code-sender.ts";
import type { CodeSender } from "../identity/ports.ts";
import { routedWrites } from "../messaging/adapters/sqlite/routed-writes.ts";
import { inlineWrites, threadWrites } from "../messaging/adapters/sqlite/writes.ts";
import { type Clock, createUuidV7Generator, systemClock } from "../shared/clock.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import { createMetrics, serveMetrics } from "../shared/metrics.ts";
import { serve } from "../shared/serve.ts";
import { startCheckpointer } from "../storage/checkpointer.ts";
import { holdingBoth, inlineCommitQueue } from "../storage/group-commit.ts";
import { closeDatabase, databasePath, openDatabase } from "../storage/sqlite.ts";
import { defaultRouteThresholds, fixedRoute, loadRoute } from "../storage/write-route.ts";
import type { ParleyConfig } from "./config.ts";
import { wireServices } from "./wiring.ts";

export interface RunningParley {
  port: number;
  /** The WebSocket port, when it is on. */
  wsPort: number | undefined;
  metricsPort: number | undefined;
  url: string;
  stop(): Promise<void>;
}

export interface StartOverrides {
  logger?: Logger;
  clock?: Clock;
  codeSender?: CodeSender;
}

/** The token-signing key lives in the data directory so tokens survive restarts. */
function loadSecret(dataDir: string): Uint8Array {
  const path = join(dataDir, "token-secret");
  if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600 });
  return readFileSync(path);
}

export async function startParley(config: ParleyConfig, overrides: StartOverrides = {}): Promise<RunningParley> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const clock = overrides.clock ?? systemClock;
  if (!config.devMode && !overrides.codeSender)
    throw new Error("no SMS provider is configured; set PARLEY_DEV_MODE=true to log codes");
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase({ dataDir: config.dataDir, sync: config.sqliteSync });
  const bus = createMemoryBus({ logger: logger.child({ component: "bus" }) });
  const metrics = createMetrics();
  const path = databasePath(config.dataDir);
  const sqliteLogger = logger.child({ component: "sqlite" });
  const writeThread =
    config.sqliteWriteThread !== "false"
      ? threadWrites({
          path,
          sync: config.sqliteSync,
          logger: sqliteLogger,
          onRestart: () => metrics.writeThreadRestarts.inc(),
          onBatch: (calls) => metrics.writeThreadBatchCalls.observe(calls),
        })
      : undefined;
  const route =
    config.sqliteWriteThread === "auto"
      ? loadRoute({
          ...defaultRouteThresholds,
          threadAbove: config.sqliteWriteRoute.threadAbovePercent / 100,
          inlineBelow: config.sqliteWriteRoute.inlineBelowPercent / 100,
          onSample: (busy, offload) => {
            metrics.eventLoopUtilization.set(busy);
            metrics.hotWritesOffloaded.set(offload ? 1 : 0);
          },
        })
      : fixedRoute(true);
  const writes = writeThread
    ? routedWrites(inlineWrites(db), writeThread, route, (to) => metrics.hotWrites.inc({ route: to }))
    : inlineWrites(db);
  if (writeThread) metrics.watchWriteThread(() => writeThread.pending);
  const checkpointer = startCheckpointer({
    db,
    path,
    // Both connections commit hot writes, so a WAL restart holds both.
    commits: writeThread ? holdingBoth(inlineCommitQueue(db), writeThread) : undefined,
    sync: config.sqliteSync,
    logger: sqliteLogger,
    onCheckpoint: (report) => {
      metrics.walFramesPending.set(report.logged - report.checkpointed);
      metrics.checkpointSeconds.observe(report.durationMs / 1000);
    },
    onRestart: (restart) => metrics.walRestartSeconds.observe(restart.heldMs / 1000),
  });
  const health = createHealthState();
  const wiring = wireServices({
    config,
    db,
    writes,
    bus,
    clock,
    ids: createUuidV7Generator(clock),
    logger,
    metrics,
    health,
    codeSender: overrides.codeSender ?? new LogCodeSender(logger.child({ service: "identity" })),
    secret: loadSecret(config.dataDir),
  });
  const workers = new AbortController();
  await wiring.fanout.run(workers.signal);

  const served = await serve({
    routes: wiring.routes,
    interceptors: wiring.interceptors,
    host: config.host,
    port: config.port,
    logger,
    direct: grpcSessionRoute({
      open: directSessionOpener(wiring.sessions.service, wiring.sessions.authenticator, "grpc"),
      maxFrameBytes: maxClientFrameBytes,
      logger: logger.child({ service: "gateway" }),
      onError: (procedure, code) => metrics.errors.inc({ procedure, code: String(code) }),
    }),
  });
  const port = served.port;
  const ws =
    config.wsPort >= 0
      ? await serveWebSocket({
          host: config.host,
          port: config.wsPort,
          open: directSessionOpener(wiring.sessions.service, wiring.sessions.authenticator),
          logger,
        })
      : undefined;
  const metricsServer = config.metricsPort >= 0 ? await serveMetrics(metrics, config.host, config.metricsPort) : undefined;
  logger.info("parley listening", {
    host: config.host,
    port,
    wsPort: ws?.port,
    metricsPort: metricsServer?.port,
    dataDir: config.dataDir,
  });

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    health.setServing(false);
    await wiring.registry.drain({ reconnectAfterMs: 1_000, deadlineMs: config.drainTimeoutMs });
    await new Promise((r) => setTimeout(r, 50)); // let GoAway frames reach the wire
    await Promise.all([served.close(), ws?.close()]);
    workers.abort();
    wiring.registry.stop();
    await bus.close();
    route.stop();
    await writeThread?.close();
    await checkpointer.stop();
    closeDatabase(db);
    metricsServer?.server.close();
    logger.info("parley stopped");
  }

  return {
    port,
    wsPort: ws?.port,
    metricsPort: metricsServer?.port,
    url: `http://${config.host}:${port}`,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
