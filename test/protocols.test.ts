// One HTTP/2 port serves gRPC, gRPC-Web and the Connect protocol with the same handlers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { bearer } from "../clients/node/transport.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { IdentityService } from "../gen/parley/v1/identity_pb.js";
import { newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

const transports = {
  gRPC: () => createGrpcTransport({ baseUrl: t.parley.url }),
  "gRPC-Web": () => createGrpcWebTransport({ baseUrl: t.parley.url, httpVersion: "2" }),
  Connect: () => createConnectTransport({ baseUrl: t.parley.url, httpVersion: "2" }),
};

for (const [name, make] of Object.entries(transports)) {
  test(`${name} clients reach health and authenticated RPCs on the same port`, async () => {
    const transport = make();
    const health = createClient(Health, transport);
    assert.equal((await health.check({})).status, HealthCheckResponse_ServingStatus.SERVING);
    const user = await t.signIn(newPhone());
    const identity = createClient(IdentityService, transport);
    const devices = await identity.listDevices({}, { headers: bearer(user.accessToken) });
    assert.deepEqual(
      devices.devices.map((d) => d.deviceId),
      [user.deviceId],
    );
  });
}
