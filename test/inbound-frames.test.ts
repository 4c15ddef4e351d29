// Client frames reach the session one at a time (InboundFrames.consume): a frame handled at once
// lets the next one through in the same turn, a pending one holds the rest back, a flood pauses the
// transport, and the end of the stream or a failure settles the reading.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type ConnectRequest, ConnectRequestSchema } from "../gen/parley/v1/session_pb.js";
import { type FrameHandler, InboundFrames } from "../services/gateway/inbound-frames.ts";

const ping = (nonce: number) => create(ConnectRequestSchema, { frame: { case: "heartbeat", value: { nonce: BigInt(nonce) } } });
const nonceOf = (frame: ConnectRequest) => (frame.frame.case === "heartbeat" ? Number(frame.frame.value.nonce) : -1);

function inbound() {
  const transport = { pauses: 0, resumes: 0 };
  const frames = new InboundFrames({
    highWater: 4,
    source: { pause: () => transport.pauses++, resume: () => transport.resumes++ },
  });
  return { frames, transport };
}

/** consume() as a promise: resolves once the stream ended, rejects with the handler's failure. */
function reading(frames: InboundFrames, handle: FrameHandler): Promise<void> {
  return new Promise((resolve, reject) => frames.consume(handle, resolve, reject));
}

test("frames handled at once are consumed as they arrive, in order, without waiting a turn", async () => {
  const { frames } = inbound();
  const seen: number[] = [];
  const read = reading(frames, (frame) => {
    seen.push(nonceOf(frame));
    return undefined;
  });
  frames.push(ping(1));
  frames.push(ping(2));
  assert.deepEqual(seen, [1, 2], "each frame reaches the handler synchronously");
  frames.push(ping(3));
  frames.end();
  await read;
  assert.deepEqual(seen, [1, 2, 3]);
});

test("a frame whose handling is pending holds the next ones until it settles", async () => {
  const { frames, transport } = inbound();
  const seen: number[] = [];
  let release: () => void = () => {};
  const read = reading(frames, (frame) => {
    seen.push(nonceOf(frame));
    if (nonceOf(frame) !== 1) return undefined;
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  for (let n = 1; n <= 6; n++) frames.push(ping(n));
  assert.deepEqual(seen, [1], "frames 2.. wait for frame 1");
  assert.equal(transport.pauses, 1, "the queue passed its high-water mark and paused the transport");
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.equal(transport.resumes, 1, "draining the queue resumed the transport");
  frames.end();
  await read;
});

test("the reading rejects with what the handler threw or rejected with", async () => {
  const thrown = inbound();
  const failing = reading(thrown.frames, () => {
    throw new Error("bad frame");
  });
  thrown.frames.push(ping(1));
  await assert.rejects(failing, /bad frame/);

  const rejected = inbound();
  const rejecting = reading(rejected.frames, () => Promise.reject(new Error("store down")));
  rejected.frames.push(ping(1));
  await assert.rejects(rejecting, /store down/);
});

test("frames queued before the end are all consumed, then the reading resolves", async () => {
  const { frames } = inbound();
  frames.push(ping(1));
  frames.push(ping(2));
  frames.end();
  const seen: number[] = [];
  await reading(frames, (frame) => {
    seen.push(nonceOf(frame));
    return undefined;
  });
  assert.deepEqual(seen, [1, 2]);
});

test("consume reports the end once, and nothing after a failure", async () => {
  const { frames } = inbound();
  const calls: string[] = [];
  frames.consume(
    () => {
      throw new Error("bad frame");
    },
    () => calls.push("ended"),
    (error) => calls.push(`failed: ${(error as Error).message}`),
  );
  frames.push(ping(1));
  frames.push(ping(2));
  frames.end();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls, ["failed: bad frame"]);
});

test("a frame pushed while the handler ends the stream is still handled, then the end is reported", async () => {
  const { frames } = inbound();
  const seen: number[] = [];
  let ends = 0;
  frames.consume(
    (frame) => {
      seen.push(nonceOf(frame));
      if (nonceOf(frame) === 1) {
        frames.push(ping(2));
        frames.end();
      }
      return undefined;
    },
    () => ends++,
    (error) => assert.fail(String(error)),
  );
  frames.push(ping(1));
  assert.deepEqual(seen, [1, 2]);
  assert.equal(ends, 1);
});
