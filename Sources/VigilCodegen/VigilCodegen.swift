// VigilCodegen: decodes protoc's FileDescriptorSet with VigilWire and emits Swift types and docs/API.md.
