// How a transport reaches the session logic: the very SessionService handler, called in this
// process with the caller the Authenticator resolves from the device's token. The WebSocket and the
// plain-gRPC fast path both open streams this way, so one handler and one registry serve every
// transport, and no router transport sits between them: each frame is encoded once, for the wire.
import type { HandlerContext } from "@connectrpc/connect";
import { type ConnectRequest, type ConnectResponse, SessionService } from "../../gen/parley/v1/session_pb.js";
import { type Authenticator, contextValuesFor } from "../shared/auth.ts";
import { InProcessContext } from "../shared/in-process-context.ts";
import type { InboundFrames } from "./inbound-frames.ts";
import type { Outbox } from "./outbox.ts";

/** A running device stream, as a transport that writes its frames itself holds it. */
export interface OpenStream {
  /** The frames to write: attach a sink (`Outbox.attach`). */
  outbox: Outbox;
  /** The transport is done with the stream (it closed, or wrote the last frame); idempotent. */
  end(): void;
}

/**
 * Opens a device stream for a bearer token once Hello is read; rejects with the stream's error
 * (a bad token, no Hello). The transport ends `requests` when its client leaves or it gives up on
 * it (a bad frame, a deadline): the session closes then, after the frame in hand, and the
 * transport still calls `end()`. No AbortSignal: an idle stream would hold one, with its
 * listener, for hours.
 */
export type SessionOpener = (accessToken: string, requests: InboundFrames) => Promise<OpenStream>;

/** The session handler as createSessionService builds it. */
export interface SessionHandler {
  /** Connect's handler shape: yields whole ConnectResponse messages. */
  connect(requests: AsyncIterable<ConnectRequest>, context: HandlerContext): AsyncIterable<ConnectResponse>;
  /** The same stream for a transport that writes frames as they come. */
  open(requests: AsyncIterable<ConnectRequest>, context: HandlerContext): Promise<OpenStream>;
}

export function directSessionOpener(
  service: SessionHandler,
  authenticator: Authenticator,
  protocolName: "websocket" | "grpc" = "websocket",
): SessionOpener {
  const method = SessionService.method.connect;
  return async function open(accessToken, requests) {
    const caller = await authenticator.authenticate(accessToken);
    const context = new InProcessContext({
      service: SessionService,
      method,
      protocolName,
      requestMethod: protocolName === "grpc" ? "POST" : "GET",
      url: protocolName === "grpc" ? `/${SessionService.typeName}/${method.name}` : "ws:///v1/session",
      values: contextValuesFor(caller),
    });
    return service.open(requests, context);
  };
}
