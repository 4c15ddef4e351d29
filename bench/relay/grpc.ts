// The relay's SessionService over gRPC: the same generated service and the same Connect stack on
// node:http2 as Parley (services/shared/serve.ts), with nothing behind it but the hub.
import { createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ConnectResponseSchema, SessionService } from "../../gen/parley/v1/session_pb.js";
import { FrameQueue } from "./frame-queue.ts";
import { type Hub, identityOf, type RelayStream } from "./hub.ts";
import { handleRequest, openingFrames } from "./session.ts";

export async function serveGrpcRelay(hub: Hub, port: number): Promise<number> {
  const routes = (router: ConnectRouter) =>
    router.service(SessionService, {
      async *connect(requests, ctx) {
        const token = ctx.requestHeader.get("authorization")?.replace(/^Bearer /i, "") ?? "";
        const who = identityOf(token);
        if (!who) throw new ConnectError("relay token expected", Code.Unauthenticated);
        const queue = new FrameQueue();
        let nextDelivery = 1n;
        const stream: RelayStream = {
          ...who,
          deliver: (event) =>
            queue.push(create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: nextDelivery++, event } } })),
        };
        (async () => {
          let first = true;
          for await (const request of requests) {
            if (first) {
              first = false;
              for (const frame of openingFrames(who)) queue.push(frame);
              hub.add(stream);
              continue;
            }
            const reply = handleRequest(hub, stream, request);
            if (reply) queue.push(reply);
          }
        })()
          .catch(() => {})
          .finally(() => queue.end());
        try {
          yield* queue;
        } finally {
          hub.remove(stream);
        }
      },
    });
  const server = createServer(connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false }));
  server.on("session", (session) => session.on("error", () => {}));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}
