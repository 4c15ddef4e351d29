// Every service a Parley process can serve, with the generated file that declares it, so that a
// process that knows only its service names (services/runtime) can serve reflection for them.
import type { DescFile } from "@bufbuild/protobuf";
import { file_grpc_health_v1_health, Health } from "../../gen/grpc/health/v1/health_pb.js";
import { file_grpc_reflection_v1_reflection, ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { file_parley_internal_v1_gateway } from "../../gen/parley/internal/v1/gateway_pb.js";
import { file_parley_internal_v1_messaging_relay } from "../../gen/parley/internal/v1/messaging_relay_pb.js";
import { file_parley_v1_conversations } from "../../gen/parley/v1/conversations_pb.js";
import { file_parley_v1_errors } from "../../gen/parley/v1/errors_pb.js";
import { file_parley_v1_identity } from "../../gen/parley/v1/identity_pb.js";
import { file_parley_v1_messaging } from "../../gen/parley/v1/messaging_pb.js";
import { file_parley_v1_presence } from "../../gen/parley/v1/presence_pb.js";
import { file_parley_v1_push } from "../../gen/parley/v1/push_pb.js";
import { file_parley_v1_session } from "../../gen/parley/v1/session_pb.js";
import { createReflectionService } from "./service.ts";

const serviceFiles = new Map<string, DescFile>(
  [
    file_parley_v1_identity,
    file_parley_v1_conversations,
    file_parley_v1_messaging,
    file_parley_v1_session,
    file_parley_v1_presence,
    file_parley_v1_push,
    file_parley_internal_v1_gateway,
    file_parley_internal_v1_messaging_relay,
    file_grpc_health_v1_health,
    file_grpc_reflection_v1_reflection,
  ].flatMap((file) => file.services.map((s) => [s.typeName, file] as const)),
);

/**
 * Reflection for a process serving `serviceNames` plus health and reflection themselves (which
 * every process serves). An unknown name is a wiring bug, so it fails at start.
 */
export function reflectionFor(serviceNames: string[]) {
  const names = [...new Set([...serviceNames, Health.typeName, ServerReflection.typeName])];
  const files = names.map((name) => {
    const file = serviceFiles.get(name);
    if (!file) throw new Error(`reflection: no generated file declares service "${name}"`);
    return file;
  });
  // ErrorDetail travels in every service's error details: describe it wherever errors can occur.
  return createReflectionService([...files, file_parley_v1_errors], names);
}
