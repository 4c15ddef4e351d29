// PARLEY_* settings: every number is read by one set of rules, so a bad value stops either kind
// of process at start with the variable's name, whichever module owns the setting.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configFromEnv } from "../services/all-in-one/config.ts";
import { fanoutSettingsFromEnv } from "../services/fanout/worker.ts";
import { linkingFromEnv } from "../services/identity/linking-config.ts";
import { messagingLimitsFromEnv } from "../services/messaging/limits.ts";
import { retentionFromEnv } from "../services/messaging/retention.ts";
import { serviceConfigFromEnv } from "../services/runtime/config.ts";
import { oneOf, port, positiveNumber, wholeNumber } from "../services/shared/env-settings.ts";

const secret = Buffer.alloc(32, 7).toString("base64");
const service = (env: NodeJS.ProcessEnv) => serviceConfigFromEnv({ PARLEY_TOKEN_SECRET: secret, ...env });

test("unset or empty gives the default; a valid value is taken", () => {
  assert.equal(wholeNumber({}, "PARLEY_X", 7), 7);
  assert.equal(wholeNumber({ PARLEY_X: "" }, "PARLEY_X", 7), 7);
  assert.equal(wholeNumber({ PARLEY_X: "0" }, "PARLEY_X", 7), 0);
  assert.equal(wholeNumber({ PARLEY_X: "12" }, "PARLEY_X", 7, { min: 2, max: 12 }), 12);
  assert.equal(positiveNumber({ PARLEY_X: "0.2" }, "PARLEY_X", 1), 0.2);
  assert.equal(port({ PARLEY_X: "-1" }, "PARLEY_X", 80, true), -1);
  assert.equal(oneOf({ PARLEY_X: "b" }, "PARLEY_X", ["a", "b"], "a"), "b");
});

test("a bad value is refused with the variable's name, the rule and the value", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => wholeNumber({ PARLEY_X: "1.5" }, "PARLEY_X", 7), /PARLEY_X must be a non-negative integer, got "1.5"$/],
    [() => wholeNumber({ PARLEY_X: "-1" }, "PARLEY_X", 7), /PARLEY_X must be a non-negative integer/],
    [() => wholeNumber({ PARLEY_X: "0" }, "PARLEY_X", 7, { min: 1 }), /PARLEY_X must be a positive integer, got "0"$/],
    [() => wholeNumber({ PARLEY_X: "13" }, "PARLEY_X", 7, { min: 2, max: 12 }), /must be a whole number from 2 to 12, got "13"/],
    [() => wholeNumber({ PARLEY_X: "1" }, "PARLEY_X", 7, { min: 2 }), /must be a whole number of at least 2/],
    [() => wholeNumber({ PARLEY_X: "ten" }, "PARLEY_X", 7), /got "ten"/],
    [() => positiveNumber({ PARLEY_X: "0" }, "PARLEY_X", 1), /PARLEY_X must be a positive number/],
    [() => port({ PARLEY_X: "-1" }, "PARLEY_X", 80), /from 0 to 65535/],
    [() => port({ PARLEY_X: "70000" }, "PARLEY_X", 80, true), /from -1 to 65535/],
    [() => oneOf({ PARLEY_X: "c" }, "PARLEY_X", ["a", "b"], "a"), /PARLEY_X must be one of a, b, got "c"$/],
  ];
  for (const [read, message] of cases) assert.throws(read, message);
});

