// The web client (clients/web, built by scripts/edge/web.sh) in headless Chromium against Parley
// behind the real Envoy edge: gRPC-Web with CORS for the page's origin, and the WebSocket stream.
// Chromium trusts the dev CA through a throwaway NSS database (certutil) under a temporary HOME,
// so TLS is verified as in a real browser (no --ignore-certificate-errors).
// Run: bash scripts/edge/web.sh && npx node --test test/edge/web.test.ts
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { eventually, newPhone } from "../helpers/parley.ts";
import type { ParleyProcess } from "../helpers/process.ts";
import { type Browser, type Page, shots, startWebStack, type WebStack } from "./browser.ts";
import type { Envoy } from "./envoy.ts";

const TIMEOUT = 15_000;

let parley: ParleyProcess;
let edge: Envoy;
let siteOrigin: string;
let browser: Browser;

let stack: WebStack | undefined;
before(async () => {
  stack = await startWebStack("web");
  ({ parley, edge, siteOrigin, browser } = stack);
});

after(() => stack?.stop());

async function openPage(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[${name} page error] ${error}`));
  await page.goto(`${siteOrigin}/?edge=${encodeURIComponent(edge.url)}`);
  return page;
}

/** Types the phone number, reads the code from Parley's dev-mode log, types it, waits for the live stream. */
async function signIn(page: Page, phone: string, name: string): Promise<void> {
  await page.locator("#request-code input[name=phone]").fill(phone);
  await page.locator("#request-code input[name=name]").fill(name);
  await page.locator("#request-code button").click();
  await eventually(`a sign-in code for ${name}`, () => parley.codes.has(phone), TIMEOUT);
  await page.locator("#verify-code input[name=code]").fill(parley.codes.get(phone) ?? "");
  await page.locator("#verify-code button").click();
  await page.locator("#connection[data-state=live]").waitFor({ timeout: TIMEOUT });
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

test("two browsers chat through the edge: live messages, delivered then read ticks", async () => {
  const [alice, bob] = await Promise.all([openPage("alice"), openPage("bob")]);
  const alicePhone = newPhone();
  const bobPhone = newPhone();
  await signIn(alice, alicePhone, "Alice");
  await signIn(bob, bobPhone, "Bob");
  await shot(bob, "1-bob-signed-in");

  // Alice opens a direct chat by Bob's number (LookupUsers + GetOrCreateDirect) and sends.
  await alice.locator("#new-chat input[name=phone]").fill(bobPhone);
  await alice.locator("#new-chat button").click();
  await alice.locator("#chat-title", { hasText: "Bob" }).waitFor({ timeout: TIMEOUT });
  await alice.locator("#composer input[name=text]").fill("Hi Bob, it's Alice");
  await alice.locator("#composer button").click();

  // Bob's page gets it live on the stream (the new conversation appears with the message), and his
  // ack makes it delivered for Alice; he has not opened the chat, so it is not read yet.
  await bob.locator("#conversations li", { hasText: "Hi Bob, it's Alice" }).waitFor({ timeout: TIMEOUT });
  await alice.locator('#messages li.own[data-status="delivered"]', { hasText: "Hi Bob" }).waitFor({ timeout: TIMEOUT });
  await shot(bob, "2-bob-new-message-in-list");
  await shot(alice, "3-alice-delivered");

  // Bob opens the chat (GetConversation + ListMessages history) and so marks it read.
  await bob.locator("#conversations li", { hasText: "Alice" }).click();
  await bob.locator("#messages li", { hasText: "Hi Bob, it's Alice" }).waitFor({ timeout: TIMEOUT });
  await alice.locator('#messages li.own[data-status="read"]', { hasText: "Hi Bob" }).waitFor({ timeout: TIMEOUT });
  await shot(alice, "4-alice-read");

  // Bob replies; Alice, with the chat open, sees it live and reads it at once.
  await bob.locator("#composer input[name=text]").fill("Hello Alice!");
  await bob.locator("#composer button").click();
  await alice.locator("#messages li:not(.own)", { hasText: "Hello Alice!" }).waitFor({ timeout: TIMEOUT });
  await bob.locator('#messages li.own[data-status="read"]', { hasText: "Hello Alice!" }).waitFor({ timeout: TIMEOUT });
  await shot(alice, "5-alice-sees-reply");
  await shot(bob, "6-bob-reply-read");

  assert.equal(await alice.locator("#messages li.message").count(), 2);
  assert.equal(await bob.locator("#messages li.message").count(), 2);
  assert.equal(await alice.locator("#error").textContent(), "");
  assert.equal(await bob.locator("#error").textContent(), "");
});
