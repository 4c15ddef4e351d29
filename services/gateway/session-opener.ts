// How a transport reaches the session logic: the very SessionService handler, called in this
// process with the caller the Authenticator resolves from the device's token. The WebSocket and the
// plain-gRPC fast path both open streams this way, so one handler and one registry serve every
// transport, and no router transport sits between them: each frame is encoded once, for the wire.
import type { HandlerContext } from "@connectrpc/connect";
import { type ConnectRequest, type ConnectResponse, SessionService } from "../../gen/parley/v1/session_pb.js";
import { type Authenticator, contextValuesFor } from "../shared/auth.ts";
import { InProcessContext } from "../shared/in-process-context.ts";

/** Opens a device stream for a bearer token; the stream ends when `signal` aborts. */
export type SessionOpener = (
  accessToken: string,
  requests: AsyncIterable<ConnectRequest>,
  signal: AbortSignal,
) => AsyncIterable<ConnectResponse>;

/** The session handler as createSessionService builds it: it yields whole ConnectResponse messages. */
export interface SessionHandler {
  connect(requests: AsyncIterable<ConnectRequest>, context: HandlerContext): AsyncIterable<ConnectResponse>;
}

export function directSessionOpener(
  service: SessionHandler,
  authenticator: Authenticator,
  protocolName: "websocket" | "grpc" = "websocket",
): SessionOpener {
  const method = SessionService.method.connect;
  return async function* open(accessToken, requests, signal) {
    const caller = await authenticator.authenticate(accessToken);
    const context = new InProcessContext({
      service: SessionService,
      method,
      protocolName,
      requestMethod: protocolName === "grpc" ? "POST" : "GET",
      url: protocolName === "grpc" ? `/${SessionService.typeName}/${method.name}` : "ws:///v1/session",
      signal,
      values: contextValuesFor(caller),
    });
    yield* service.connect(requests, context);
  };
}
