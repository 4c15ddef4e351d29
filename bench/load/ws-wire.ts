// The device stream over the WebSocket: one binary message per ConnectRequest / ConnectResponse,
// the access token inside Hello (services/gateway/websocket/server.ts).
import WebSocket from "ws";
import type { Wire, WireEvents, WireTarget } from "./wire.ts";

export function openWsWire(target: WireTarget, events: WireEvents): Wire {
  const socket = new WebSocket(target.url, {
    perMessageDeflate: false,
    ...(target.localAddress ? { localAddress: target.localAddress } : {}),
  });
  socket.binaryType = "nodebuffer";
  const queued: Uint8Array[] = [];
  let closed = false;
  let reason = "";
  socket.on("open", () => {
    for (const frame of queued.splice(0)) socket.send(frame);
  });
  socket.on("message", (data, isBinary) => {
    if (isBinary) events.onFrame(data as Buffer);
  });
  socket.on("error", (error) => {
    reason ||= `socket: ${error.message}`;
  });
  socket.on("close", (code, why) => {
    if (closed) return;
    closed = true;
    if (code !== 1000 && code !== 1001) reason ||= `close ${code}: ${why.toString()}`;
    events.onClose(reason);
  });
  return {
    write(frame) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      else if (socket.readyState === WebSocket.CONNECTING) queued.push(frame);
    },
    end() {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, "client done");
    },
    destroy() {
      reason ||= "dropped by the client";
      socket.terminate();
    },
  };
}
