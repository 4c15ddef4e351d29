// The device stream over WebSocket, for browsers: path /v1/session on its own port (the main
// port speaks HTTP/2 cleartext only, which cannot upgrade to WebSocket). Each binary message is
// exactly one encoded ConnectRequest (client to server) or ConnectResponse (server to client);
// the first must be Hello carrying access_token, since browsers cannot set Authorization. After
// that the stream has the semantics of SessionService.Connect (proto/parley/v1/session.proto).
//
// Close codes (the reason starts with the gRPC status name where there is one):
//
// | Code | When                                                                           |
// |------|--------------------------------------------------------------------------------|
// | 1000 | The stream ended: client closed, or after GoAway (REPLACED, REVOKED, ...).     |
// | 1001 | The server is draining: GoAway(SERVER_DRAINING) was sent first; reconnect.     |
// | 1003 | A text frame: only binary protobuf frames are accepted.                        |
// | 1007 | Bytes that are not a ConnectRequest, or INVALID_ARGUMENT ending the stream.    |
// | 1008 | PERMISSION_DENIED, RESOURCE_EXHAUSTED or FAILED_PRECONDITION ending the stream.|
// | 1009 | A frame larger than maxPayload.                                                |
// | 1011 | An unexpected server error.                                                    |
// | 4401 | UNAUTHENTICATED: a frame before Hello, Hello without a token, or a bad token.  |
// | 4408 | DEADLINE_EXCEEDED: no Hello within the deadline (10 s).                        |
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { Logger } from "../../shared/logger.ts";
import { maxClientFrameBytes } from "../inbound-frames.ts";
import type { SessionOpener } from "../session-opener.ts";
import { handleConnection } from "./connection.ts";

export const sessionPath = "/v1/session";

export interface ServedWebSocket {
  port: number;
  /** Stops accepting; connections still open after graceMs are dropped. */
  close(graceMs?: number): Promise<void>;
}

export async function serveWebSocket(options: {
  host: string;
  port: number;
  open: SessionOpener;
  logger: Logger;
  /** Largest accepted frame; bigger ones close the socket with 1009. */
  maxPayload?: number;
  helloTimeoutMs?: number;
}): Promise<ServedWebSocket> {
  const logger = options.logger.child({ component: "websocket" });
  const maxFrameBytes = options.maxPayload ?? maxClientFrameBytes;
  const server = new WebSocketServer({
    host: options.host,
    port: options.port,
    path: sessionPath,
    // The library's own cap closes without a reason, so it sits well above the limit that the
    // connection checks itself (and explains in the close reason).
    maxPayload: 4 * maxFrameBytes,
    // Frames are small protobufs; compression costs CPU and memory per socket for little gain.
    perMessageDeflate: false,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.on("error", (error) => logger.warn("websocket server error", { error: error.message }));
  server.on("connection", (socket) =>
    handleConnection(socket, { open: options.open, helloTimeoutMs: options.helloTimeoutMs ?? 10_000, maxFrameBytes, logger }),
  );
  return {
    port: (server.address() as AddressInfo).port,
    async close(graceMs = 1_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const timer = setTimeout(() => {
        for (const socket of server.clients) socket.terminate();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}
