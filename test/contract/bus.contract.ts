// Contract suite of the EventBus port (services/bus/ports.ts). It takes a named factory of fresh
// buses, so every adapter (in-memory, Kafka) runs the same cases. Waiting is done on promises
// (deliveries, close()), never on the clock.
import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import { describe } from "node:test";
import type { EventBus, Handler, MessageHeaders, Topic, TopicPayloads } from "../../services/bus/ports.ts";
import type { LogFields, Logger } from "../../services/shared/logger.ts";
import { type Cleanup, type ContractOptions, contractCases, deferred, messageEvent, settle, track } from "./harness.ts";

export interface BusFactoryOptions {
  /** Where the bus logs (handler failures among others). */
  logger: Logger;
  /**
   * How many messages may wait for a consumer (besides the one it is handling) before publish
   * waits; the adapter's default when absent.
   */
  capacity?: number;
}

/** A message a durable bus set aside after its handler kept failing. */
export interface DeadLetterRecord<T extends Topic> {
  key: string;
  value: TopicPayloads[T];
  /** The headers it was published with. */
  headers: MessageHeaders;
  /** The last failure's message. */
  error: string;
  /** Handler calls made before it was set aside. */
  attempts: number;
}

export interface BusAdapters extends Cleanup {
  bus: EventBus;
  /**
   * A durable bus only: another bus on the same topics and groups (as after a restart), closed
   * by cleanup. The close case then checks that what the first bus left is handled by it.
   */
  reopen?: () => Promise<EventBus>;
  /** A bus with a dead-letter queue: its first `count` dead letters of the topic. */
  deadLetters?: <T extends Topic>(topic: T, count: number) => Promise<DeadLetterRecord<T>[]>;
}

export interface EventBusContractOptions extends ContractOptions {
  /**
   * The capacities to build the bus with for the backpressure cases (small, so that a blocked
   * consumer fills it), or why this adapter cannot run them.
   */
  backpressure: { capacities: number[] } | { skip: string };
  /** How many handler calls a failing message gets before the dead-letter queue, or why there is none. */
  deadLetter: { attempts: number } | { skip: string };
}

interface LogLine {
  level: string;
  msg: string;
  fields?: LogFields;
}

function capturingLogger(lines: LogLine[]): Logger {
  const logger: Logger = {
    debug: (msg, fields) => lines.push({ level: "debug", msg, fields }),
    info: (msg, fields) => lines.push({ level: "info", msg, fields }),
    warn: (msg, fields) => lines.push({ level: "warn", msg, fields }),
    error: (msg, fields) => lines.push({ level: "error", msg, fields }),
    child: () => logger,
  };
  return logger;
}

/** device-control carries the simplest payload; the device id doubles as the message label. */
const control = (label: string): TopicPayloads["device-control"] => ({ userId: "u", deviceId: label, reason: "revoked" });

