// WebSocket close codes for the session endpoint, and how a failed stream maps onto them.
import { Code, ConnectError } from "@connectrpc/connect";

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  unauthenticated: 4401,
  helloTimeout: 4408,
} as const;

/** RFC 6455 limits a close reason to 123 bytes of UTF-8; ws throws beyond that. */
export function trimReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** The close code and reason for a stream that ended with an error (gRPC status names as prefix). */
export function closeFor(error: unknown): { code: number; reason: string } {
  const e = ConnectError.from(error);
  const reason = trimReason(`${codeName(e.code)}: ${e.rawMessage}`);
  switch (e.code) {
    case Code.Unauthenticated:
      return { code: CloseCode.unauthenticated, reason };
    case Code.DeadlineExceeded:
      return { code: CloseCode.helloTimeout, reason };
    case Code.InvalidArgument:
      return { code: CloseCode.invalidPayload, reason };
    case Code.PermissionDenied:
    case Code.ResourceExhausted:
    case Code.FailedPrecondition:
      return { code: CloseCode.policyViolation, reason };
    case Code.Canceled:
      return { code: CloseCode.normal, reason };
    default:
      return { code: CloseCode.internalError, reason };
  }
}

/** Code.InvalidArgument -> "INVALID_ARGUMENT", as gRPC spells status names. */
function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
