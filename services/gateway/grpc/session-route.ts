// SessionService.Connect for plain gRPC clients, served straight on the HTTP/2 stream instead of
// through Connect's generic handler. Every device holds this one stream for hours and every
// fanned-out copy passes through it, and the generic pipeline (an async iterable per stage, headers
// objects, abort plumbing) cost about 160 µs of CPU per frame and 80 KB of heap per idle stream in
// the benchmark. Here a frame is one encode (shared across a fanout) and one 5-byte prefix, and the
// frames a turn queued for the stream go out in one write. It takes the raw HTTP/2 stream before
// Node's compatibility layer builds a request and response object for it: those were 3.4 KB of
// heap per idle stream (bench/transport-floor.ts). Anything this path does not speak
// (gRPC-Web, the Connect protocol, compressed gRPC) is left to Connect, which serves the same
// handler.

import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ConnectRequestSchema, SessionService } from "../../../gen/parley/v1/session_pb.js";
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
  return (stream, headers) => {
    const encoding = headers["grpc-encoding"];
    if (
      headers[constants.HTTP2_HEADER_METHOD] !== "POST" ||
      headers[constants.HTTP2_HEADER_PATH] !== path ||
      !grpcContentType.test(headers["content-type"] ?? "") ||
      (encoding !== undefined && encoding !== "identity")
    ) {
      return false;
    }
    serveSession(stream, headers, options);
    return true;
  };
}

function serveSession(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: Parameters<typeof grpcSessionRoute>[0]) {
  // A raw stream with no error listener would take the process down with it.
  stream.on("error", (error) => options.logger.debug("grpc session stream error", { error: error.message }));
  const inbound = new InboundFrames({ highWater: 8, source: stream });
  const reader = new GrpcMessageReader(options.maxFrameBytes);
  let failure: ConnectError | undefined;
  let deadline: NodeJS.Timeout | undefined;

  // Ends the session early with this status (a bad frame, the client's deadline).
  const fail = (error: ConnectError) => {
    failure ??= error;
    inbound.end();
  };
  stream.on("data", (chunk: Buffer) => {
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
  stream.on("end", () => {
    if (reader.pendingBytes > 0) fail(parleyError(Code.InvalidArgument, "MALFORMED_FRAME", "the stream ended mid-message"));
    inbound.end();
  });
  // The client went away (or the stream finished): the session ends exactly as on a cancel.
  stream.on("close", () => {
    clearTimeout(deadline);
    inbound.end();
  });

  const timeout = parseTimeout(headerValue(headers, "grpc-timeout"), maxTimeoutMs);
  if (timeout.error) return finish(stream, timeout.error, options);
  if (timeout.timeoutMs !== undefined) {
    deadline = setTimeout(
      () => fail(parleyError(Code.DeadlineExceeded, "DEADLINE_EXCEEDED", "the client's grpc-timeout elapsed")),
      timeout.timeoutMs,
    );
  }

  let token: string;
  try {
    token = bearerToken(headerValue(headers, "authorization"));
  } catch (error) {
    return finish(stream, error, options);
  }
  options
    .open(token, inbound)
    .then(
      (session) => {
        // The stream ends once the session has written its last frame, or when the client leaves.
        stream.on("close", () => session.end());
        stream.on("drain", () => session.outbox.resume());
        session.outbox.attach({
          write: (response) => !takesFrames(stream) || stream.write(encodeGrpcMessage(response)),
          writeAll: (responses) => !takesFrames(stream) || stream.write(encodeGrpcMessages(responses)),
          end: () => {
            session.end();
            finish(stream, failure, options);
          },
        });
      },
      (error) => finish(stream, failure ?? error, options),
    )
    .catch((error) => options.logger.error("grpc session stream could not be finished", { error }));
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/**
 * Whether the stream still takes frames (a closed one takes nothing more: the session is ending
 * with it, so the write counts as done). The response headers go out before the first frame, and
 * the status follows the last as trailers (finish).
 */
function takesFrames(stream: ServerHttp2Stream): boolean {
  if (stream.closed || stream.destroyed) return false;
  if (!stream.headersSent) {
    stream.respond(
      { ":status": 200, "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" },
      { waitForTrailers: true },
    );
  }
  return true;
}

/** Ends the stream with its gRPC status: trailers after messages, or trailers-only before any. */
function finish(stream: ServerHttp2Stream, error: unknown, options: Parameters<typeof grpcSessionRoute>[0]) {
  if (stream.closed || stream.destroyed || stream.writableEnded) return;
  const publicError = error === undefined ? undefined : publishError(options.logger, procedure, error, options.onError);
  const status: Record<string, string> = {};
  for (const [name, value] of setTrailerStatus(new Headers(), publicError)) status[name] = value;
  if (!stream.headersSent) {
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto", ...status }, { endStream: true });
  } else {
    stream.once("wantTrailers", () => stream.sendTrailers(status));
    stream.end();
  }
  // A client that keeps its half open after the status has nothing more to say: once the status
  // has surely reached it, reset the stream (NO_ERROR, as gRPC servers do) rather than hold it.
  if (!stream.readableEnded && !stream.closed) {
    const reap = setTimeout(() => stream.close(constants.NGHTTP2_NO_ERROR), halfOpenGraceMs);
    reap.unref();
    stream.once("close", () => clearTimeout(reap));
  }
}
