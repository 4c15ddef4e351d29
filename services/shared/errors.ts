// One place that builds Parley's errors, so every code and reason matches proto/ERRORS.md.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema, type StreamError, StreamErrorSchema } from "../../gen/parley/v1/errors_pb.js";

export interface ErrorOptions {
  field?: string;
  retryAfterMs?: number;
}

/** Builds a ConnectError carrying a Parley ErrorDetail (reason, field, retry hint). */
export function parleyError(code: Code, reason: string, message: string, options: ErrorOptions = {}): ConnectError {
  const detail = create(ErrorDetailSchema, {
    reason,
    field: options.field ?? "",
    retryAfterMs: options.retryAfterMs ?? 0,
  });
  return new ConnectError(message, code, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
}

export const invalidArgument = (field: string, reason: string, message: string) =>
  parleyError(Code.InvalidArgument, reason, message, { field });

export const unauthenticated = (reason: string, message: string) => parleyError(Code.Unauthenticated, reason, message);

/** The single answer for "not a member" and "does not exist", so existence never leaks. */
export const conversationNotFound = () =>
  parleyError(Code.NotFound, "CONVERSATION_NOT_FOUND", "conversation not found", { field: "conversation_id" });

/** Reads the Parley reason off any error (empty when there is none). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof ConnectError)) return "";
  return error.findDetails(ErrorDetailSchema)[0]?.reason ?? "";
}

/**
 * Turns any thrown value into a ConnectError that is safe to show a client. Unknown errors become
 * INTERNAL with no internal detail; the caller logs the original once.
 */
export function toPublicError(error: unknown): {
  error: ConnectError;
  unexpected: boolean;
} {
  if (error instanceof ConnectError)
    return {
      error,
      unexpected: error.code === Code.Internal || error.code === Code.Unknown,
    };
  // A peer that went away mid-write is not a server fault: the call was canceled.
  if (isPeerGone(error))
    return { error: parleyError(Code.Canceled, "PEER_GONE", "the peer closed the connection"), unexpected: false };
  return {
    error: parleyError(Code.Internal, "INTERNAL", "internal error"),
    unexpected: true,
  };
}

const peerGoneCodes = new Set(["ECANCELED", "ECONNRESET", "EPIPE", "ERR_HTTP2_STREAM_CANCEL", "ERR_STREAM_PREMATURE_CLOSE"]);

function isPeerGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && peerGoneCodes.has(code);
}

/** The in-stream form of an error, for SendResult and StreamError frames. */
export function toStreamError(error: ConnectError): StreamError {
  const detail = error.findDetails(ErrorDetailSchema)[0];
  return create(StreamErrorSchema, {
    code: error.code,
    message: error.rawMessage,
    detail,
  });
}
