// kafkajs's request queue, as the Kafka bus runs it (services/bus/adapters/kafka/request-queue.ts):
// a connection with nothing waiting arms no timer, while requests held back by the in-flight limit
// or a broker's throttle still go out.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  fixRequestQueueTimer,
  type RequestQueueInternals,
  requestQueueClass,
} from "../services/bus/adapters/kafka/request-queue.ts";

fixRequestQueueTimer();

interface Queue extends RequestQueueInternals {
  push(request: { entry: object; expectResponse: boolean; sendRequest: () => void; requestTimeout?: number }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };

function queue(maxInFlightRequests: number): Queue {
  const RequestQueue = requestQueueClass() as unknown as new (options: object) => Queue;
  return new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, clientId: "test", broker: "b", logger });
}

/** Pushes a request; returns a promise of the moment the queue hands it to the socket. */
function push(q: Queue, correlationId: number): Promise<number> {
  return new Promise((sent) => {
    q.push({
      entry: { correlationId, apiName: "Test", apiKey: 0, apiVersion: 0, resolve() {}, reject() {} },
      expectResponse: true,
      sendRequest: () => sent(Date.now()),
    });
  });
}

const answer = (q: Queue, correlationId: number) => q.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });

test("a connection whose requests are all answered arms no timer", async () => {
  const q = queue(1);
  await push(q, 1);
  answer(q, 1);
  assert.equal(q.throttleCheckTimeoutId, null, "kafkajs 2.2.4 re-armed a 1 ms timer here, forever");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(q.throttleCheckTimeoutId, null);
  q.destroy();
});

test("a request held back by the in-flight limit goes out when the one in flight is answered", async () => {
  const q = queue(1);
  await push(q, 1);
  let second: number | undefined;
  void push(q, 2).then((at) => {
    second = at;
  });
  assert.equal(second, undefined, "one request in flight at most");
  assert.equal(q.pending.length, 1);
  answer(q, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(second !== undefined, "sent once the first was answered");
  answer(q, 2);
  // The check armed while the request waited runs once, finds nothing and arms no other.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(q.throttleCheckTimeoutId, null);
  q.destroy();
});

test("a request held back by a broker's throttle goes out when the throttle ends", async () => {
  const q = queue(5);
  await push(q, 1);
  answer(q, 1);
  const throttledAt = Date.now();
  q.maybeThrottle(60);
  const sentAt = await push(q, 2);
  assert.ok(sentAt - throttledAt >= 55, `sent ${sentAt - throttledAt} ms after a 60 ms throttle began`);
  answer(q, 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(q.throttleCheckTimeoutId, null);
  q.destroy();
});
