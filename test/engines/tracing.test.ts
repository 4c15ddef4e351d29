// Acceptance h: one trace follows a send from the sender's gateway through messaging, Kafka and
// fanout to the recipient's gateway, read from the spans the processes export over OTLP.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { textMessage } from "../helpers/chat.ts";
import { eventually, newPhone } from "../helpers/parley.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  instance: string;
}

let collector: Server;
const spans: ExportedSpan[] = [];
let cluster: Cluster;
let c: ClusterClients;

/** A minimal OTLP/HTTP (JSON) trace receiver. */
function startCollector(): Promise<number> {
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const payload = JSON.parse(body || "{}");
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const attributes: { key: string; value: { stringValue?: string } }[] = resourceSpans.resource?.attributes ?? [];
        const instance = attributes.find((a) => a.key === "service.instance.id")?.value.stringValue ?? "";
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ ...span, instance });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) => collector.listen(0, "127.0.0.1", () => resolve((collector.address() as AddressInfo).port)));
}

before(async () => {
  const port = await startCollector();
  ({ cluster, clients: c } = await startEngineCluster({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "200",
      OTEL_TRACES_SAMPLER: "always_on",
    },
  }));
});
after(async () => {
  await cluster.stop();
  collector.close();
});

test("one send is one trace: gateway -> messaging -> Kafka -> fanout -> the recipient's gateway", async () => {
  const [alice, bob] = await Promise.all([signIn(cluster, c, newPhone()), signIn(cluster, c, newPhone())]);
  if (!alice || !bob) throw new Error("sign-in failed");
  const { conversation } = await c.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  const id = conversation?.conversationId ?? "";
  const sender = new DeviceStream(gatewayAt(c, 0), { accessToken: alice.accessToken });
  const recipient = new DeviceStream(gatewayAt(c, 1), { accessToken: bob.accessToken });
  await Promise.all([sender.caughtUp, recipient.caughtUp]);
  await sender.send(textMessage(id, "trace me"));
  await eventually("delivered", () => recipient.events.some((e) => e.body.case === "message"), 30_000);

  const root = () => spans.find((s) => s.name === "SessionService/send" && s.instance === "gateway-1");
  await eventually("the send's root span is exported", () => root() !== undefined, 30_000);
  const traceId = root()?.traceId;
  const hop = (instancePrefix: string, name: string) => () =>
    spans.some((s) => s.traceId === traceId && s.instance.startsWith(instancePrefix) && s.name === name);
  const path: [string, string][] = [
    ["gateway-1", "SessionService/send"],
    ["messaging-", "parley.v1.MessagingService/SendMessage"],
    ["messaging-", "conversation-events publish"],
    ["fanout-", "conversation-events consume"],
    ["gateway-2", "parley.internal.v1.GatewayInternalService/Deliver"],
  ];
  for (const [instance, name] of path) await eventually(`${name} on ${instance} in the trace`, hop(instance, name), 30_000);
  const inTrace = spans.filter((s) => s.traceId === traceId);
  const ids = new Set(inTrace.map((s) => s.spanId));
  for (const span of inTrace) {
    if (span !== root()) assert.ok(span.parentSpanId && ids.has(span.parentSpanId), `${span.name} hangs off the same trace`);
  }
  sender.close();
  recipient.close();
});
