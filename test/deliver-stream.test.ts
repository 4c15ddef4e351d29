// A fanout worker's deliveries to a gateway go many to one long-lived DeliverStream. Each still
// gets its own answer, deadline and error; a stream that ends fails only what was waiting on it,
// and a gateway without DeliverStream is reached with Deliver calls.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type Client, Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GatewayInternalService } from "../gen/parley/internal/v1/gateway_pb.js";
import { createDeliverStream } from "../services/fanout/deliver-stream.ts";
import { createGatewayInternalService } from "../services/gateway/internal-service.ts";
import { SessionRegistry } from "../services/gateway/registry.ts";
import { systemClock } from "../services/shared/clock.ts";
import { silentLogger } from "../services/shared/logger.ts";
import { type Served, serve } from "../services/shared/serve.ts";

const servers: Served[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
});

async function gatewayWith(impl: Partial<ServiceImpl<typeof GatewayInternalService>>) {
  const served = await serve({
    routes: (router) => router.service(GatewayInternalService, impl),
    interceptors: [],
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger,
  });
  servers.push(served);
  const client: Client<typeof GatewayInternalService> = createClient(
    GatewayInternalService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${served.port}` }),
  );
  const opened = { count: 0 };
  return Object.assign(createDeliverStream(client, { gatewayId: "test", logger: silentLogger, onOpen: () => opened.count++ }), {
    opened,
  });
}

const event = (userIds: string[]) => ({ userIds, payload: { case: "closeDeviceId" as const, value: "d" } });

/** A gateway that answers each delivery with its number of users, except users named "hold". */
function countingGateway() {
  const seen = { streams: 0, calls: 0 };
  const impl: Partial<ServiceImpl<typeof GatewayInternalService>> = {
    async deliver(req) {
      seen.calls++;
      return { offered: req.userIds.length };
    },
    async *deliverStream(requests) {
      seen.streams++;
      for await (const req of requests) {
        const users = req.deliver?.userIds ?? [];
        if (users.includes("end")) return;
        if (users.includes("hold")) continue;
        yield { id: req.id, result: { offered: users.length } };
      }
    },
  };
  return { seen, impl };
}

test("many deliveries share one stream, and each gets its own answer", async () => {
  const { seen, impl } = countingGateway();
  const gateway = await gatewayWith(impl);
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => gateway.deliver(event(Array.from({ length: i % 7 }, (_, u) => `u${u}`)))),
  );
  assert.deepEqual(
    answers.map((a) => a.offered),
    Array.from({ length: 50 }, (_, i) => i % 7),
  );
  assert.equal(seen.streams, 1);
  assert.equal(seen.calls, 0);
  gateway.close();
});

test("an unanswered delivery fails with DEADLINE_EXCEEDED; the stream goes on for the others", async () => {
  const { seen, impl } = countingGateway();
  const gateway = await gatewayWith(impl);
  const held = gateway.deliver(event(["hold"]), { timeoutMs: 100 });
  const next = gateway.deliver(event(["a", "b"]));
  await assert.rejects(held, (e: unknown) => e instanceof ConnectError && e.code === Code.DeadlineExceeded);
  assert.equal((await next).offered, 2);
  assert.equal((await gateway.deliver(event(["a"]))).offered, 1);
  assert.equal(seen.streams, 1);
  gateway.close();
});

test("a stream the gateway ends fails what waits on it with UNAVAILABLE; the next delivery opens another", async () => {
  const { seen, impl } = countingGateway();
  const gateway = await gatewayWith(impl);
  assert.equal((await gateway.deliver(event(["a"]))).offered, 1);
  const waiting = gateway.deliver(event(["hold"]), { timeoutMs: 10_000 });
  const ending = gateway.deliver(event(["end"]), { timeoutMs: 10_000 });
  for (const p of [waiting, ending]) {
    await assert.rejects(p, (e: unknown) => e instanceof ConnectError && e.code === Code.Unavailable);
  }
  assert.equal((await gateway.deliver(event(["a", "b", "c"]))).offered, 3);
  assert.equal(seen.streams, 2);
  assert.equal(gateway.opened.count, 2);
  gateway.close();
  await assert.rejects(gateway.deliver(event(["a"])), (e: unknown) => e instanceof ConnectError && e.code === Code.Canceled);
});

test("a gateway without DeliverStream is reached with Deliver calls", async () => {
  const { seen, impl } = countingGateway();
  const gateway = await gatewayWith({ deliver: impl.deliver });
  const answers = await Promise.all([gateway.deliver(event(["a"])), gateway.deliver(event(["a", "b"]))]);
  assert.deepEqual(
    answers.map((a) => a.offered),
    [1, 2],
  );
  assert.equal((await gateway.deliver(event([]))).offered, 0);
  assert.equal(seen.calls, 3);
  gateway.close();
});

test("a draining gateway ends its delivery streams and refuses new ones with UNAVAILABLE", async () => {
  const draining = new AbortController();
  const registry = new SessionRegistry({ clock: systemClock, heartbeatIntervalMs: 30_000 });
  const gateway = await gatewayWith(createGatewayInternalService(registry, draining.signal));
  // No stream on this gateway holds the device: offered to none, answered all the same.
  assert.equal((await gateway.deliver(event([]))).offered, 0);
  draining.abort();
  await assert.rejects(gateway.deliver(event([])), (e: unknown) => e instanceof ConnectError && e.code === Code.Unavailable);
  gateway.close();
});
