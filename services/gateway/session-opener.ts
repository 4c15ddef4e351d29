// How a transport reaches the session logic: the very SessionService handler, called in this
// process with the caller the Authenticator resolves from the device's token. The WebSocket and the
// plain-gRPC fast path both open streams this way, so one handler and one registry serve every
// transport, and no router transport sits between them: each frame is encoded once, for the wire.
import { create } from "@bufbuild/protobuf";
import { createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  SessionService,
} from "../../gen/parley/v1/session_pb.js";
import { type Authenticator, contextValuesFor } from "../shared/auth.ts";

/** Opens a device stream for a bearer token; the stream ends when `signal` aborts. */
export type SessionOpener = (
  accessToken: string,
  requests: AsyncIterable<ConnectRequest>,
  signal: AbortSignal,
) => AsyncIterable<ConnectResponse>;

export function directSessionOpener(
  service: ServiceImpl<typeof SessionService>,
  authenticator: Authenticator,
  protocolName: "websocket" | "grpc" = "websocket",
): SessionOpener {
  const method = SessionService.method.connect;
  return async function* open(accessToken, requests, signal) {
    const caller = await authenticator.authenticate(accessToken);
    const context = createHandlerContext({
      service: SessionService,
      method,
      protocolName,
      requestMethod: protocolName === "grpc" ? "POST" : "GET",
      url: protocolName === "grpc" ? `/${SessionService.typeName}/${method.name}` : "ws:///v1/session",
      requestSignal: signal,
      contextValues: contextValuesFor(caller),
    });
    for await (const response of service.connect(requests, context)) yield create(ConnectResponseSchema, response);
  };
}
