// The device stream's plain-gRPC path: served on the HTTP/2 stream directly, with the same
// statuses and reasons a Connect-served stream gives, and everything it does not speak (the Connect
// protocol, gRPC-Web, compressed gRPC) still served by Connect.
import assert from "node:assert/strict";
import { type ClientHttp2Session, connect, type IncomingHttpHeaders } from "node:http2";
import { after, before, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { ConnectRequestSchema, ConnectResponseSchema, SessionService } from "../gen/parley/v1/session_pb.js";
import { reasonOf } from "../services/shared/errors.ts";
import { newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
let user: SignedIn;
before(async () => {
  t = await startTestParley();
  user = await t.signIn(newPhone());
});
after(() => t.stop());

const path = "/parley.v1.SessionService/Connect";
const hello = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { frame: { case: "hello", value: {} } }));

function envelope(message: Uint8Array, flags = 0, length = message.byteLength): Buffer {
  const framed = Buffer.alloc(5 + message.byteLength);
  framed[0] = flags;
  framed.writeUInt32BE(length, 1);
  framed.set(message, 5);
  return framed;
}

interface Outcome {
  frames: string[];
  headers: IncomingHttpHeaders;
  status: Headers;
}

/** Opens the stream with raw HTTP/2, writes `body`, and collects frames and the final status. */
async function rawStream(options: { headers?: Record<string, string>; body?: Buffer[]; endAfter?: string }): Promise<Outcome> {
  const session: ClientHttp2Session = connect(t.parley.url);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...options.headers,
    });
    for (const chunk of options.body ?? []) stream.write(chunk);
    let buffered = Buffer.alloc(0);
    const frames: string[] = [];
    let headers: IncomingHttpHeaders = {};
    const status = new Headers();
    const copy = (from: IncomingHttpHeaders) => {
      for (const [name, value] of Object.entries(from)) if (name.startsWith("grpc-")) status.set(name, String(value));
    };
    stream.on("response", (h) => {
      headers = h;
      copy(h);
    });
    stream.on("trailers", copy);
    stream.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.byteLength >= 5 && buffered.byteLength >= 5 + buffered.readUInt32BE(1)) {
        const length = buffered.readUInt32BE(1);
        const frame = fromBinary(ConnectResponseSchema, buffered.subarray(5, 5 + length)).frame.case ?? "";
        frames.push(frame);
        buffered = buffered.subarray(5 + length);
        if (frame === options.endAfter) stream.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    return { frames, headers, status };
  } finally {
    session.close();
  }
}

function assertStatus(outcome: Outcome, code: Code, reason: string) {
  const error = findTrailerError(outcome.status);
  assert.ok(error, `expected ${Code[code]}, got grpc-status ${outcome.status.get("grpc-status")}`);
  assert.equal(error.code, code, error.message);
  assert.equal(reasonOf(error), reason);
}

test("a stream without a token is refused with UNAUTHENTICATED / TOKEN_MISSING and no frames", async () => {
  const outcome = await rawStream({ body: [envelope(hello)] });
  assert.deepEqual(outcome.frames, []);
  assertStatus(outcome, Code.Unauthenticated, "TOKEN_MISSING");
});

test("a well-formed stream gets Ready and CaughtUp, then ends with grpc-status 0 when the client ends it", async () => {
  const outcome = await rawStream({
    headers: { authorization: `Bearer ${user.accessToken}` },
    body: [envelope(hello)],
    endAfter: "caughtUp",
  });
  assert.deepEqual(outcome.frames.slice(0, 2), ["ready", "caughtUp"]);
  assert.match(String(outcome.headers["content-type"]), /^application\/grpc/);
  assert.equal(outcome.status.get("grpc-status"), "0");
});

test("a compressed message ends the stream with INVALID_ARGUMENT / COMPRESSION_UNSUPPORTED", async () => {
  const outcome = await rawStream({ headers: { authorization: `Bearer ${user.accessToken}` }, body: [envelope(hello, 1)] });
  assertStatus(outcome, Code.InvalidArgument, "COMPRESSION_UNSUPPORTED");
});

test("a message over 64 KiB ends the stream with RESOURCE_EXHAUSTED / FRAME_TOO_LARGE before it is buffered", async () => {
  const outcome = await rawStream({
    headers: { authorization: `Bearer ${user.accessToken}` },
    body: [envelope(hello), envelope(Buffer.alloc(16), 0, 1 << 20)],
  });
  assertStatus(outcome, Code.ResourceExhausted, "FRAME_TOO_LARGE");
});

test("bytes that are not a ConnectRequest end the stream with INVALID_ARGUMENT / MALFORMED_FRAME", async () => {
  const outcome = await rawStream({
    headers: { authorization: `Bearer ${user.accessToken}` },
    body: [envelope(hello), envelope(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))],
  });
  assertStatus(outcome, Code.InvalidArgument, "MALFORMED_FRAME");
});

test("the client's grpc-timeout ends the stream with DEADLINE_EXCEEDED after its frames", async () => {
  const started = performance.now();
  const outcome = await rawStream({
    headers: { authorization: `Bearer ${user.accessToken}`, "grpc-timeout": "300m" },
    body: [envelope(hello)],
  });
  assert.ok(performance.now() - started >= 290);
  assert.deepEqual(outcome.frames.slice(0, 2), ["ready", "caughtUp"]);
  assertStatus(outcome, Code.DeadlineExceeded, "DEADLINE_EXCEEDED");
});

test("gzip-encoded gRPC, gRPC-Web and the Connect protocol are still served (by Connect)", async () => {
  const gzip = await rawStream({
    headers: { authorization: `Bearer ${user.accessToken}`, "grpc-encoding": "gzip" },
    body: [envelope(hello)],
    endAfter: "caughtUp",
  });
  assert.deepEqual(gzip.frames.slice(0, 2), ["ready", "caughtUp"]);
  for (const transport of [
    createConnectTransport({ baseUrl: t.parley.url, httpVersion: "2" }),
    createGrpcWebTransport({ baseUrl: t.parley.url, httpVersion: "2" }),
  ]) {
    const stream = new DeviceStream(createClient(SessionService, transport), { accessToken: user.accessToken });
    await stream.caughtUp;
    stream.close();
  }
});
