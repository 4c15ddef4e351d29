// The device stream over WebSocket, as a browser would hold it. wsSessionClient() looks like the
// typed SessionService client, so DeviceStream (dedupe, cursors, acks, sends, heartbeats) runs
// unchanged on top: the bearer token moves from the header into Hello.access_token.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import WebSocket from "ws";
import {
  ConnectRequestSchema,
  type ConnectResponse,
  ConnectResponseSchema,
  type SessionService,
} from "../../gen/parley/v1/session_pb.js";
import { DeviceStream, type DeviceStreamOptions, type StreamListener } from "./device-stream.ts";

/** The socket closed with a code other than 1000/1001 (see services/gateway/websocket/server.ts). */
export class WebSocketClosedError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string) {
    super(`websocket closed ${code}: ${reason}`);
    this.code = code;
    this.reason = reason;
  }
}

type Requests = Parameters<Client<typeof SessionService>["connect"]>[0];

/** A SessionService client whose Connect stream is one WebSocket to `url` (ws://host:port/v1/session). */
export function wsSessionClient(url: string): Client<typeof SessionService> {
  return { connect: (requests, options) => connectOverWebSocket(url, requests, options) };
}

/** Opens a DeviceStream over WebSocket. */
export function openWsDeviceStream(url: string, options: DeviceStreamOptions, listener?: StreamListener): DeviceStream {
  return new DeviceStream(wsSessionClient(url), options, listener);
}

async function* connectOverWebSocket(
  url: string,
  requests: Requests,
  options: CallOptions = {},
): AsyncGenerator<ConnectResponse> {
  const token = new Headers(options.headers).get("authorization")?.replace(/^Bearer /i, "") ?? "";
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const inbox: ConnectResponse[] = [];
  let closed: { code: number; reason: string } | undefined;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  socket.binaryType = "nodebuffer";
  socket.on("message", (data, isBinary) => {
    if (!isBinary) return;
    try {
      inbox.push(fromBinary(ConnectResponseSchema, data as Buffer));
    } catch (error) {
      failure = error as Error;
      socket.terminate();
    }
    wakeUp();
  });
  socket.on("close", (code, reason) => {
    closed = { code, reason: reason.toString() };
    wakeUp();
  });
  socket.on("error", (error) => {
    failure ??= error;
    wakeUp();
  });
  const onAbort = () => socket.terminate();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  writeRequests(socket, requests, token).catch((error) => {
    failure ??= error;
    socket.terminate();
  });
  try {
    for (;;) {
      const next = inbox.shift();
      if (next) {
        yield next;
        continue;
      }
      if (failure && !closed) throw failure;
      if (closed) {
        if (closed.code === 1000 || closed.code === 1001) return;
        throw failure && closed.code === 1006 ? failure : new WebSocketClosedError(closed.code, closed.reason);
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
  }
}

/** Sends each request as one binary message (the token goes into the first Hello); closes with 1000 at the end. */
async function writeRequests(socket: WebSocket, requests: Requests, token: string): Promise<void> {
  if (socket.readyState === WebSocket.CONNECTING) {
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("close", () => reject(new Error("the websocket closed before it opened")));
    });
  }
  let first = true;
  for await (const init of requests) {
    const request = create(ConnectRequestSchema, init);
    if (first && request.frame.case === "hello") request.frame.value.accessToken = token;
    first = false;
    if (socket.readyState !== WebSocket.OPEN) return;
    await new Promise<void>((resolve) => socket.send(toBinary(ConnectRequestSchema, request), () => resolve()));
  }
  if (socket.readyState === WebSocket.OPEN) socket.close(1000, "client done");
}
