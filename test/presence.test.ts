// Presence through a real server and real streams: online, offline and last seen; the snapshot
// after CaughtUp; only contacts hear it, as the subject's privacy setting allows; flapping is
// coalesced per watcher; a device that vanishes goes offline after the heartbeat timeout.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { bearer } from "../clients/node/transport.ts";
import { PresenceState, PresenceVisibility } from "../gen/parley/v1/presence_pb.js";
import { eventually, newPhone, type SignedIn } from "./helpers/parley.ts";
import {
  directBetween,
  metric,
  refusal,
  type Server,
  silentDevice,
  sleep,
  startServer,
  Watcher,
  watch,
} from "./helpers/presence.ts";

const heartbeatMs = 1_000;
const windowMs = 1_000;
const liveMaxMembers = 3;
let s: Server;
before(async () => {
  s = await startServer({
    PARLEY_HEARTBEAT_MS: String(heartbeatMs),
    PARLEY_PRESENCE_COALESCE_MS: String(windowMs),
    PARLEY_LIVE_PRESENCE_MAX_MEMBERS: String(liveMaxMembers),
  });
});
after(() => s.stop());

/** Two users who share a direct conversation. */
async function contacts(): Promise<[SignedIn, SignedIn]> {
  const a = await s.signIn(newPhone());
  const b = await s.signIn(newPhone());
  await directBetween(s.clients, a, b);
  return [a, b];
}

const presenceOf = async (viewer: SignedIn, userId: string) =>
  (await s.presence.getPresence({ userIds: [userId] }, { headers: bearer(viewer.accessToken) })).presences[0];

const setVisibility = (who: SignedIn, visibility: PresenceVisibility) =>
  s.presence.updatePresenceSettings({ visibility }, { headers: bearer(who.accessToken) });

