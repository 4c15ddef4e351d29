// Turning failures into one line for the user: `error: <CODE> <reason>: <message>`, never a stack
// trace for something that is expected (a refused call, a bad argument, a missing profile).
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema, type StreamError } from "../../gen/parley/v1/errors_pb.js";

/** A failure the CLI detected itself; `usage` ones exit with 2 and point at --help. */
export class CliError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly usage: boolean;
  constructor(message: string, options: { code?: string; reason?: string; usage?: boolean } = {}) {
    super(message);
    this.name = "CliError";
    this.code = options.code ?? "";
    this.reason = options.reason ?? "";
    this.usage = options.usage ?? false;
  }
}

export const usageError = (message: string) => new CliError(message, { usage: true });

const grpcNames: Record<number, string> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/** The gRPC name of a status code number, as in proto/ERRORS.md. */
export const codeName = (code: number): string => grpcNames[code] ?? `CODE_${code}`;

/** The Parley reason carried by a ConnectError (empty when there is none). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof ConnectError)) return "";
  return error.findDetails(ErrorDetailSchema)[0]?.reason ?? "";
}

export function isConnectError(error: unknown, code: Code, reason?: string): error is ConnectError {
  return error instanceof ConnectError && error.code === code && (reason === undefined || reasonOf(error) === reason);
}

function line(code: string, reason: string, message: string, retryAfterMs = 0): string {
  const head = [code, reason].filter((s) => s !== "").join(" ");
  const retry = retryAfterMs > 0 ? ` (retry in ${Math.ceil(retryAfterMs / 1000)}s)` : "";
  return head === "" ? `${message}${retry}` : `${head}: ${message}${retry}`;
}

/** `<CODE> <reason>: <message>` for any thrown value. */
export function summarizeError(error: unknown): string {
  if (error instanceof CliError) return line(error.code, error.reason, error.message);
  if (error instanceof ConnectError) {
    const detail = error.findDetails(ErrorDetailSchema)[0];
    return line(codeName(error.code), detail?.reason ?? "", error.rawMessage, detail?.retryAfterMs);
  }
  return line("", "", error instanceof Error ? error.message : String(error));
}

/** The line printed for a failure: `error: <CODE> <reason>: <message>`. */
export const describeError = (error: unknown): string => `error: ${summarizeError(error)}`;

/** The same line for an error reported inside the session stream. */
export function describeStreamError(error: StreamError | undefined): string {
  if (!error) return "error: UNKNOWN: the server reported an error without details";
  return `error: ${line(codeName(error.code), error.detail?.reason ?? "", error.message, error.detail?.retryAfterMs)}`;
}

/** A follow-up hint for errors a user can act on, or undefined. */
export function hintFor(error: unknown, context: { server: string; profile: string }): string | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  if (error.code === Code.Unavailable) return `is a Parley server running at ${context.server}? (--server URL or $PARLEY_SERVER)`;
  if (error.code === Code.Unauthenticated && reasonOf(error) !== "CODE_INVALID" && reasonOf(error) !== "CODE_EXPIRED") {
    const flag = context.profile === "default" ? "" : `--profile ${context.profile} `;
    return `sign in again: npm run cli -- ${flag}login <phone>`;
  }
  return undefined;
}