test("both processes' configs refuse nonsense they used to take (zero heartbeat, negative window, huge port)", () => {
  for (const read of [configFromEnv, service]) {
    assert.throws(() => read({ PARLEY_HEARTBEAT_MS: "0" }), /PARLEY_HEARTBEAT_MS must be a positive integer/);
    assert.throws(() => read({ PARLEY_WINDOW: "-5" }), /PARLEY_WINDOW must be a whole number from 1 to 1024/);
    assert.throws(() => read({ PARLEY_WINDOW: "4096" }), /PARLEY_WINDOW/);
    assert.throws(() => read({ PARLEY_PORT: "65536" }), /PARLEY_PORT must be a whole number from 0 to 65535/);
    assert.throws(() => read({ PARLEY_DELIVERED_LINGER_MS: "-1" }), /PARLEY_DELIVERED_LINGER_MS/);
    assert.throws(() => read({ PARLEY_ACCESS_TOKEN_TTL_MS: "0" }), /PARLEY_ACCESS_TOKEN_TTL_MS/);
    assert.throws(() => read({ PARLEY_LOG_LEVEL: "loud" }), /PARLEY_LOG_LEVEL must be one of debug, info, warn, error/);
    assert.throws(() => read({ PARLEY_LINK_HISTORY: "some" }), /PARLEY_LINK_HISTORY must be one of full, from_link/);
    assert.throws(() => read({ PARLEY_TYPING_BURST: "1.5" }), /PARLEY_TYPING_BURST must be a positive integer/);
    const ok = read({ PARLEY_WINDOW: "1024", PARLEY_METRICS_PORT: "-1", PARLEY_DELIVERED_LINGER_MS: "0" });
    assert.equal(ok.window, 1024);
    assert.equal(ok.metricsPort, -1);
    assert.equal(ok.deliveredLingerMs, 0);
  }
  assert.equal(configFromEnv({ PARLEY_WS_PORT: "-1" }).wsPort, -1);
  assert.throws(() => configFromEnv({ PARLEY_WS_PORT: "-2" }), /PARLEY_WS_PORT must be a whole number from -1 to 65535/);
});

test("the service modules' own settings use the same rules", () => {
  assert.throws(
    () => fanoutSettingsFromEnv({ PARLEY_FANOUT_CONCURRENCY: "0" }),
    /PARLEY_FANOUT_CONCURRENCY must be a positive integer/,
  );
  assert.throws(() => messagingLimitsFromEnv({ PARLEY_MAX_GROUP_MEMBERS: "1" }), /from 2 to 100000, got "1"/);
  assert.equal(messagingLimitsFromEnv({ PARLEY_MAX_GROUP_MEMBERS: "50" }).maxGroupMembers, 50);
  assert.throws(
    () => retentionFromEnv({ PARLEY_RETENTION_SWEEP_MS: "5" }),
    /PARLEY_RETENTION_SWEEP_MS must be a whole number of at least 10/,
  );
  assert.equal(retentionFromEnv({ PARLEY_DELETED_GROUP_RETENTION_MS: "0" }).retentionMs, 0);
  assert.throws(() => linkingFromEnv({ PARLEY_LINK_TOKEN_TTL_MS: "-1" }), /PARLEY_LINK_TOKEN_TTL_MS must be a positive integer/);
});

test("the write route's thresholds are percentages, the lower not above the upper", () => {
  assert.equal(configFromEnv({}).sqliteWriteThread, "auto");
  assert.deepEqual(configFromEnv({ PARLEY_SQLITE_THREAD_ABOVE: "90", PARLEY_SQLITE_INLINE_BELOW: "60" }).sqliteWriteRoute, {
    threadAbovePercent: 90,
    inlineBelowPercent: 60,
  });
  assert.throws(
    () => configFromEnv({ PARLEY_SQLITE_THREAD_ABOVE: "101" }),
    /PARLEY_SQLITE_THREAD_ABOVE must be a whole number from 0 to 100/,
  );
  assert.throws(
    () => configFromEnv({ PARLEY_SQLITE_THREAD_ABOVE: "50", PARLEY_SQLITE_INLINE_BELOW: "70" }),
    /PARLEY_SQLITE_INLINE_BELOW \(70\) must not be above PARLEY_SQLITE_THREAD_ABOVE \(50\)/,
  );
  assert.throws(() => configFromEnv({ PARLEY_SQLITE_WRITE_THREAD: "sometimes" }), /must be one of auto, true, false/);
});