/** Records what a subscription receives and resolves `reached(n)` once n messages have arrived. */
function recorder<T extends Topic>(inner?: (value: TopicPayloads[T], key: string) => Promise<void>) {
  const received: { key: string; value: TopicPayloads[T] }[] = [];
  const headers: MessageHeaders[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler: Handler<T> = async (value, key, h) => {
    received.push({ key, value });
    headers.push(h);
    for (const w of waiters) if (received.length >= w.n) w.resolve();
    if (inner) await inner(value, key);
  };
  return {
    received,
    headers,
    handler,
    labels: () => received.map((r) => (r.value as { deviceId?: string }).deviceId),
    reached(n: number): Promise<void> {
      if (received.length >= n) return Promise.resolve();
      const d = deferred();
      waiters.push({ n, resolve: d.resolve });
      return d.promise;
    },
  };
}

/** A handler that blocks until opened. */
function gate() {
  const open = deferred();
  let entered = 0;
  return {
    open: () => open.resolve(),
    wait: async () => {
      entered++;
      await open.promise;
    },
    get entered() {
      return entered;
    },
  };
}

export function eventBusContract(
  name: string,
  makeAdapters: (options: BusFactoryOptions) => Promise<BusAdapters>,
  options: EventBusContractOptions,
) {
  describe(`EventBus contract: ${name}`, () => {
    type Adapters = BusAdapters & { logged: LogLine[] };
    const build = (capacity?: number) => async (): Promise<Adapters> => {
      const logged: LogLine[] = [];
      const adapters = await makeAdapters({ logger: capturingLogger(logged), capacity });
      return { ...adapters, logged };
    };
    const c = contractCases(build(), options);

    c.test("a subscriber receives each published message once, with its key", async ({ bus }) => {
      const r = recorder<"device-control">();
      await bus.subscribe("device-control", "g", r.handler);
      await bus.publish("device-control", "k1", control("a"));
      await bus.publish("device-control", "k2", control("b"));
      await bus.publish("device-control", "k1", control("c"));
      await r.reached(3);
      await bus.close();
      // Only messages of one key keep their order (different keys may live in different partitions).
      const byLabel = [...r.received].sort((x, y) => x.value.deviceId.localeCompare(y.value.deviceId));
      assert.deepEqual(byLabel, [
        { key: "k1", value: control("a") },
        { key: "k2", value: control("b") },
        { key: "k1", value: control("c") },
      ]);
      assert.deepEqual(
        r.received.filter((x) => x.key === "k1").map((x) => x.value.deviceId),
        ["a", "c"],
      );
    });

    c.test("payloads arrive intact (a conversation event with bigint sequence)", async ({ bus }) => {
      const r = recorder<"conversation-events">();
      await bus.subscribe("conversation-events", "g", r.handler);
      const event = { ...messageEvent({ sender: "u1", clientMessageId: "m1", text: "hi" }), conversationId: "c1", sequence: 42n };
      await bus.publish("conversation-events", "c1", event);
      await r.reached(1);
      await bus.close();
      assert.equal(r.received[0]?.key, "c1");
      assert.equal(r.received[0]?.value.sequence, 42n);
      assert.equal(r.received[0]?.value.eventId, event.eventId);
    });

    c.test("messages with one key reach a subscriber in publish order", async ({ bus }) => {
      // The handler yields a varying number of turns, so that a bus running handlers of one key
      // concurrently would let later messages overtake.
      let n = 0;
      const r = recorder<"device-control">(async () => settle(n++ % 4));
      await bus.subscribe("device-control", "g", r.handler);
      const keys = ["k0", "k1", "k2", "k3"];
      for (let i = 0; i < 200; i++) {
        const key = keys[(i * 7) % keys.length] as string;
        await bus.publish("device-control", key, control(`${key}/${i}`));
      }
      await r.reached(200);
      await bus.close();
      for (const key of keys) {
        const got = r.received.filter((x) => x.key === key).map((x) => Number(x.value.deviceId.split("/")[1]));
        assert.equal(got.length, 50);
        assert.deepEqual(
          got,
          [...got].sort((x, y) => x - y),
          `key ${key} in order`,
        );
      }
    });

    c.test("publishes started without awaiting keep their call order per key", async ({ bus }) => {
      const r = recorder<"device-control">(async () => settle(1));
      await bus.subscribe("device-control", "g", r.handler);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) pending.push(bus.publish("device-control", `k${i % 3}`, control(String(i))));
      await Promise.all(pending);
      await r.reached(100);
      await bus.close();
      for (const key of ["k0", "k1", "k2"]) {
        const got = r.received.filter((x) => x.key === key).map((x) => Number(x.value.deviceId));
        assert.deepEqual(
          got,
          [...got].sort((x, y) => x - y),
        );
      }
    });

    c.test("every subscribed group receives every message, in order", async ({ bus }) => {
      const groups = ["fanout", "audit", "search"].map((g) => ({ g, r: recorder<"device-control">() }));
      await Promise.all(groups.map(({ g, r }) => bus.subscribe("device-control", g, r.handler)));
      const labels = Array.from({ length: 30 }, (_, i) => String(i));
      for (const label of labels) await bus.publish("device-control", "one-key", control(label));
      await Promise.all(groups.map(({ r }) => r.reached(30)));
      await bus.close();
      for (const { g, r } of groups) assert.deepEqual(r.labels(), labels, `group ${g}`);
    });

    c.test("subscriptions of one group share its messages: each is handled once per group", async ({ bus }) => {
      // Counts what the two subscriptions of "shared" handle between them.
      const both = recorder<"device-control">();
      const first = recorder<"device-control">((value, key) => both.handler(value, key, {}));
      const second = recorder<"device-control">((value, key) => both.handler(value, key, {}));
      const other = recorder<"device-control">();
      await bus.subscribe("device-control", "shared", first.handler);
      await bus.subscribe("device-control", "shared", second.handler);
      await bus.subscribe("device-control", "other", other.handler);
      for (let i = 0; i < 20; i++) await bus.publish("device-control", `k${i % 4}`, control(String(i)));
      await Promise.all([other.reached(20), both.reached(20)]);
      await bus.close();
      const handled = [...first.labels(), ...second.labels()].sort();
      assert.deepEqual(handled, Array.from({ length: 20 }, (_, i) => String(i)).sort());
    });

    c.test("subscribers receive only their topic", async ({ bus }) => {
      const events = recorder<"conversation-events">();
      const receipts = recorder<"receipts">();
      const controls = recorder<"device-control">();
      await bus.subscribe("conversation-events", "g", events.handler);
      await bus.subscribe("receipts", "g", receipts.handler);
      await bus.subscribe("device-control", "g", controls.handler);
      await bus.publish("device-control", "d1", control("d1"));
      await bus.publish("device-control", "d2", control("d2"));
      await controls.reached(2);
      await bus.close();
      assert.equal(controls.received.length, 2);
      assert.equal(events.received.length, 0);
      assert.equal(receipts.received.length, 0);
    });

    c.test("a failing handler is logged and the subscription keeps going", async ({ bus, logged }) => {
      const seen: string[] = [];
      const done = deferred();
      // Rejections and synchronous throws both count as failures.
      const handler: Handler<"device-control"> = (value) => {
        seen.push(value.deviceId);
        if (value.deviceId === "9") done.resolve();
        const i = Number(value.deviceId);
        if (i % 3 === 0) throw new Error(`sync failure ${i}`);
        if (i % 3 === 1) return Promise.reject(new Error(`async failure ${i}`));
        return Promise.resolve();
      };
      const healthy = recorder<"device-control">();
      await bus.subscribe("device-control", "flaky", handler);
      await bus.subscribe("device-control", "healthy", healthy.handler);
      for (let i = 0; i < 10; i++) await bus.publish("device-control", "k", control(String(i)));
      await done.promise;
      await healthy.reached(10);
      await bus.close();
      const labels = Array.from({ length: 10 }, (_, i) => String(i));
      // A bus may retry a failing message (calling the handler again) before moving on.
      const calls = seen.map(Number);
      assert.deepEqual(
        calls,
        [...calls].sort((x, y) => x - y),
        "retries happen before the next message",
      );
      assert.deepEqual([...new Set(seen)], labels, "every message after a failure is still handled, in order");
      assert.deepEqual(healthy.labels(), labels);
      const failures = logged.filter((l) => l.level === "error");
      assert.ok(failures.length >= 7, `each of the 7 failures is logged (got ${failures.length} error lines)`);
    });

    c.test("a group gaining a subscriber while messages flow loses none; each keeps per-key order", async ({ bus }) => {
      // Delivery is at least once: a message handled around the handover may come twice.
      const seen = new Set<string>();
      const all = deferred();
      const total = 300;
      const note = async (value: TopicPayloads["device-control"]) => {
        seen.add(value.deviceId);
        if (seen.size === total) all.resolve();
      };
      const first = recorder<"device-control">(note);
      const second = recorder<"device-control">(note);
      await bus.subscribe("device-control", "g", first.handler);
      const keyOf = (i: number) => `k${i % 10}`;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        if (i === 100) await bus.subscribe("device-control", "g", second.handler);
        pending.push(bus.publish("device-control", keyOf(i), control(String(i))));
      }
      await Promise.all(pending);
      await all.promise;
      await bus.close();
      assert.ok(second.received.length > 0, "the new subscriber takes a share");
      for (const r of [first, second]) {
        for (let k = 0; k < 10; k++) {
          const got = r.received.filter((x) => x.key === `k${k}`).map((x) => Number(x.value.deviceId));
          assert.deepEqual(
            got,
            [...got].sort((x, y) => x - y),
            `key k${k} in order within one subscriber`,
          );
        }
      }
    });

    c.test("unsubscribe stops deliveries to that subscription only", async ({ bus }) => {
      const leaving = recorder<"device-control">();
      const staying = recorder<"device-control">();
      const unsubscribe = await bus.subscribe("device-control", "leaving", leaving.handler);
      await bus.subscribe("device-control", "staying", staying.handler);
      for (let i = 0; i < 5; i++) await bus.publish("device-control", "k", control(String(i)));
      await Promise.all([leaving.reached(5), staying.reached(5)]);
      await unsubscribe();
      for (let i = 5; i < 10; i++) await bus.publish("device-control", "k", control(String(i)));
      await staying.reached(10);
      await bus.close();
      assert.equal(leaving.received.length, 5);
      assert.equal(staying.received.length, 10);
    });

    c.test("close waits for the message in hand and refuses publishes; nothing accepted is lost", async (adapters) => {
      const { bus } = adapters;
      const g = gate();
      const r = recorder<"device-control">(() => g.wait());
      await bus.subscribe("device-control", "g", r.handler);
      const labels = ["0", "1", "2", "3", "4"];
      for (const label of labels) await bus.publish("device-control", "k", control(label));
      await r.reached(1);
      const closing = bus.close();
      const closed = track(closing);
      await settle();
      assert.equal(closed.settled, false, "close must not resolve while a handler is running");
      assert.equal(r.received.length, 1, "the handler is still blocked on the first message");
      g.open();
      await closing;
      await assert.rejects(bus.publish("device-control", "k", control("late")));
      if (!adapters.reopen) {
        // The in-process bus handles everything queued before close resolves.
        assert.deepEqual(r.labels(), labels);
        return;
      }
      // A durable bus may leave queued messages in the topic: the group's next subscriber gets
      // exactly those, because what was handled was committed before close resolved.
      const handledBefore = r.labels();
      assert.deepEqual(handledBefore, labels.slice(0, handledBefore.length), "handled in order");
      const again = await adapters.reopen();
      const rest = recorder<"device-control">();
      await again.subscribe("device-control", "g", rest.handler);
      await again.publish("device-control", "k", control("end"));
      await rest.reached(labels.length - handledBefore.length + 1);
      await again.close();
      assert.deepEqual([...handledBefore, ...rest.labels()], [...labels, "end"], "nothing lost or handled twice");
    });

    c.test("an idle bus does not keep waking its process", async ({ bus }) => {
      // kafkajs 2.2.4 re-armed a 1 ms timer per connection forever once it had answered a
      // request (services/bus/adapters/kafka/request-queue.ts): a thousand wake-ups a second.
      const r = recorder<"device-control">();
      await bus.subscribe("device-control", "idle", r.handler);
      await bus.publish("device-control", "k", control("0"));
      await r.reached(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      let timers = 0;
      const hook = createHook({
        init: (_id, type) => {
          if (type === "Timeout") timers++;
        },
      }).enable();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      hook.disable();
      await bus.close();
      assert.ok(timers < 100, `${timers} timers armed in one idle second`);
    });

    c.test("headers published with a message reach the handler; none gives an empty object", async ({ bus }) => {
      const r = recorder<"device-control">();
      await bus.subscribe("device-control", "g", r.handler);
      const traced = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "parley=1" };
      await bus.publish("device-control", "k", control("traced"), traced);
      await bus.publish("device-control", "k", control("plain"));
      await r.reached(2);
      await bus.close();
      assert.deepEqual(r.labels(), ["traced", "plain"]);
      assert.deepEqual({ ...r.headers[0] }, traced);
      assert.deepEqual({ ...r.headers[1] }, {});
    });

    const deadLetterTitle = "a message that keeps failing is set aside after bounded retries; the ones behind it arrive";
    if ("skip" in options.deadLetter) {
      c.skip(deadLetterTitle, options.deadLetter.skip);
    } else {
      const { attempts } = options.deadLetter;
      c.test(deadLetterTitle, async ({ bus, deadLetters }) => {
        assert.ok(deadLetters, "an adapter with a dead-letter queue provides deadLetters()");
        const r = recorder<"device-control">(async (value) => {
          if (value.deviceId === "poison") throw new Error("poison pill");
        });
        await bus.subscribe("device-control", "g", r.handler);
        const traced = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        await bus.publish("device-control", "k", control("before"));
        await bus.publish("device-control", "k", control("poison"), traced);
        await bus.publish("device-control", "k", control("after-1"));
        await bus.publish("device-control", "k", control("after-2"));
        await r.reached(attempts + 3);
        const [dead] = await deadLetters("device-control", 1);
        await bus.close();
        const poison = Array.from({ length: attempts }, () => "poison");
        assert.deepEqual(r.labels(), ["before", ...poison, "after-1", "after-2"], "retried, then passed over");
        assert.equal(dead?.key, "k");
        assert.deepEqual(dead?.value, control("poison"));
        assert.equal(dead?.headers.traceparent, traced.traceparent, "original headers are kept");
        assert.equal(dead?.error, "poison pill");
        assert.equal(dead?.attempts, attempts);
      });
    }

    const backpressureCases = [
      "publish waits while a consumer is a full capacity behind",
      "under backpressure, nothing is lost and per-key order holds",
      "a publish waiting for room is not overtaken by a later publish",
      "a publish waiting at close is refused or handled before close resolves",
    ];
    if ("skip" in options.backpressure) {
      for (const title of backpressureCases) c.skip(title, options.backpressure.skip);
    } else {
      for (const capacity of options.backpressure.capacities) {
        const small = build(capacity);

        c.test(
          `publish waits while a consumer is a full capacity behind [capacity ${capacity}]`,
          async ({ bus }) => {
            const g = gate();
            const r = recorder<"device-control">(() => g.wait());
            await bus.subscribe("device-control", "slow", r.handler);
            const total = capacity + 10;
            const publishes = Array.from({ length: total }, (_, i) => bus.publish("device-control", "k", control(String(i))));
            const states = publishes.map(track);
            await publishes[0]; // the bus accepts messages while it has room
            await r.reached(1); // and the consumer is now blocked on the first one
            await settle();
            const accepted = states.filter((s) => s.settled).length;
            assert.ok(accepted < total, "publish waits once the blocked consumer is a capacity behind");
            // The consumer holds at most `capacity` queued messages plus the one it is handling.
            assert.ok(accepted <= capacity + 1, `accepted ${accepted} with capacity ${capacity}`);
            assert.ok(
              states.every((s) => !s.rejected),
              "waiting publishes do not fail",
            );
            g.open();
            await Promise.all(publishes);
            await r.reached(total);
            await bus.close();
            assert.deepEqual(
              r.labels(),
              Array.from({ length: total }, (_, i) => String(i)),
            );
          },
          small,
        );

        c.test(
          `under backpressure, nothing is lost and per-key order holds [capacity ${capacity}]`,
          async ({ bus }) => {
            // A slow consumer, a fast one, and a publisher that keeps issuing without awaiting.
            const slow = recorder<"device-control">(async () => settle(2));
            const fast = recorder<"device-control">();
            await bus.subscribe("device-control", "slow", slow.handler);
            await bus.subscribe("device-control", "fast", fast.handler);
            const pending: Promise<void>[] = [];
            const total = capacity * 20 + 7;
            for (let i = 0; i < total; i++) {
              pending.push(bus.publish("device-control", `k${i % 3}`, control(String(i))));
              if (i % 5 === 4) await settle(1);
            }
            await Promise.all(pending);
            await Promise.all([slow.reached(total), fast.reached(total)]);
            await bus.close();
            for (const r of [slow, fast]) {
              assert.equal(r.received.length, total);
              for (const key of ["k0", "k1", "k2"]) {
                const got = r.received.filter((x) => x.key === key).map((x) => Number(x.value.deviceId));
                assert.deepEqual(
                  got,
                  [...got].sort((x, y) => x - y),
                  `key ${key}`,
                );
              }
            }
          },
          small,
        );

        c.test(
          `a publish waiting for room is not overtaken by a later publish [capacity ${capacity}]`,
          async ({ bus }) => {
            // Every message has its own gate, so the test decides exactly when each is handled.
            const gates = new Map<string, ReturnType<typeof gate>>();
            const gateOf = (label: string) => {
              const existing = gates.get(label);
              if (existing) return existing;
              const g = gate();
              gates.set(label, g);
              return g;
            };
            const r = recorder<"device-control">((value) => gateOf(value.deviceId).wait());
            await bus.subscribe("device-control", "slow", r.handler);
            // One message in the handler, `capacity` queued, then one more that must wait for room.
            const early = Array.from({ length: capacity + 2 }, (_, i) => bus.publish("device-control", "k", control(String(i))));
            await settle();
            // Handling one message frees room while the next is still in the handler.
            gateOf("0").open();
            await r.reached(2);
            await settle();
            const late = bus.publish("device-control", "k", control("late"));
            for (let i = 0; i < capacity + 2; i++) gateOf(String(i)).open();
            gateOf("late").open();
            await Promise.all([...early, late]);
            await r.reached(capacity + 3);
            await bus.close();
            assert.deepEqual(r.labels(), [...Array.from({ length: capacity + 2 }, (_, i) => String(i)), "late"]);
          },
          small,
        );

        c.test(
          `a publish waiting at close is refused or handled before close resolves [capacity ${capacity}]`,
          async ({ bus }) => {
            const g = gate();
            const r = recorder<"device-control">(() => g.wait());
            await bus.subscribe("device-control", "slow", r.handler);
            const total = capacity + 3;
            const outcomes = Array.from({ length: total }, (_, i) =>
              bus.publish("device-control", "k", control(String(i))).then(
                () => "accepted",
                () => "refused",
              ),
            );
            await settle();
            const closing = bus.close();
            g.open();
            await closing;
            const handledAtClose = new Set(r.labels());
            const results = await Promise.all(outcomes);
            for (const [i, outcome] of results.entries()) {
              if (outcome === "accepted")
                assert.ok(handledAtClose.has(String(i)), `accepted message ${i} was handled before close resolved`);
            }
            assert.ok(results[0] === "accepted", "messages published before close are accepted");
          },
          small,
        );
      }
    }

    c.end();
  });
}
