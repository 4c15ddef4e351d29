// SessionService.Connect over gRPC on its own HTTP/2 connection (one TCP connection per device, as
// a phone has). The length-prefixed gRPC framing is written by hand on node:http2 so that the
// load generator stays cheap; the bytes on the wire are what any gRPC client sends.
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from "node:http2";
import { connect as netConnect } from "node:net";
import type { Wire, WireEvents, WireTarget } from "./wire.ts";

const path = "/parley.v1.SessionService/Connect";

export function openGrpcWire(target: WireTarget, events: WireEvents): Wire {
  let closed = false;
  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    events.onClose(reason);
    if (!session.destroyed) session.destroy();
  };
  const { hostname, port } = new URL(target.url);
  // A socket of our own, so the connection can leave from a chosen 127.x source address.
  const session: ClientHttp2Session = connect(target.url, {
    createConnection: () => netConnect({ host: hostname, port: Number(port), localAddress: target.localAddress }),
  });
  session.on("error", (error) => finish(`connection: ${error.message}`));
  session.on("close", () => finish("connection closed"));
  const stream: ClientHttp2Stream = session.request(
    {
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      authorization: `Bearer ${target.accessToken}`,
    },
    { endStream: false },
  );
  let status = "";
  stream.on("response", (headers) => {
    if (headers["grpc-status"] !== undefined) status = `grpc-status ${headers["grpc-status"]}: ${headers["grpc-message"] ?? ""}`;
  });
  stream.on("trailers", (trailers) => {
    const code = trailers["grpc-status"];
    if (code !== undefined && code !== "0")
      status = `grpc-status ${code}: ${decodeURIComponent(String(trailers["grpc-message"] ?? ""))}`;
  });
  stream.on("error", (error) => {
    status ||= `stream: ${error.message}`;
  });
  stream.on("close", () => finish(status));
  stream.on("data", reassembler(events));
  return {
    write(frame) {
      if (closed || stream.closed || stream.writableEnded) return;
      const prefixed = Buffer.allocUnsafe(5 + frame.length);
      prefixed[0] = 0;
      prefixed.writeUInt32BE(frame.length, 1);
      prefixed.set(frame, 5);
      stream.write(prefixed);
    },
    end() {
      if (!stream.writableEnded) stream.end();
    },
    destroy() {
      finish("dropped by the client");
      session.destroy();
    },
  };
}

/** Splits HTTP/2 DATA chunks into gRPC messages (5-byte prefix: flag, big-endian length). */
function reassembler(events: WireEvents): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let pos = 0;
    while (buf.length - pos >= 5) {
      const length = buf.readUInt32BE(pos + 1);
      if (buf.length - pos - 5 < length) break;
      events.onFrame(buf.subarray(pos + 5, pos + 5 + length));
      pos += 5 + length;
    }
    if (pos < buf.length) pending = Buffer.from(buf.subarray(pos));
  };
}
