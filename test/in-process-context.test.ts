// The lean HandlerContext of in-process calls and direct device streams.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import { MessagingService } from "../gen/parley/v1/messaging_pb.js";
import { InProcessContext } from "../services/shared/in-process-context.ts";

const key = createContextKey("nobody", { description: "test value" });

test("carries the call's values, signal and request headers; response headers start empty", () => {
  const stream = new AbortController();
  const context = new InProcessContext({
    service: MessagingService,
    method: MessagingService.method.sendMessage,
    protocolName: "in-process",
    requestMethod: "POST",
    url: "in-process:///parley.v1.MessagingService/SendMessage",
    values: createContextValues().set(key, "alice"),
    signal: stream.signal,
    requestHeader: { authorization: "Bearer t", "x-trace": "1" },
  });
  assert.equal(context.values.get(key), "alice");
  assert.equal(context.requestHeader.get("authorization"), "Bearer t");
  assert.equal(context.requestHeader, context.requestHeader, "one Headers object once made");
  context.responseTrailer.set("x-done", "yes");
  assert.equal(context.responseTrailer.get("x-done"), "yes");
  assert.deepEqual([...context.responseHeader.keys()], []);
  assert.equal(context.timeoutMs(), undefined);
  assert.equal(context.signal.aborted, false);
  stream.abort();
  assert.equal(context.signal.aborted, true, "the stream's own signal");
});

test("without a signal the call cannot be cancelled", () => {
  const context = new InProcessContext({
    service: MessagingService,
    method: MessagingService.method.markRead,
    protocolName: "in-process",
    requestMethod: "POST",
    url: "in-process:///x",
    values: createContextValues(),
  });
  assert.equal(context.signal.aborted, false);
  assert.deepEqual([...context.requestHeader.keys()], []);
});
