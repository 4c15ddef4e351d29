// Serves Connect routes over cleartext HTTP/2 (gRPC, gRPC-Web and Connect on one port) and closes
// it gracefully. Every Parley process uses this, so every process behaves the same at the socket.
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "./logger.ts";

/** Serves a stream and returns true, or returns false to leave it to Connect. */
export type DirectRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

export interface Served {
  port: number;
  /** Closes the listener and the HTTP/2 sessions (destroyed after graceMs if still open). */
  close(graceMs?: number): Promise<void>;
}

export async function serve(options: {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  host: string;
  port: number;
  logger: Logger;
  /** Requests served before Connect sees them: the device stream's fast path. */
  direct?: DirectRoute;
}): Promise<Served> {
  const sessions = new Set<Http2Session>();
  const connect = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors,
    grpc: true,
    grpcWeb: true,
    connect: true,
  });
  const server = createServer(connect);
  if (options.direct) routeStreamsFirst(server, options.direct, options.logger);
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    // An abrupt disconnect surfaces as a session error; it must never take the process down.
    session.on("error", (error) => options.logger.debug("http2 session error", { error: error.message }));
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(options.port, options.host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close(graceMs = 1_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/**
 * Hands every new stream to `direct` first and the rest to Connect. Node's compatibility layer
 * (the request and response objects Connect's handler takes) is itself a "stream" listener,
 * installed with the request handler; moved behind `direct`, it builds nothing for the streams
 * `direct` serves.
 */
function routeStreamsFirst(server: Http2Server, direct: DirectRoute, logger: Logger): void {
  const listeners = server.listeners("stream");
  const compatibility = listeners[0];
  if (!compatibility || listeners.length > 1) {
    throw new Error(`expected one "stream" listener (node:http2's compatibility layer), found ${listeners.length}`);
  }
  server.removeAllListeners("stream");
  server.on("stream", (stream, headers, flags, rawHeaders) => {
    let served: boolean;
    try {
      served = direct(stream, headers);
    } catch (error) {
      // A fault in the route costs this stream, never the process (an event listener's throw would).
      logger.error("direct route failed", { error: error instanceof Error ? error.message : String(error) });
      // Resetting with an error code emits it on this side too: nothing else listens any more.
      stream.on("error", () => {});
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (!served) compatibility.call(server, stream, headers, flags, rawHeaders);
  });
}
