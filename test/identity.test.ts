// Acceptance i: sign-in refuses wrong, expired and too-many codes; a refresh token used twice
// revokes that session; revoked devices lose their tokens and their streams.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { GoAwayReason } from "../gen/parley/v1/session_pb.js";
import { eventually, newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley({ env: { PARLEY_CODE_TTL_MS: "1500", PARLEY_ACCESS_TOKEN_TTL_MS: "60000" } });
});
after(() => t.stop());

async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ConnectError);
    return { code: error.code, reason: error.findDetails(ErrorDetailSchema)[0]?.reason };
  }
  assert.fail("the call succeeded");
}

async function requestCode(phoneNumber: string): Promise<string> {
  t.inbox.codes.delete(phoneNumber);
  await t.clients.identity.requestCode({ phoneNumber });
  await eventually("code sent", () => t.inbox.codes.has(phoneNumber));
  return t.inbox.codes.get(phoneNumber) ?? "";
}

const wrong = (code: string) => (code === "000000" ? "111111" : "000000");

describe("sign-in", () => {
  test("a wrong code is refused and the right one still works", async () => {
    const phoneNumber = newPhone();
    const code = await requestCode(phoneNumber);
    assert.deepEqual(await refusal(t.clients.identity.verifyCode({ phoneNumber, code: wrong(code), deviceName: "d" })), {
      code: Code.Unauthenticated,
      reason: "CODE_INVALID",
    });
    const ok = await t.clients.identity.verifyCode({ phoneNumber, code, deviceName: "d" });
    assert.equal(ok.newUser, true);
    assert.deepEqual(await refusal(t.clients.identity.verifyCode({ phoneNumber, code, deviceName: "d" })), {
      code: Code.Unauthenticated,
      reason: "CODE_INVALID",
    });
  });

  test("an expired code is refused", async () => {
    const phoneNumber = newPhone();
    const code = await requestCode(phoneNumber);
    await new Promise((r) => setTimeout(r, 1600)); // the server runs with a 1.5 s code lifetime
    assert.deepEqual(await refusal(t.clients.identity.verifyCode({ phoneNumber, code, deviceName: "d" })), {
      code: Code.Unauthenticated,
      reason: "CODE_EXPIRED",
    });
  });

  test("after five wrong codes even the right one is refused until a new code is requested", async () => {
    const phoneNumber = newPhone();
    const code = await requestCode(phoneNumber);
    for (let i = 0; i < 4; i++) {
      assert.equal(
        (await refusal(t.clients.identity.verifyCode({ phoneNumber, code: wrong(code), deviceName: "d" }))).reason,
        "CODE_INVALID",
      );
    }
    const fifth = await refusal(t.clients.identity.verifyCode({ phoneNumber, code: wrong(code), deviceName: "d" }));
    assert.deepEqual(fifth, { code: Code.ResourceExhausted, reason: "TOO_MANY_ATTEMPTS" });
    assert.deepEqual(await refusal(t.clients.identity.verifyCode({ phoneNumber, code, deviceName: "d" })), fifth);
    const fresh = await requestCode(phoneNumber);
    assert.ok((await t.clients.identity.verifyCode({ phoneNumber, code: fresh, deviceName: "d" })).userId);
  });

  test("codes per number are rate-limited with a retry hint", async () => {
    const phoneNumber = newPhone();
    for (let i = 0; i < 5; i++) await t.clients.identity.requestCode({ phoneNumber });
    try {
      await t.clients.identity.requestCode({ phoneNumber });
      assert.fail("sixth code was sent");
    } catch (error) {
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.ResourceExhausted);
      const detail = error.findDetails(ErrorDetailSchema)[0];
      assert.equal(detail?.reason, "TOO_MANY_CODES");
      assert.ok((detail?.retryAfterMs ?? 0) > 0);
    }
  });

  test("malformed phone numbers are INVALID_ARGUMENT", async () => {
    assert.deepEqual(await refusal(t.clients.identity.requestCode({ phoneNumber: "555-1234" })), {
      code: Code.InvalidArgument,
      reason: "MALFORMED_PHONE_NUMBER",
    });
  });
});

describe("sessions", () => {
  test("refresh rotates tokens; reusing a spent refresh token revokes the session and closes its stream", async () => {
    const user = await t.signIn(newPhone());
    const rotated = await t.clients.identity.refreshSession({ refreshToken: user.refreshToken });
    const next = rotated.tokens;
    assert.ok(next && next.refreshToken !== user.refreshToken && next.accessToken !== "");
    const listed = await t.clients.identity.listDevices({}, { headers: bearer(next.accessToken) });
    assert.deepEqual(
      listed.devices.map((d) => [d.deviceId, d.current]),
      [[user.deviceId, true]],
    );

    const stream = new DeviceStream(t.clients.session, { accessToken: next.accessToken });
    await stream.caughtUp;
    // Someone replays the first (spent) refresh token: the whole session is revoked.
    assert.deepEqual(await refusal(t.clients.identity.refreshSession({ refreshToken: user.refreshToken })), {
      code: Code.Unauthenticated,
      reason: "REFRESH_TOKEN_REUSED",
    });
    assert.equal(
      (await refusal(t.clients.identity.refreshSession({ refreshToken: next.refreshToken }))).reason,
      "DEVICE_REVOKED",
    );
    assert.equal(
      (await refusal(t.clients.identity.listDevices({}, { headers: bearer(next.accessToken) }))).reason,
      "DEVICE_REVOKED",
    );
    await stream.ended;
    assert.equal(stream.goAway?.reason, GoAwayReason.REVOKED);
  });

  test("a user revokes another of their devices; someone else's device is NOT_FOUND", async () => {
    const phone = newPhone();
    const laptop = await t.signIn(phone, "laptop");
    const phoneDevice = await t.signIn(phone, "phone");
    const stranger = await t.signIn(newPhone());
    assert.equal(
      (await refusal(t.clients.identity.revokeDevice({ deviceId: laptop.deviceId }, { headers: bearer(stranger.accessToken) })))
        .code,
      Code.NotFound,
    );
    await t.clients.identity.revokeDevice({ deviceId: laptop.deviceId }, { headers: bearer(phoneDevice.accessToken) });
    const left = await t.clients.identity.listDevices({}, { headers: bearer(phoneDevice.accessToken) });
    assert.deepEqual(
      left.devices.map((d) => d.name),
      ["phone"],
    );
    assert.equal(
      (await refusal(t.clients.identity.listDevices({}, { headers: bearer(laptop.accessToken) }))).reason,
      "DEVICE_REVOKED",
    );
  });

  test("lookup finds users by phone number and skips unknown numbers", async () => {
    const user = await t.signIn(newPhone());
    const found = await t.clients.identity.lookupUsers(
      { phoneNumbers: [user.phoneNumber, "+19999999999"] },
      { headers: bearer(user.accessToken) },
    );
    assert.deepEqual(
      found.users.map((u) => u.userId),
      [user.userId],
    );
  });
});
