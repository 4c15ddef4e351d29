// Presence settings from the environment: defaults, and a bad live-presence bound refused at start
// with the variable's name, as every PARLEY_* setting is.
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultPresenceConfig, presenceConfigFromEnv } from "../services/presence/config.ts";

test("the live-presence bound defaults to 100 members and takes a whole number of at least 2", () => {
  assert.equal(presenceConfigFromEnv({}).liveMaxMembers, 100);
  assert.equal(defaultPresenceConfig.liveMaxMembers, 100);
  assert.equal(presenceConfigFromEnv({ PARLEY_LIVE_PRESENCE_MAX_MEMBERS: "2" }).liveMaxMembers, 2);
  assert.equal(presenceConfigFromEnv({ PARLEY_LIVE_PRESENCE_MAX_MEMBERS: "250" }).liveMaxMembers, 250);
  for (const bad of ["1", "2.5", "0", "-3", "many"]) {
    assert.throws(
      () => presenceConfigFromEnv({ PARLEY_LIVE_PRESENCE_MAX_MEMBERS: bad }),
      /PARLEY_LIVE_PRESENCE_MAX_MEMBERS must be/,
      bad,
    );
  }
});
