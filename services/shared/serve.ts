// Serves Connect routes over cleartext HTTP/2 (gRPC, gRPC-Web and Connect on one port) and closes
// it gracefully. Every Parley process uses this, so every process behaves the same at the socket.
import { createServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "./logger.ts";

/** Serves a request and returns true, or returns false to leave it to Connect. */
export type DirectRoute = (req: Http2ServerRequest, res: Http2ServerResponse) => boolean;

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
  const direct = options.direct;
  const server = createServer(direct ? (req, res) => direct(req, res) || connect(req, res) : connect);
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
