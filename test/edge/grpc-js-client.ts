// A Parley client on @grpc/grpc-js (not Connect): generic grpc.Client calls with hand-written
// paths, messages encoded and decoded with the protobuf-es types from gen/. Used by
// test/edge/all-clients.test.ts as one of the four kinds of client through the edge.
import { create, type DescMessage, fromBinary, type MessageInitShape, type MessageShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CreateGroupRequestSchema, CreateGroupResponseSchema } from "../../gen/parley/v1/conversations_pb.js";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import {
  LookupUsersRequestSchema,
  LookupUsersResponseSchema,
  RequestCodeRequestSchema,
  RequestCodeResponseSchema,
  VerifyCodeRequestSchema,
  VerifyCodeResponseSchema,
} from "../../gen/parley/v1/identity_pb.js";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  ConnectResponseSchema,
  type SendResult,
} from "../../gen/parley/v1/session_pb.js";

const serializer =
  <T extends DescMessage>(schema: T) =>
  (message: MessageShape<T>): Buffer =>
    Buffer.from(toBinary(schema, message));
const deserializer =
  <T extends DescMessage>(schema: T) =>
  (bytes: Buffer): MessageShape<T> =>
    fromBinary(schema, bytes);

function metadataFor(accessToken?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (accessToken) metadata.set("authorization", `Bearer ${accessToken}`);
  return metadata;
}

/** One grpc-js channel (HTTP/2 over TLS) to `address` (host:port), trusting `caPem`. */
export class GrpcJsParley {
  readonly #client: grpc.Client;

  constructor(address: string, caPem: Buffer) {
    this.#client = new grpc.Client(address, grpc.credentials.createSsl(caPem));
  }

  /** A unary call on `path` (/package.Service/Method). */
  unary<I extends DescMessage, O extends DescMessage>(
    path: string,
    input: I,
    output: O,
    init: MessageInitShape<I>,
    accessToken?: string,
  ): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        path,
        serializer(input),
        deserializer(output),
        create(input, init),
        metadataFor(accessToken),
        { deadline: Date.now() + 10_000 },
        (error, response) => (error || !response ? reject(error ?? new Error(`${path}: no response`)) : resolve(response)),
      );
    });
  }

  requestCode(phoneNumber: string) {
    return this.unary("/parley.v1.IdentityService/RequestCode", RequestCodeRequestSchema, RequestCodeResponseSchema, {
      phoneNumber,
    });
  }

  verifyCode(phoneNumber: string, code: string, deviceName: string) {
    return this.unary("/parley.v1.IdentityService/VerifyCode", VerifyCodeRequestSchema, VerifyCodeResponseSchema, {
      phoneNumber,
      code,
      deviceName,
    });
  }

  lookupUsers(phoneNumbers: string[], accessToken: string) {
    return this.unary(
      "/parley.v1.IdentityService/LookupUsers",
      LookupUsersRequestSchema,
      LookupUsersResponseSchema,
      { phoneNumbers },
      accessToken,
    );
  }

  createGroup(name: string, memberUserIds: string[], clientRequestId: string, accessToken: string) {
    return this.unary(
      "/parley.v1.ConversationService/CreateGroup",
      CreateGroupRequestSchema,
      CreateGroupResponseSchema,
      { name, memberUserIds, clientRequestId },
      accessToken,
    );
  }

  /** Opens SessionService.Connect and sends Hello. */
  connect(accessToken: string): GrpcJsSession {
    const call = this.#client.makeBidiStreamRequest(
      "/parley.v1.SessionService/Connect",
      serializer(ConnectRequestSchema),
      deserializer(ConnectResponseSchema),
      metadataFor(accessToken),
    );
    return new GrpcJsSession(call);
  }

  close(): void {
    this.#client.close();
  }
}

/** A device stream on a grpc-js duplex call: acks every event, echoes heartbeats, correlates sends. */
export class GrpcJsSession {
  /** Every distinct event, in arrival order (deduplicated by conversation and sequence). */
  readonly events: ConversationEvent[] = [];
  readonly caughtUp: Promise<number>;
  /** Resolves with the call's final status (or the error that ended it). */
  readonly ended: Promise<grpc.StatusObject | Error>;
  readonly #held = new Map<string, bigint>();
  readonly #pending = new Map<string, (result: SendResult) => void>();
  readonly #call: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;

  constructor(call: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>) {
    this.#call = call;
    let caughtUp!: (replayed: number) => void;
    this.caughtUp = new Promise((resolve) => (caughtUp = resolve));
    this.ended = new Promise((resolve) => {
      call.on("status", (status: grpc.StatusObject) => resolve(status));
      call.on("error", (error: Error) => resolve(error));
    });
    call.on("data", (frame: ConnectResponse) => this.#handle(frame, caughtUp));
    this.#write({ case: "hello", value: {} });
  }

  /** Sends a text message and resolves with its SendResult. */
  send(conversationId: string, body: string, clientMessageId: string): Promise<SendResult> {
    const result = new Promise<SendResult>((resolve) => this.#pending.set(clientMessageId, resolve));
    this.#write({
      case: "send",
      value: { conversationId, clientMessageId, content: { kind: { case: "text", value: { body } } } },
    });
    return result;
  }

  /** Half-closes the request side. */
  close(): void {
    this.#call.end();
  }

  cancel(): void {
    this.#call.cancel();
  }

  #write(frame: MessageInitShape<typeof ConnectRequestSchema>["frame"]): void {
    this.#call.write(create(ConnectRequestSchema, { frame }));
  }

  #handle(response: ConnectResponse, caughtUp: (replayed: number) => void): void {
    const f = response.frame;
    switch (f.case) {
      case "event": {
        const event = f.value.event;
        if (event && event.sequence > (this.#held.get(event.conversationId) ?? 0n)) {
          this.#held.set(event.conversationId, event.sequence);
          this.events.push(event);
        }
        this.#write({ case: "ack", value: { throughDeliveryId: f.value.deliveryId } });
        break;
      }
      case "sendResult":
        this.#pending.get(f.value.clientMessageId)?.(f.value);
        this.#pending.delete(f.value.clientMessageId);
        break;
      case "caughtUp":
        caughtUp(f.value.replayed);
        break;
      case "heartbeat":
        if (!f.value.echo) this.#write({ case: "heartbeat", value: { nonce: f.value.nonce, echo: true } });
        break;
      case "goAway":
        this.#call.end();
        break;
    }
  }
}
