// Contract suite of the EventBus port (services/bus/ports.ts). It takes a named factory of fresh
// buses, so every adapter (in-memory today; Kafka/Redis later) runs the same cases. Waiting is done
// on promises (deliveries, close()), never on the clock.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { EventBus, Handler, Topic, TopicPayloads } from "../../services/bus/ports.ts";
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

export interface BusAdapters extends Cleanup {
  bus: EventBus;
}

export interface EventBusContractOptions extends ContractOptions {
  /**
   * The capacities to build the bus with for the backpressure cases (small, so that a blocked
   * consumer fills it), or why this adapter cannot run them.
   */
  backpressure: { capacities: number[] } | { skip: string };
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
const control = (label: string): TopicPayloads["device-control"] => ({ deviceId: label, reason: "revoked" });

/** Records what a subscription receives and resolves `reached(n)` once n messages have arrived. */
function recorder<T extends Topic>(inner?: (value: TopicPayloads[T], key: string) => Promise<void>) {
  const received: { key: string; value: TopicPayloads[T] }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler: Handler<T> = async (value, key) => {
    received.push({ key, value });
    for (const w of waiters) if (received.length >= w.n) w.resolve();
    if (inner) await inner(value, key);
  };
  return {
    received,
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
      bus.subscribe("device-control", "g", r.handler);
      await bus.publish("device-control", "k1", control("a"));
      await bus.publish("device-control", "k2", control("b"));
      await bus.publish("device-control", "k1", control("c"));
      await r.reached(3);
      await bus.close();
      assert.deepEqual(r.received, [
        { key: "k1", value: control("a") },
        { key: "k2", value: control("b") },
        { key: "k1", value: control("c") },
      ]);
    });

    c.test("payloads arrive intact (a conversation event with bigint sequence)", async ({ bus }) => {
      const r = recorder<"conversation-events">();
      bus.subscribe("conversation-events", "g", r.handler);
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
      bus.subscribe("device-control", "g", r.handler);
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
      bus.subscribe("device-control", "g", r.handler);
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
      for (const { g, r } of groups) bus.subscribe("device-control", g, r.handler);
      const labels = Array.from({ length: 30 }, (_, i) => String(i));
      for (const label of labels) await bus.publish("device-control", "one-key", control(label));
      await Promise.all(groups.map(({ r }) => r.reached(30)));
      await bus.close();
      for (const { g, r } of groups) assert.deepEqual(r.labels(), labels, `group ${g}`);
    });

    c.test("subscriptions of one group share its messages: each is handled once per group", async ({ bus }) => {
      const first = recorder<"device-control">();
      const second = recorder<"device-control">();
      const other = recorder<"device-control">();
      bus.subscribe("device-control", "shared", first.handler);
      bus.subscribe("device-control", "shared", second.handler);
      bus.subscribe("device-control", "other", other.handler);
      for (let i = 0; i < 20; i++) await bus.publish("device-control", `k${i % 4}`, control(String(i)));
      await other.reached(20);
      await bus.close();
      const handled = [...first.labels(), ...second.labels()].sort();
      assert.deepEqual(handled, Array.from({ length: 20 }, (_, i) => String(i)).sort());
    });

    c.test("subscribers receive only their topic", async ({ bus }) => {
      const events = recorder<"conversation-events">();
      const receipts = recorder<"receipts">();
      const controls = recorder<"device-control">();
      bus.subscribe("conversation-events", "g", events.handler);
      bus.subscribe("receipts", "g", receipts.handler);
      bus.subscribe("device-control", "g", controls.handler);
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
        if (seen.length === 10) done.resolve();
        const i = Number(value.deviceId);
        if (i % 3 === 0) throw new Error(`sync failure ${i}`);
        if (i % 3 === 1) return Promise.reject(new Error(`async failure ${i}`));
        return Promise.resolve();
      };
      const healthy = recorder<"device-control">();
      bus.subscribe("device-control", "flaky", handler);
      bus.subscribe("device-control", "healthy", healthy.handler);
      for (let i = 0; i < 10; i++) await bus.publish("device-control", "k", control(String(i)));
      await done.promise;
      await healthy.reached(10);
      await bus.close();
      const labels = Array.from({ length: 10 }, (_, i) => String(i));
      assert.deepEqual(seen, labels, "every message after a failure is still handled, in order");
      assert.deepEqual(healthy.labels(), labels);
      const failures = logged.filter((l) => l.level === "error");
      assert.ok(failures.length >= 7, `each of the 7 failures is logged (got ${failures.length} error lines)`);
    });

    c.test("unsubscribe stops deliveries to that subscription only", async ({ bus }) => {
      const leaving = recorder<"device-control">();
      const staying = recorder<"device-control">();
      const unsubscribe = bus.subscribe("device-control", "leaving", leaving.handler);
      bus.subscribe("device-control", "staying", staying.handler);
      for (let i = 0; i < 5; i++) await bus.publish("device-control", "k", control(String(i)));
      await Promise.all([leaving.reached(5), staying.reached(5)]);
      unsubscribe();
      for (let i = 5; i < 10; i++) await bus.publish("device-control", "k", control(String(i)));
      await staying.reached(10);
      await bus.close();
      assert.equal(leaving.received.length, 5);
      assert.equal(staying.received.length, 10);
    });

    c.test("close waits until queued messages are handled, then refuses publishes", async ({ bus }) => {
      const g = gate();
      const r = recorder<"device-control">(() => g.wait());
      bus.subscribe("device-control", "g", r.handler);
      for (let i = 0; i < 5; i++) await bus.publish("device-control", "k", control(String(i)));
      await r.reached(1);
      const closing = bus.close();
      const closed = track(closing);
      await settle();
      assert.equal(closed.settled, false, "close must not resolve while messages are queued");
      assert.equal(r.received.length, 1, "the handler is still blocked on the first message");
      g.open();
      await closing;
      assert.deepEqual(r.labels(), ["0", "1", "2", "3", "4"]);
      await assert.rejects(bus.publish("device-control", "k", control("late")));
      assert.equal(r.received.length, 5);
    });

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
            bus.subscribe("device-control", "slow", r.handler);
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
            bus.subscribe("device-control", "slow", slow.handler);
            bus.subscribe("device-control", "fast", fast.handler);
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
            bus.subscribe("device-control", "slow", r.handler);
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
            bus.subscribe("device-control", "slow", r.handler);
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
