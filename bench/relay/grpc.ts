// The relay's SessionService over gRPC: the same transport as Parley's device stream (plain gRPC
// framing written straight on node:http2, services/gateway/grpc/), with nothing behind it but the
// hub. No flow control on purpose: it measures the transport, not a server's policies.
import { constants, createServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { ConnectRequestSchema, type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { encodeGrpcMessage } from "../../services/gateway/frame-encoding.ts";
import { GrpcMessageReader } from "../../services/gateway/grpc/framing.ts";
import { type Hub, identityOf, type RelayStream } from "./hub.ts";
import { handleRequest, openingFrames } from "./session.ts";

const path = "/parley.v1.SessionService/Connect";

export async function serveGrpcRelay(hub: Hub, port: number): Promise<number> {
  // 'stream' events, no request handler: Parley's device stream skips Node's compatibility layer
  // too (services/shared/serve.ts).
  const server = createServer();
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    if (headers[constants.HTTP2_HEADER_PATH] !== path) return end(stream, "12", "only SessionService/Connect is relayed");
    const who = identityOf(String(headers.authorization ?? "").replace(/^Bearer /i, ""));
    if (!who) return end(stream, "16", "relay token expected");
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
    const write = (frame: ConnectResponse) => stream.write(encodeGrpcMessage(frame));
    let nextDelivery = 1n;
    const relayed: RelayStream = {
      ...who,
      deliver: (event) =>
        write(create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: nextDelivery++, event } } })),
    };
    const reader = new GrpcMessageReader(64 * 1024);
    let opened = false;
    stream.on("data", (chunk: Buffer) => {
      for (const bytes of reader.push(chunk)) {
        const request = fromBinary(ConnectRequestSchema, bytes);
        if (!opened) {
          opened = true;
          for (const frame of openingFrames(who)) write(frame);
          hub.add(relayed);
          continue;
        }
        const reply = handleRequest(hub, relayed, request);
        if (reply) write(reply);
      }
    });
    stream.on("close", () => hub.remove(relayed));
    stream.on("end", () => {
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end();
    });
  });
  server.on("session", (session) => session.on("error", () => {}));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function end(stream: ServerHttp2Stream, status: string, message: string): void {
  stream.respond(
    { ":status": 200, "content-type": "application/grpc+proto", "grpc-status": status, "grpc-message": message },
    { endStream: true },
  );
}
