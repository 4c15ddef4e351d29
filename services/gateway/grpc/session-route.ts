// SessionService.Connect for plain gRPC clients, served straight on the HTTP/2 stream instead of
// through Connect's generic handler. Every device holds this one stream for hours and every
// fanned-out copy passes through it, and the generic pipeline (an async iterable per stage, headers
// objects, abort plumbing) cost about 160 µs of CPU per frame and 80 KB of heap per idle stream in
// the benchmark. Here a frame is one encode (shared across a fanout) and one 5-byte prefix, and the
// frames a turn queued for the stream go out in one write. Anything this path does not speak
// (gRPC-Web, the Connect protocol, compressed gRPC) is left to Connect, which serves the same
// handler.

import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ConnectRequestSchema, type ConnectResponse, SessionService } from "../../../gen/parley/v1/session_pb.js";
import { bearerToken } from "../../shared/auth.ts";
import { type ErrorCounter, publishError } from "../../shared/error-interceptor.ts";
import { parleyError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { DirectRoute } from "../../shared/serve.ts";
import { encodeGrpcMessage, encodeGrpcMessages } from "../frame-encoding.ts";
import { InboundFrames } from "../inbound-frames.ts";
import type { SessionOpener } from "../session-opener.ts";
import { GrpcMessageReader } from "./framing.ts";

const procedure = `${SessionService.typeName}/${SessionService.method.connect.name}`;
const path = `/${procedure}`;
const grpcContentType = /^application\/grpc(\+proto)?$/i;
/** Streams are long-lived; a client deadline longer than this is refused rather than honoured. */
const maxTimeoutMs = 2 ** 31 - 1;
/** How long a client may keep sending after the final status before its stream is reset. */
const halfOpenGraceMs = 1_000;

export function grpcSessionRoute(options: {
  open: SessionOpener;
  /** Largest client message read; a bigger one ends the stream with RESOURCE_EXHAUSTED. */
  maxFrameBytes: number;
  logger: Logger;
  onError?: ErrorCounter;
}): DirectRoute {
  return (req, res) => {
    const encoding = req.headers["grpc-encoding"];
    if (
      req.method !== "POST" ||
      req.url !== path ||
      !grpcContentType.test(req.headers["content-type"] ?? "") ||
      (encoding !== undefined && encoding !== "identity")
    ) {
      return false;
    }
    serveSession(req, res, options);
    return true;
  };
}

function serveSession(req: Http2ServerRequest, res: Http2ServerResponse, options: Parameters<typeof grpcSessionRoute>[0]) {
  const abort = new AbortController();
  const inbound = new InboundFrames({ highWater: 8, pause: () => req.pause(), resume: () => req.resume() });
  const reader = new GrpcMessageReader(options.maxFrameBytes);
  let failure: ConnectError | undefined;
  let deadline: NodeJS.Timeout | undefined;

  // Ends the session early with this status (a bad frame, the client's deadline).
  const fail = (error: ConnectError) => {
    failure ??= error;
    inbound.end();
    abort.abort();
  };
  req.on("data", (chunk: Buffer) => {
    if (failure) return;
    try {
      for (const bytes of reader.push(chunk)) inbound.push(fromBinary(ConnectRequestSchema, bytes));
    } catch (error) {
      fail(
        error instanceof ConnectError
          ? error
          : parleyError(Code.InvalidArgument, "MALFORMED_FRAME", `a message is not a ConnectRequest: ${String(error)}`),
      );
    }
  });
  req.on("end", () => {
    if (reader.pendingBytes > 0) fail(parleyError(Code.InvalidArgument, "MALFORMED_FRAME", "the stream ended mid-message"));
    inbound.end();
  });
  // The client went away (or the stream finished): the session ends exactly as on a cancel.
  const stream = { closed: false };
  res.on("close", () => {
    stream.closed = true;
    clearTimeout(deadline);
    inbound.end();
    abort.abort();
  });
  req.on("error", (error) => options.logger.debug("grpc session stream error", { error: error.message }));

  const timeout = parseTimeout(headerValue(req, "grpc-timeout"), maxTimeoutMs);
  if (timeout.error) return finish(req, res, stream, timeout.error, options);
  if (timeout.timeoutMs !== undefined) {
    deadline = setTimeout(
      () => fail(parleyError(Code.DeadlineExceeded, "DEADLINE_EXCEEDED", "the client's grpc-timeout elapsed")),
      timeout.timeoutMs,
    );
  }

  let token: string;
  try {
    token = bearerToken(headerValue(req, "authorization"));
  } catch (error) {
    return finish(req, res, stream, error, options);
  }
  options
    .open(token, inbound, abort.signal)
    .then(
      (session) => {
        // The stream ends once the session has written its last frame, or when the client leaves.
        res.on("close", () => session.end());
        res.on("drain", () => session.outbox.resume());
        session.outbox.attach({
          write: (response) => write(res, stream, response),
          writeAll: (responses) => writeAll(res, stream, responses),
          end: () => {
            session.end();
            finish(req, res, stream, failure, options);
          },
        });
      },
      (error) => finish(req, res, stream, failure ?? error, options),
    )
    .catch((error) => options.logger.error("grpc session stream could not be finished", { error }));
}

function headerValue(req: Http2ServerRequest, name: string): string | null {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** Writes one response as one gRPC message; false when the stream pushes back (wait for "drain"). */
function write(res: Http2ServerResponse, stream: StreamState, response: ConnectResponse): boolean {
  return !takesFrames(res, stream) || res.write(encodeGrpcMessage(response));
}

/** Writes several responses with one write: their gRPC messages back to back in one buffer. */
function writeAll(res: Http2ServerResponse, stream: StreamState, responses: ConnectResponse[]): boolean {
  return !takesFrames(res, stream) || res.write(encodeGrpcMessages(responses));
}

/** Whether the stream still takes frames; the response headers go out before its first. */
function takesFrames(res: Http2ServerResponse, stream: StreamState): boolean {
  // A closed stream takes nothing more; the session is ending with it.
  if (stream.closed) return false;
  if (!res.headersSent) res.writeHead(200, { "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" });
  return true;
}

/** Whether the HTTP/2 stream has closed (the compatibility response has no flag of its own for it). */
interface StreamState {
  closed: boolean;
}

/** Ends the stream with its gRPC status: trailers after messages, or trailers-only before any. */
function finish(
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  stream: StreamState,
  error: unknown,
  options: Parameters<typeof grpcSessionRoute>[0],
) {
  if (stream.closed || res.writableEnded) return;
  const publicError = error === undefined ? undefined : publishError(options.logger, procedure, error, options.onError);
  const status: Record<string, string> = {};
  for (const [name, value] of setTrailerStatus(new Headers(), publicError)) status[name] = value;
  if (!res.headersSent) res.writeHead(200, { "content-type": "application/grpc+proto", ...status });
  else res.addTrailers(status);
  res.end();
  // A client that keeps its half open after the status has nothing more to say: once the status
  // has surely reached it, reset the stream (NO_ERROR, as gRPC servers do) rather than hold it.
  if (!req.complete && !stream.closed) {
    const reap = setTimeout(() => res.stream.close(constants.NGHTTP2_NO_ERROR), halfOpenGraceMs);
    reap.unref();
    res.once("close", () => clearTimeout(reap));
  }
}
