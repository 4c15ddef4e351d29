// The relay's SessionService over gRPC: the same transport as Parley's device stream (plain gRPC
// framing written straight on node:http2, services/gateway/grpc/), with nothing behind it but the
// hub. No flow control on purpose: it measures the transport, not a server's policies.
import { createServer, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { ConnectRequestSchema, type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { encodeGrpcMessage } from "../../services/gateway/frame-encoding.ts";
import { GrpcMessageReader } from "../../services/gateway/grpc/framing.ts";
import { type Hub, identityOf, type RelayStream } from "./hub.ts";
import { handleRequest, openingFrames } from "./session.ts";

const path = "/parley.v1.SessionService/Connect";

export async function serveGrpcRelay(hub: Hub, port: number): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url !== path) return end(res, "12", "only SessionService/Connect is relayed");
    const who = identityOf(String(req.headers.authorization ?? "").replace(/^Bearer /i, ""));
    if (!who) return end(res, "16", "relay token expected");
    res.writeHead(200, { "content-type": "application/grpc+proto" });
    const write = (frame: ConnectResponse) => res.write(encodeGrpcMessage(frame));
    let nextDelivery = 1n;
    const stream: RelayStream = {
      ...who,
      deliver: (event) =>
        write(create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: nextDelivery++, event } } })),
    };
    const reader = new GrpcMessageReader(64 * 1024);
    let opened = false;
    req.on("data", (chunk: Buffer) => {
      for (const bytes of reader.push(chunk)) {
        const request = fromBinary(ConnectRequestSchema, bytes);
        if (!opened) {
          opened = true;
          for (const frame of openingFrames(who)) write(frame);
          hub.add(stream);
          continue;
        }
        const reply = handleRequest(hub, stream, request);
        if (reply) write(reply);
      }
    });
    res.on("close", () => hub.remove(stream));
    req.on("end", () => {
      res.addTrailers({ "grpc-status": "0" });
      res.end();
    });
  });
  server.on("session", (session) => session.on("error", () => {}));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function end(res: Http2ServerResponse, status: string, message: string): void {
  res.writeHead(200, { "content-type": "application/grpc+proto", "grpc-status": status, "grpc-message": message });
  res.end();
}
