// Prometheus metrics of one process, served over plain HTTP/1.1 for scrapers.
import { createServer, type Server } from "node:http";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "parley_process_" });
  let writeThreadPending = () => 0;
  return {
    registry,
    openStreams: new Gauge({ name: "parley_open_streams", help: "Device streams currently open", registers: [registry] }),
    sends: new Counter({
      name: "parley_sends_total",
      help: "Messages accepted, by whether they were retries",
      labelNames: ["duplicate"],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "parley_live_deliveries_total",
      help: "Events offered to device streams",
      registers: [registry],
    }),
    fanoutLag: new Histogram({
      name: "parley_fanout_lag_seconds",
      help: "Time from a message's acceptance to its hand-off to gateways",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    // A message's age at each hop, so its send→deliver time splits into the hops' shares (sentAt is
    // messaging's clock at acceptance; across hosts the ages include the clocks' offset).
    eventAge: new Histogram({
      name: "parley_event_age_seconds",
      help: "Age of a message event (now minus its sentAt, stamped when messaging accepted it) at each hop: appended and published (messaging), consumed (fanout), offered (gateway, distributed mode)",
      labelNames: ["hop"],
      buckets: [
        0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25,
        0.5, 1, 2.5, 10,
      ],
      registers: [registry],
    }),
    // The embedded store's WAL, checkpointed by a background thread (services/storage/checkpointer.ts).
    walFramesPending: new Gauge({
      name: "parley_sqlite_wal_frames_pending",
      help: "WAL frames not yet copied into the database file at the last checkpoint",
      registers: [registry],
    }),
    checkpointSeconds: new Histogram({
      name: "parley_sqlite_checkpoint_seconds",
      help: "Duration of background WAL checkpoints that had work to do",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    writeThreadPending: new Gauge({
      name: "parley_sqlite_write_thread_pending",
      help: "Writes sent to the SQLite write thread and not yet committed (read at each scrape)",
      registers: [registry],
      collect() {
        this.set(writeThreadPending());
      },
    }),
    /** Where the pending-writes gauge reads from (the composition root's write thread). */
    watchWriteThread(pending: () => number) {
      writeThreadPending = pending;
    },
    writeThreadBatchCalls: new Histogram({
      name: "parley_sqlite_write_thread_batch_calls",
      help: "Calls per message sent to the SQLite write thread (one is in flight at a time; the rest wait for its answer)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    eventLoopUtilization: new Gauge({
      name: "parley_event_loop_utilization",
      help: "Share of the serving thread's time spent outside its event loop's wait (0-1), over the last write-route sample",
      registers: [registry],
    }),
    hotWritesOffloaded: new Gauge({
      name: "parley_sqlite_hot_writes_offloaded",
      help: "1 while new appends and receipt watermarks go to the write thread, 0 while they commit on the serving connection",
      registers: [registry],
    }),
    hotWrites: new Counter({
      name: "parley_sqlite_hot_writes_total",
      help: "Appends and receipt watermarks by where they committed: the serving connection (inline) or the write thread",
      labelNames: ["route"],
      registers: [registry],
    }),
    writeThreadRestarts: new Counter({
      name: "parley_sqlite_write_thread_restarts_total",
      help: "Times the SQLite write thread died and another was started (its unanswered writes failed)",
      registers: [registry],
    }),
    walRestartSeconds: new Histogram({
      name: "parley_sqlite_wal_restart_seconds",
      help: "Time commits were held while the checkpoint thread copied the WAL's last frames so it could start again",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    errors: new Counter({
      name: "parley_rpc_errors_total",
      help: "RPC failures by procedure and gRPC code",
      labelNames: ["procedure", "code"],
      registers: [registry],
    }),
    // Long-lived internal streams (shared/stream-channel.ts): opened once per peer unless they end.
    streamOpens: new Counter({
      name: "parley_internal_streams_opened_total",
      help: "Long-lived internal streams opened, by the service at the other end (a rising rate means streams keep ending)",
      labelNames: ["peer"],
      registers: [registry],
    }),
    relayInFlight: new Gauge({
      name: "parley_relay_requests_in_flight",
      help: "Relayed requests (gateways' sends and receipts) running in this messaging instance",
      registers: [registry],
    }),
    // Push notifications (services/push; docs/push.md).
    pushAttempts: new Counter({
      name: "parley_push_attempts_total",
      help: "Push sends by provider and result (sent, unregistered, retry, rejected)",
      labelNames: ["provider", "result"],
      registers: [registry],
    }),
    pushDeadLetters: new Counter({
      name: "parley_push_dead_letters_total",
      help: "Pushes given up on after bounded retries (or rejected), stored for inspection",
      labelNames: ["provider"],
      registers: [registry],
    }),
    pushSkipped: new Counter({
      name: "parley_push_skipped_total",
      help: "Device pushes not sent, by reason (connected, muted, disabled)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    pushCoalesced: new Counter({
      name: "parley_push_coalesced_total",
      help: "Messages that joined a push already pending for the device",
      registers: [registry],
    }),
    pushRateLimited: new Counter({
      name: "parley_push_rate_limited_total",
      help: "Pushes held back by the per-device rate limit (they keep collecting and go later)",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Records a message's age (now minus its sentAt) at a hop; other events are not counted. */
export function observeMessageAge(metrics: Metrics, hop: string, event: ConversationEvent): void {
  if (event.sentAt && event.body.case === "message")
    metrics.eventAge.observe({ hop }, (Date.now() - timestampMs(event.sentAt)) / 1000);
}

/** Serves GET /metrics on host:port; resolves with the bound port. */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : port };
}
