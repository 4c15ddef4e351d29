// The relay's WebSocket side: the same frames as Parley's /v1/session (one binary message per
// ConnectRequest / ConnectResponse, the token in Hello), with the `ws` server Parley uses and its
// encoding (a fanned-out event encoded once).
import type { AddressInfo } from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { WebSocketServer } from "ws";
import { ConnectRequestSchema, type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { encodeResponse } from "../../services/gateway/frame-encoding.ts";
import { type Hub, identityOf, type RelayStream } from "./hub.ts";
import { handleRequest, openingFrames } from "./session.ts";

export async function serveWsRelay(hub: Hub, port: number): Promise<number> {
  const server = new WebSocketServer({ host: "127.0.0.1", port, path: "/v1/session", perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  server.on("connection", (socket) => {
    let stream: RelayStream | undefined;
    const write = (frame: ConnectResponse) => socket.send(encodeResponse(frame));
    socket.on("error", () => {});
    socket.on("close", () => stream && hub.remove(stream));
    socket.on("message", (data, isBinary) => {
      if (!isBinary) return socket.close(1003, "binary frames only");
      const request = fromBinary(ConnectRequestSchema, data as Buffer);
      if (!stream) {
        const who = request.frame.case === "hello" ? identityOf(request.frame.value.accessToken) : undefined;
        if (!who) return socket.close(4401, "relay token expected in Hello");
        let nextDelivery = 1n;
        stream = {
          ...who,
          deliver: (event) =>
            write(create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: nextDelivery++, event } } })),
        };
        for (const frame of openingFrames(who)) write(frame);
        hub.add(stream);
        return;
      }
      const reply = handleRequest(hub, stream, request);
      if (reply) write(reply);
    });
  });
  return (server.address() as AddressInfo).port;
}
