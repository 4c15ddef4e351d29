// The standard gRPC server reflection service (grpc.reflection.v1), so that grpcurl, buf curl and
// other tools list and call Parley's services without local proto files. It answers from the
// descriptors protobuf-es keeps for every generated file (DescFile.proto).
import type { DescEnum, DescExtension, DescFile, DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import type {
  ServerReflection,
  ServerReflectionRequest,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";

// Plain objects are enough: Connect completes them into messages when it serializes.
type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

/** Serves reflection over `files` (and everything they import) for the services in `serviceNames`. */
export function createReflectionService(files: DescFile[], serviceNames: string[]): ServiceImpl<typeof ServerReflection> {
  const index = indexFiles(files);
  const services = serviceNames.map((name) => ({ name }));

  const answer = (req: ServerReflectionRequest): Answer => {
    const q = req.messageRequest;
    switch (q.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: services } };
      case "fileByFilename":
        return fileAnswer(index.byName.get(q.value), `file "${q.value}"`);
      case "fileContainingSymbol":
        return fileAnswer(index.bySymbol.get(q.value), `symbol "${q.value}"`);
      case "fileContainingExtension": {
        const ext = index.extensions.get(q.value.containingType)?.find((e) => e.number === q.value.extensionNumber);
        return fileAnswer(ext?.file, `extension ${q.value.extensionNumber} of "${q.value.containingType}"`);
      }
      case "allExtensionNumbersOfType": {
        // Only messages we describe have an answer; an unknown name is NOT_FOUND, as for symbols.
        if (!index.messages.has(q.value)) return notFound(`message "${q.value}"`);
        const numbers = (index.extensions.get(q.value) ?? []).map((e) => e.number);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: q.value, extensionNumber: numbers } };
      }
      default:
        return error(Code.InvalidArgument, "the request sets no question");
    }
  };

  return {
    async *serverReflectionInfo(requests) {
      // One answer per question, in order: clients match them by position.
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
      }
    },
  };
}

/** The file and every file it imports, transitively, each once; the file asked for comes first. */
function fileAnswer(file: DescFile | undefined, what: string): Answer {
  if (!file) return notFound(what);
  const seen = new Set<DescFile>();
  const visit = (f: DescFile) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const dep of f.dependencies) visit(dep);
  };
  visit(file);
  const fileDescriptorProto = [...seen].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
}

const notFound = (what: string): Answer => error(Code.NotFound, `${what} is not known to this server`);

// Errors travel inside the stream (error_response) so that one bad question does not end it.
function error(code: Code, message: string): Answer {
  return { case: "errorResponse", value: { errorCode: code, errorMessage: message } };
}

interface FileIndex {
  byName: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
  messages: Set<string>;
  /** Extensions by the fully qualified name of the message they extend. */
  extensions: Map<string, DescExtension[]>;
}

function indexFiles(files: DescFile[]): FileIndex {
  const index: FileIndex = { byName: new Map(), bySymbol: new Map(), messages: new Set(), extensions: new Map() };
  const addExtension = (ext: DescExtension) => {
    index.bySymbol.set(ext.typeName, ext.file);
    const list = index.extensions.get(ext.extendee.typeName) ?? [];
    list.push(ext);
    index.extensions.set(ext.extendee.typeName, list);
  };
  const addEnum = (e: DescEnum) => {
    index.bySymbol.set(e.typeName, e.file);
  };
  const addMessage = (m: DescMessage) => {
    index.bySymbol.set(m.typeName, m.file);
    index.messages.add(m.typeName);
    m.nestedMessages.forEach(addMessage);
    m.nestedEnums.forEach(addEnum);
    m.nestedExtensions.forEach(addExtension);
  };
  const addFile = (file: DescFile) => {
    if (index.byName.has(file.proto.name)) return;
    index.byName.set(file.proto.name, file);
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    file.extensions.forEach(addExtension);
    for (const service of file.services) {
      index.bySymbol.set(service.typeName, file);
      for (const method of service.methods) index.bySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    file.dependencies.forEach(addFile);
  };
  files.forEach(addFile);
  return index;
}
