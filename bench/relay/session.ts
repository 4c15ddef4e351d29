// What the relay answers on a device stream, shared by its gRPC and WebSocket sides: Ready and
// CaughtUp right after Hello (there is nothing to replay), a SendResult per send (the message
// forwarded on the way), heartbeat echoes; acks and everything else are ignored.
import { create } from "@bufbuild/protobuf";
import { type ConnectRequest, type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import type { Hub, RelayStream } from "./hub.ts";

export function openingFrames(who: { userId: string; deviceId: string }): ConnectResponse[] {
  return [
    create(ConnectResponseSchema, {
      frame: {
        case: "ready",
        value: { userId: who.userId, deviceId: who.deviceId, heartbeatIntervalMs: 30_000, window: 1024, maxMessageBytes: 4096 },
      },
    }),
    create(ConnectResponseSchema, { frame: { case: "caughtUp", value: { replayed: 0 } } }),
  ];
}

export function handleRequest(hub: Hub, stream: RelayStream, request: ConnectRequest): ConnectResponse | undefined {
  const frame = request.frame;
  if (frame.case === "send")
    return create(ConnectResponseSchema, { frame: { case: "sendResult", value: hub.send(stream, frame.value) } });
  if (frame.case === "heartbeat" && !frame.value.echo) {
    return create(ConnectResponseSchema, { frame: { case: "heartbeat", value: { nonce: frame.value.nonce, echo: true } } });
  }
  return undefined;
}