describe("online, offline and last seen", () => {
  test("a contact sees the user come online and go offline with a last-seen time", async () => {
    const [alice, bob] = await contacts();
    const bobWatch = await watch(s.clients.session, bob);
    assert.deepEqual(
      bobWatch.snapshot?.map((p) => [p.userId, p.state, p.lastSeenAt]),
      [[alice.userId, PresenceState.OFFLINE, undefined]],
      "a contact who never connected is offline, never seen",
    );
    const aliceStream = new Watcher(s.clients.session, alice);
    await eventually("bob sees alice online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE);
    assert.equal((await presenceOf(bob, alice.userId))?.state, PresenceState.ONLINE);

    const before = Date.now();
    await aliceStream.close();
    await eventually("bob sees alice offline", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE);
    const offline = bobWatch.about(alice.userId).at(-1);
    assert.ok(offline?.lastSeenAt && offline.lastSeenAt >= before - 1000 && offline.lastSeenAt <= Date.now());
    const asked = await presenceOf(bob, alice.userId);
    assert.equal(asked?.state, PresenceState.OFFLINE);
    assert.ok(asked?.lastSeenAt, "GetPresence has the last-seen time");
    await bobWatch.close();
  });

  test("a user is online while any of their devices has a stream", async () => {
    const [alice, bob] = await contacts();
    const phone = await s.signIn(alice.phoneNumber, "phone");
    const bobWatch = await watch(s.clients.session, bob);
    const laptop = new Watcher(s.clients.session, alice);
    const mobile = new Watcher(s.clients.session, phone);
    await Promise.all([laptop.stream.caughtUp, mobile.stream.caughtUp]);
    await eventually("online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE);
    await laptop.close();
    // Past the coalescing window, an offline update would have arrived by now if there were one.
    await sleep(windowMs + 500);
    assert.equal(bobWatch.stateOf(alice.userId), PresenceState.ONLINE);
    assert.equal((await presenceOf(bob, alice.userId))?.state, PresenceState.ONLINE);
    assert.ok(bobWatch.about(alice.userId).every((p) => p.state === PresenceState.ONLINE));
    await mobile.close();
    await eventually("offline once the last device left", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE);
    await bobWatch.close();
  });

  test("the snapshot comes right after CaughtUp and shows contacts already online", async () => {
    const [alice, bob] = await contacts();
    const aliceStream = await watch(s.clients.session, alice);
    const bobWatch = await watch(s.clients.session, bob);
    const frames = bobWatch.order.filter((kind) => kind !== "heartbeat" && kind !== "receipt");
    assert.equal(frames[frames.indexOf("caughtUp") + 1], "presenceSnapshot");
    assert.deepEqual(
      bobWatch.snapshot?.map((p) => [p.userId, p.state]),
      [[alice.userId, PresenceState.ONLINE]],
    );
    // Alice's own stream never hears about Alice.
    assert.equal(aliceStream.about(alice.userId).length, 0);
    await Promise.all([aliceStream.close(), bobWatch.close()]);
  });
});

describe("large groups", () => {
  test("live presence goes through direct chats and groups up to the bound; GetPresence still answers co-members", async () => {
    const [u1, u2, u3, u4] = await Promise.all([0, 1, 2, 3].map(() => s.signIn(newPhone())));
    if (!u1 || !u2 || !u3 || !u4) throw new Error("sign-in failed");
    const group = (members: SignedIn[], name: string) =>
      s.clients.conversations.createGroup(
        { name, memberUserIds: members.map((m) => m.userId), clientRequestId: `g${members.length}` },
        { headers: bearer(u1.accessToken) },
      );
    await group([u2, u3, u4], "four, above the bound");
    await group([u2, u3], "three, at the bound");
    const [inSmall, onlyInLarge] = [await watch(s.clients.session, u2), await watch(s.clients.session, u4)];
    assert.deepEqual(
      inSmall.snapshot?.map((p) => p.userId).sort(),
      [u1.userId, u3.userId].sort(),
      "the snapshot lists contacts from the group at the bound",
    );
    assert.deepEqual(onlyInLarge.snapshot, [], "nobody shares a conversation within the bound with u4");

    const u1Stream = new Watcher(s.clients.session, u1);
    await eventually("u2 sees u1 online", () => inSmall.stateOf(u1.userId) === PresenceState.ONLINE);
    // The same signal would have reached u4 by now: one round trip on its stream settles it.
    await onlyInLarge.stream.ping();
    assert.equal(onlyInLarge.presence.length, 0, "no live presence through a group above the bound");
    assert.equal((await presenceOf(u4, u1.userId))?.state, PresenceState.ONLINE, "GetPresence answers a co-member");
    await Promise.all([u1Stream.close(), inSmall.close(), onlyInLarge.close()]);
  });
});

describe("privacy", () => {
  test("a stranger never receives presence and GetPresence hides it; EVERYONE opens GetPresence only", async () => {
    const [alice, bob] = await contacts();
    const stranger = await s.signIn(newPhone());
    const strangerWatch = await watch(s.clients.session, stranger);
    const bobWatch = await watch(s.clients.session, bob);
    const aliceStream = new Watcher(s.clients.session, alice);
    await eventually("bob sees alice", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE);
    assert.deepEqual(strangerWatch.snapshot, []);
    assert.equal((await presenceOf(stranger, alice.userId))?.state, PresenceState.UNSPECIFIED);
    // An id that names nobody answers exactly the same.
    assert.deepEqual(await presenceOf(stranger, "0190a0a0-0000-7000-8000-000000000000"), {
      ...(await presenceOf(stranger, alice.userId)),
      userId: "0190a0a0-0000-7000-8000-000000000000",
    });

    await setVisibility(alice, PresenceVisibility.EVERYONE);
    assert.equal((await presenceOf(stranger, alice.userId))?.state, PresenceState.ONLINE);
    await aliceStream.close();
    await eventually("bob sees alice offline", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE);
    await strangerWatch.stream.ping();
    assert.equal(strangerWatch.presence.length, 0, "pushes go only to people sharing a conversation");
    await Promise.all([strangerWatch.close(), bobWatch.close()]);
  });

  test("NOBODY hides the user from contacts at once, in snapshots and in GetPresence", async () => {
    const [alice, bob] = await contacts();
    const bobWatch = await watch(s.clients.session, bob);
    const aliceStream = new Watcher(s.clients.session, alice);
    await eventually("online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE);
    await setVisibility(alice, PresenceVisibility.NOBODY);
    await eventually("hidden", () => bobWatch.stateOf(alice.userId) === PresenceState.UNSPECIFIED);
    assert.equal(bobWatch.about(alice.userId).at(-1)?.lastSeenAt, undefined);
    assert.equal((await presenceOf(bob, alice.userId))?.state, PresenceState.UNSPECIFIED);
    // Her own view of herself is not hidden.
    assert.equal((await presenceOf(alice, alice.userId))?.state, PresenceState.ONLINE);
    const settings = await s.presence.getPresenceSettings({}, { headers: bearer(alice.accessToken) });
    assert.equal(settings.visibility, PresenceVisibility.NOBODY);

    const framesBefore = bobWatch.about(alice.userId).length;
    await aliceStream.close();
    const again = await watch(s.clients.session, alice);
    await again.close();
    // Bob's second device connects now (a second stream of the same device would replace the first).
    const bobPhone = await s.signIn(bob.phoneNumber, "phone");
    const bobAgain = await watch(s.clients.session, bobPhone);
    assert.deepEqual(bobAgain.snapshot, [], "a hidden contact is left out of the snapshot");
    await sleep(windowMs + 500);
    assert.equal(bobWatch.about(alice.userId).length, framesBefore, "no presence while hidden");

    await setVisibility(alice, PresenceVisibility.CONTACTS);
    for (const device of [bobWatch, bobAgain])
      await eventually("shown again", () => device.stateOf(alice.userId) === PresenceState.OFFLINE);
    await Promise.all([bobWatch.close(), bobAgain.close()]);
  });

  test("bad input: unspecified visibility, too many ids, malformed ids, no token", async () => {
    const alice = await s.signIn(newPhone());
    const auth = { headers: bearer(alice.accessToken) };
    assert.deepEqual(await refusal(s.presence.updatePresenceSettings({ visibility: PresenceVisibility.UNSPECIFIED }, auth)), {
      code: Code.InvalidArgument,
      reason: "UNKNOWN_VALUE",
    });
    assert.deepEqual(await refusal(s.presence.updatePresenceSettings({ visibility: 42 as PresenceVisibility }, auth)), {
      code: Code.InvalidArgument,
      reason: "UNKNOWN_VALUE",
    });
    const many = Array.from({ length: 101 }, () => alice.userId);
    assert.deepEqual(await refusal(s.presence.getPresence({ userIds: many }, auth)), {
      code: Code.InvalidArgument,
      reason: "TOO_MANY",
    });
    assert.deepEqual(await refusal(s.presence.getPresence({ userIds: ["nope"] }, auth)), {
      code: Code.InvalidArgument,
      reason: "MALFORMED_ID",
    });
    assert.deepEqual(await refusal(s.presence.getPresence({ userIds: [alice.userId] })), {
      code: Code.Unauthenticated,
      reason: "TOKEN_MISSING",
    });
  });
});

describe("flapping and vanishing", () => {
  test("a flapping contact costs each watcher about one frame per window, and the last state wins", async () => {
    const [alice, bob] = await contacts();
    const bobWatch = await watch(s.clients.session, bob);
    const coalescedBefore = await metric(s.process.metricsPort, "parley_presence_updates_coalesced_total");
    const transitionsBefore = await metric(s.process.metricsPort, "parley_presence_transitions_total");
    const started = Date.now();
    const flaps = 12;
    for (let i = 0; i < flaps; i++) {
      const flap = new Watcher(s.clients.session, alice);
      await flap.stream.caughtUp;
      await flap.close();
    }
    const elapsed = Date.now() - started;
    await eventually("offline in the end", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE, 10_000);
    await sleep(windowMs + 500);
    const frames = bobWatch.about(alice.userId);
    const transitions = (await metric(s.process.metricsPort, "parley_presence_transitions_total")) - transitionsBefore;
    process.stdout.write(`# ${transitions} transitions in ${elapsed} ms reached the watcher as ${frames.length} frames\n`);
    // Without coalescing bob would get a frame per transition.
    assert.ok(transitions >= flaps, `the flapping made ${transitions} transitions`);
    const allowed = Math.ceil((Date.now() - started) / windowMs) + 1;
    assert.ok(frames.length <= allowed, `${frames.length} frames in ${elapsed} ms of flapping (at most ${allowed})`);
    assert.ok(frames.length < transitions / 2);
    for (let i = 1; i < frames.length; i++) {
      const gap = (frames[i]?.at ?? 0) - (frames[i - 1]?.at ?? 0);
      assert.ok(gap >= windowMs - 100, `frames ${i - 1} and ${i} only ${gap} ms apart`);
    }
    assert.equal(frames.at(-1)?.state, PresenceState.OFFLINE);
    assert.ok((await metric(s.process.metricsPort, "parley_presence_updates_coalesced_total")) > coalescedBefore);
    await bobWatch.close();
  });

  test("a device that vanishes without closing turns offline after three silent heartbeat intervals", async () => {
    const [alice, bob] = await contacts();
    const bobWatch = await watch(s.clients.session, bob);
    const silent = silentDevice(s.clients.session, alice);
    await eventually("online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE);
    const online = bobWatch.about(alice.userId).at(-1)?.at ?? 0;
    await eventually(
      "offline after the heartbeat timeout",
      () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE,
      15_000,
    );
    const offlineAfter = (bobWatch.about(alice.userId).at(-1)?.at ?? 0) - online;
    // The gateway drops a stream silent for three intervals, checked once per interval.
    assert.ok(offlineAfter >= 3 * heartbeatMs - 300, `offline after only ${offlineAfter} ms`);
    assert.ok(offlineAfter <= 4 * heartbeatMs + 3_000, `offline only after ${offlineAfter} ms`);
    silent.stop();
    await silent.ended;
    await bobWatch.close();
  });
});
