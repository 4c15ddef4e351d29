// One WebSocket connection: waits for Hello with its access token, then pipes binary frames
// between the socket and a device stream. Anything a client does wrong closes only its socket.
import { create, fromBinary } from "@bufbuild/protobuf";
import type { RawData, WebSocket } from "ws";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  GoAwayReason,
} from "../../../gen/parley/v1/session_pb.js";
import type { Logger } from "../../shared/logger.ts";
import { encodeResponse } from "../frame-encoding.ts";
import { InboundFrames } from "../inbound-frames.ts";
import type { SessionOpener } from "../session-opener.ts";
import { CloseCode, closeFor, trimReason } from "./close-codes.ts";

export interface ConnectionOptions {
  open: SessionOpener;
  helloTimeoutMs: number;
  /** Largest frame handled; a bigger one closes the socket with 1009 and a reason. */
  maxFrameBytes: number;
  logger: Logger;
}

/** Above this many bytes not yet written to the socket, stop pulling frames from the session. */
const sendHighWater = 1 << 20;

export function handleConnection(socket: WebSocket, options: ConnectionOptions): void {
  const { logger } = options;
  const inbound = new InboundFrames({ highWater: 8, source: socket });
  let opened = false;

  const close = (code: number, reason: string) => {
    stopHelloTimer();
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, trimReason(reason));
  };
  let helloTimer: NodeJS.Timeout | undefined = setTimeout(
    () => close(CloseCode.helloTimeout, "DEADLINE_EXCEEDED: no Hello within the deadline"),
    options.helloTimeoutMs,
  );
  // Dropped once cleared: the connection's closures live as long as the socket.
  const stopHelloTimer = () => {
    clearTimeout(helloTimer);
    helloTimer = undefined;
  };

  socket.on("error", (error) => logger.debug("websocket error", { error: error.message }));
  socket.on("close", () => {
    stopHelloTimer();
    // Ends the handler's stream exactly as a gRPC client disconnecting would.
    inbound.end();
  });
  socket.on("message", (data: RawData, isBinary: boolean) => {
    if (!isBinary)
      return close(CloseCode.unsupportedData, "INVALID_ARGUMENT: text frames are not supported; send binary ConnectRequest");
    const bytes = toBytes(data);
    if (bytes.byteLength > options.maxFrameBytes) {
      return close(
        CloseCode.tooBig,
        `INVALID_ARGUMENT: frame of ${bytes.byteLength} bytes exceeds the ${options.maxFrameBytes}-byte limit`,
      );
    }
    let request: ConnectRequest;
    try {
      request = fromBinary(ConnectRequestSchema, bytes);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return close(CloseCode.invalidPayload, `INVALID_ARGUMENT: frame is not a protobuf ConnectRequest: ${why}`);
    }
    if (opened) return inbound.push(request);
    if (request.frame.case !== "hello" || request.frame.value.accessToken === "") {
      return close(CloseCode.unauthenticated, "UNAUTHENTICATED: the first frame must be Hello with access_token");
    }
    stopHelloTimer();
    opened = true;
    const token = request.frame.value.accessToken;
    // The token has done its job; the session never needs (or logs) it.
    inbound.push(create(ConnectRequestSchema, { frame: { case: "hello", value: { ...request.frame.value, accessToken: "" } } }));
    options
      .open(token, inbound)
      .then(
        (session) => {
          socket.on("close", () => session.end());
          let goAway: GoAwayReason | undefined;
          session.outbox.attach({
            write: (response) => {
              if (response.frame.case === "goAway") goAway = response.frame.value.reason;
              return send(socket, response, () => session.outbox.resume());
            },
            end: () => {
              session.end();
              const { code, reason } = closingFor(goAway);
              close(code, reason);
            },
          });
        },
        (error) => {
          const { code, reason } = closeFor(error);
          if (code === CloseCode.internalError) logger.warn("websocket stream failed", { error: reason });
          close(code, reason);
        },
      )
      .catch((error) => {
        // Writing went wrong in a way the socket did not report: end this connection only.
        logger.error("websocket stream could not be served", { error: String(error) });
        close(CloseCode.internalError, "INTERNAL: the stream failed");
      });
  });
}

/**
 * Sends one response as one binary message. Past the high-water mark of unsent bytes it returns
 * false, and `drained` runs once this message (and so every one before it) reached the socket.
 */
function send(socket: WebSocket, response: ConnectResponse, drained: () => void): boolean {
  // A closing socket takes nothing more; the session is ending with it.
  if (socket.readyState !== socket.OPEN) return true;
  const bytes = encodeResponse(response);
  if (socket.bufferedAmount <= sendHighWater) {
    socket.send(bytes);
    return true;
  }
  socket.send(bytes, () => drained());
  return false;
}

function closingFor(goAway: GoAwayReason | undefined): { code: number; reason: string } {
  if (goAway === GoAwayReason.SERVER_DRAINING) return { code: CloseCode.goingAway, reason: "GoAway: SERVER_DRAINING" };
  return { code: CloseCode.normal, reason: goAway === undefined ? "stream ended" : `GoAway: ${GoAwayReason[goAway]}` };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
