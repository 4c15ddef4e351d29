// Server reflection: tools discover and call Parley's services with no local proto files.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import { startTestParley, type TestParley } from "./helpers/parley.ts";

const buf = join(import.meta.dirname, "..", "node_modules", ".bin", "buf");
const run = promisify(execFile);
// Reflection only: buf curl gets no proto files, so every name it prints came from the server.
const bufCurl = async (...args: string[]) =>
  (await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 })).stdout;

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

test("buf curl lists Parley's methods through reflection", async () => {
  const methods = (await bufCurl("--list-methods", t.parley.url)).split("\n");
  for (const method of [
    "parley.v1.MessagingService/SendMessage",
    "parley.v1.SessionService/Connect",
    "grpc.health.v1.Health/Check",
    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  ]) {
    assert.ok(methods.includes(method), `${method} in:\n${methods.join("\n")}`);
  }
});

test("buf curl calls health with the schema from reflection", async () => {
  const out = await bufCurl("-d", "{}", `${t.parley.url}/grpc.health.v1.Health/Check`);
  assert.match(out, /"status":\s*"SERVING"/);
});

/** Asks each question on one reflection stream and returns the answers in order. */
async function ask(questions: ServerReflectionRequest["messageRequest"][]): Promise<ServerReflectionResponse[]> {
  const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: t.parley.url }));
  const answers: ServerReflectionResponse[] = [];
  async function* requests() {
    for (const messageRequest of questions) yield { messageRequest };
  }
  for await (const res of client.serverReflectionInfo(requests())) answers.push(res);
  return answers;
}

test("file_containing_symbol returns descriptors that describe the service, with its imports", async () => {
  const [answer] = await ask([{ case: "fileContainingSymbol", value: "parley.v1.SessionService" }]);
  assert.equal(answer?.messageResponse.case, "fileDescriptorResponse");
  const files = answer.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
  assert.equal(files[0]?.name, "parley/v1/session.proto");
  // Every import resolves from the answer alone, so the answer is complete. The registry wants
  // imports before importers (a set in dependency order), so order the files that way first.
  const byName = new Map(files.map((f) => [f.name, f]));
  const ordered = new Set<FileDescriptorProto>();
  const visit = (name: string) => {
    const file = byName.get(name) ?? assert.fail(`import ${name} missing from the answer`);
    if (ordered.has(file)) return;
    file.dependency.forEach(visit);
    ordered.add(file);
  };
  for (const file of files) visit(file.name);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: [...ordered] }));
  const service = registry.getService("parley.v1.SessionService");
  assert.ok(service);
  const connect = service.methods.find((m) => m.name === "Connect");
  assert.equal(connect?.methodKind, "bidi_streaming");
  assert.equal(connect?.input.typeName, "parley.v1.ConnectRequest");
  assert.ok(registry.getFile("google/protobuf/timestamp.proto"));
});

test("unknown symbols and files answer NOT_FOUND without ending the stream", async () => {
  const answers = await ask([
    { case: "fileContainingSymbol", value: "parley.v1.NoSuchService" },
    { case: "fileByFilename", value: "parley/v1/nope.proto" },
    { case: "fileByFilename", value: "parley/v1/messaging.proto" },
    { case: "listServices", value: "" },
  ]);
  assert.equal(answers.length, 4);
  for (const answer of answers.slice(0, 2)) {
    assert.equal(answer.messageResponse.case, "errorResponse");
    assert.equal(answer.messageResponse.value.errorCode, 5);
  }
  assert.equal(answers[2]?.messageResponse.case, "fileDescriptorResponse");
  const listed = answers[3]?.messageResponse;
  assert.equal(listed?.case, "listServicesResponse");
  assert.deepEqual(listed.value.service.map((s) => s.name).sort(), [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "parley.v1.ConversationService",
    "parley.v1.IdentityService",
    "parley.v1.MessagingService",
    "parley.v1.PresenceService",
    "parley.v1.PushService",
    "parley.v1.SessionService",
  ]);
});
