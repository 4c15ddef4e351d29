// How a WebSocket connection reaches the session logic: through the very SessionService handler
// gRPC clients use, over Connect's in-process router transport, with the same interceptors (the
// Authenticator, error mapping). One handler, one registry, so both transports behave alike.
import { type ConnectRouter, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { type ConnectRequest, type ConnectResponse, SessionService } from "../../../gen/parley/v1/session_pb.js";

/** Opens a device stream for a bearer token; the stream ends when `signal` aborts. */
export type SessionOpener = (
  accessToken: string,
  requests: AsyncIterable<ConnectRequest>,
  signal: AbortSignal,
) => AsyncIterable<ConnectResponse>;

export function inProcessSessionOpener(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]): SessionOpener {
  const client = createClient(SessionService, createRouterTransport(routes, { router: { interceptors } }));
  return (accessToken, requests, signal) =>
    client.connect(requests, { headers: { authorization: `Bearer ${accessToken}` }, signal });
}
