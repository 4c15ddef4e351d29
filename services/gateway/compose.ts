// Builds a gateway: the session stream service, its registry of streams and the internal
// delivery service, over a MessagingService client (in-process or gRPC).
import type { Client } from "@connectrpc/connect";
import type { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import { type Metrics, observeMessageAge } from "../shared/metrics.ts";
import type { SessionExtension } from "./extension.ts";
import { createGatewayInternalService } from "./internal-service.ts";
import { type RoutePublishing, SessionRegistry } from "./registry.ts";
import { createSessionService } from "./session-service.ts";
import { maxWindow } from "./window.ts";

export interface GatewaySettings {
  heartbeatIntervalMs: number;
  /** PARLEY_DELIVERED_LINGER_MS: see SessionSettings.deliveredLingerMs. */
  deliveredLingerMs: number;
  window: number;
  maxMessageBytes: number;
}

export function composeGateway(deps: {
  messaging: Client<typeof MessagingService>;
  settings: GatewaySettings;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  routes?: RoutePublishing;
  /** Presence and typing on the device streams. */
  extension?: SessionExtension;
  /** Aborted when the gateway starts to drain (ends the fanout workers' DeliverStreams). */
  closing?: AbortSignal;
}) {
  const { settings, clock, metrics } = deps;
  const registry = new SessionRegistry({ clock, heartbeatIntervalMs: settings.heartbeatIntervalMs, routes: deps.routes });
  const sessionService = createSessionService({
    registry,
    messaging: deps.messaging,
    clock,
    logger: deps.logger.child({ service: "gateway" }),
    settings: {
      window: settings.window,
      maxWindow,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      maxMessageBytes: settings.maxMessageBytes,
      pageSize: 500,
      deliveredLingerMs: settings.deliveredLingerMs,
      helloTimeoutMs: 10_000,
    },
    onStreamCount: (delta) => metrics.openStreams.inc(delta),
    extension: deps.extension,
  });
  return {
    registry,
    sessionService,
    internalService: createGatewayInternalService(registry, deps.closing, (event) =>
      observeMessageAge(metrics, "offered", event),
    ),
  };
}
