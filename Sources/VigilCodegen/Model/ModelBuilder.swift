// Turns descriptors into the emitters' model: resolves type names, converts names to Swift, attaches comments,
// and refuses what the generated code could not represent faithfully (proto2, groups, bool map keys, clashes).
import VigilWire

struct ModelBuilder {
    /// Paths of SourceCodeInfo, as numbered in descriptor.proto.
    private enum PathTag {
        static let fileMessage: Int32 = 4
        static let fileEnum: Int32 = 5
        static let fileService: Int32 = 6
        static let messageField: Int32 = 2
        static let messageNested: Int32 = 3
        static let messageEnum: Int32 = 4
        static let messageOneof: Int32 = 8
        static let enumValue: Int32 = 2
        static let serviceMethod: Int32 = 2
    }

    /// Names every generated message already uses for its own members.
    private static let reservedMembers: Set<String> = ["unknownFields", "protoMessageName", "wireFields"]

    let schema: Schema

    func file(_ name: String) throws(CodegenError) -> FileModel {
        guard let file = self.schema.files[name] else {
            throw CodegenError(.unknownFile, "\(name) is not in the descriptor set (was it passed to protoc?)")
        }
        guard file.syntax == "proto3" else {
            throw CodegenError(.unsupported, "\(name): only proto3 files are supported (syntax is '\(file.syntax)')")
        }
        let comments = Comments(file)
        let prefix = file.package.isEmpty ? "" : file.package + "."
        var messages: [MessageModel] = []
        for (index, message) in file.messageType.enumerated() {
            let ref = TypeRef(fullName: prefix + message.name, swiftName: message.name)
            messages.append(try self.message(message, ref: ref, path: [PathTag.fileMessage, Int32(index)], comments))
        }
        var enums: [EnumModel] = []
        for (index, enumeration) in file.enumType.enumerated() {
            let ref = TypeRef(fullName: prefix + enumeration.name, swiftName: enumeration.name)
            enums.append(try self.enumeration(enumeration, ref: ref, path: [PathTag.fileEnum, Int32(index)], comments))
        }
        var services: [ServiceModel] = []
        for (index, service) in file.service.enumerated() {
            services.append(
                try self.service(service, package: file.package, path: [PathTag.fileService, Int32(index)], comments)
            )
        }
        return FileModel(
            name: name,
            package: file.package,
            messages: messages,
            enums: enums,
            services: services
        )
    }

    // MARK: Messages

    private func message(
        _ message: DescriptorProto,
        ref: TypeRef,
        path: [Int32],
        _ comments: Comments
    ) throws(CodegenError) -> MessageModel {
        var nestedMessages: [MessageModel] = []
        for (index, nested) in message.nestedType.enumerated() where !nested.isMapEntry {
            let nestedRef = TypeRef(fullName: ref.fullName + "." + nested.name, swiftName: ref.swiftName + "." + nested.name)
            nestedMessages.append(
                try self.message(nested, ref: nestedRef, path: path + [PathTag.messageNested, Int32(index)], comments)
            )
        }
        var nestedEnums: [EnumModel] = []
        for (index, enumeration) in message.enumType.enumerated() {
            let enumRef = TypeRef(
                fullName: ref.fullName + "." + enumeration.name,
                swiftName: ref.swiftName + "." + enumeration.name
            )
            nestedEnums.append(
                try self.enumeration(enumeration, ref: enumRef, path: path + [PathTag.messageEnum, Int32(index)], comments)
            )
        }

        // Real oneofs only: each proto3 `optional` field sits alone in a synthetic oneof, which is skipped.
        var oneofIndexes: [Int32: Int] = [:]
        var oneofTypeNames: Set<String> = Set(message.nestedType.map(\.name) + message.enumType.map(\.name))
        oneofTypeNames.insert(message.name)
        var oneofHeads: [(protoName: String, typeName: String, comment: String?)] = []
        for (index, oneof) in message.oneofDecl.enumerated() {
            let isSynthetic = message.field.allSatisfy { $0.oneofIndex != Int32(index) || $0.proto3Optional }
            if isSynthetic { continue }
            var typeName = Naming.upperCamelCase(oneof.name)
            if oneofTypeNames.contains(typeName) { typeName += "Case" }
            guard !oneofTypeNames.contains(typeName) else {
                throw CodegenError(.nameClash, "\(ref.fullName): oneof \(oneof.name) clashes with \(typeName)")
            }
            oneofTypeNames.insert(typeName)
            oneofIndexes[Int32(index)] = oneofHeads.count
            oneofHeads.append((oneof.name, typeName, comments[path + [PathTag.messageOneof, Int32(index)]]))
        }

        var fields: [FieldModel] = []
        for (index, field) in message.field.enumerated() {
            let fieldPath = path + [PathTag.messageField, Int32(index)]
            fields.append(try self.field(field, in: ref, oneofIndexes: oneofIndexes, comment: comments[fieldPath]))
        }
        let oneofs = oneofHeads.enumerated().map { index, head in
            OneofModel(
                protoName: head.protoName,
                typeName: head.typeName,
                propertyName: Naming.escaped(Naming.lowerCamelCase(head.protoName)),
                comment: head.comment,
                members: fields.filter { $0.cardinality == .oneofMember(index) }
            )
        }

        var members = Self.reservedMembers
        let properties = fields.filter { !$0.isOneofMember }.map(\.swiftName) + oneofs.map(\.propertyName)
        for property in properties {
            guard members.insert(property).inserted else {
                throw CodegenError(.nameClash, "\(ref.fullName): two members would be named \(property) in Swift")
            }
        }
        return MessageModel(
            ref: ref,
            localName: message.name,
            comment: comments[path],
            fields: fields,
            oneofs: oneofs,
            messages: nestedMessages,
            enums: nestedEnums
        )
    }

    private func field(
        _ field: FieldDescriptorProto,
        in message: TypeRef,
        oneofIndexes: [Int32: Int],
        comment: String?
    ) throws(CodegenError) -> FieldModel {
        let user = "\(message.fullName).\(field.name)"
        guard let type = field.fieldType, type != .group else {
            throw CodegenError(.unsupported, "\(user): field type \(field.type) is not supported")
        }
        guard field.label != FieldDescriptorProto.labelRequired else {
            throw CodegenError(.unsupported, "\(user): required fields are proto2-only")
        }
        let value: ValueType
        var cardinality: Cardinality
        switch type {
        case .message:
            let (ref, descriptor) = try self.schema.message(field.typeName, usedBy: user)
            if descriptor.isMapEntry && field.isRepeated {
                guard
                    let key = descriptor.field.first(where: { $0.number == 1 }),
                    let keyType = key.fieldType,
                    let valueField = descriptor.field.first(where: { $0.number == 2 })
                else {
                    throw CodegenError(.unsupported, "\(user): map entry \(ref.fullName) lacks a key or value")
                }
                guard keyType.isSupportedMapKey else {
                    throw CodegenError(.unsupported, "\(user): map keys of type \(keyType.protoName) are not supported")
                }
                value = try self.valueType(valueField, usedBy: user)
                cardinality = .map(key: keyType, entry: ref.fullName)
            } else {
                value = .message(ref)
                cardinality = .optional
            }
        default:
            value = try self.valueType(field, usedBy: user)
            cardinality = .singular
        }
        let label: WireFieldDescriptor.Label
        if field.isRepeated {
            label = .repeated
            if case .map = cardinality {} else { cardinality = .repeated }
        } else if field.proto3Optional {
            label = .optional
            cardinality = .optional
        } else {
            label = .singular
            if let index = field.oneofIndex, let oneof = oneofIndexes[index] { cardinality = .oneofMember(oneof) }
        }
        return FieldModel(
            protoName: field.name,
            number: Int(field.number),
            swiftName: Naming.escaped(Naming.lowerCamelCase(field.name)),
            value: value,
            cardinality: cardinality,
            label: label,
            comment: comment
        )
    }

    /// The type of one value of `field` (ignoring its label).
    private func valueType(_ field: FieldDescriptorProto, usedBy user: String) throws(CodegenError) -> ValueType {
        switch field.fieldType {
        case .message?:
            return .message(try self.schema.message(field.typeName, usedBy: user).0)
        case .enumeration?:
            let entry = try self.schema.entry(field.typeName, usedBy: user)
            guard case .enumeration(let descriptor) = entry.kind else {
                throw CodegenError(.unresolvedType, "\(user): \(field.typeName) is a message, an enum was expected")
            }
            let zero = descriptor.value.first { $0.number == 0 }
            return .enumeration(
                entry.ref,
                numbers: descriptor.value.map(\.number),
                zeroCase: zero.map { Naming.escaped(Naming.enumCaseName($0.name, enumName: descriptor.name)) }
            )
        case let type?:
            return .scalar(type)
        case nil:
            throw CodegenError(.unsupported, "\(user): field type \(field.type) is not supported")
        }
    }

    // MARK: Enums and services

    private func enumeration(
        _ enumeration: EnumDescriptorProto,
        ref: TypeRef,
        path: [Int32],
        _ comments: Comments
    ) throws(CodegenError) -> EnumModel {
        guard enumeration.value.first?.number == 0 else {
            throw CodegenError(.unsupported, "\(ref.fullName): the first value of a proto3 enum must be 0")
        }
        var caseNames: Set<String> = ["unrecognized"]
        var values: [EnumValueModel] = []
        for (index, value) in enumeration.value.enumerated() {
            let caseName = Naming.escaped(Naming.enumCaseName(value.name, enumName: enumeration.name))
            guard caseNames.insert(caseName).inserted else {
                throw CodegenError(.nameClash, "\(ref.fullName).\(value.name): Swift case \(caseName) is taken")
            }
            values.append(
                EnumValueModel(
                    protoName: value.name,
                    number: value.number,
                    caseName: caseName,
                    comment: comments[path + [PathTag.enumValue, Int32(index)]]
                )
            )
        }
        let localName = String(ref.swiftName.split(separator: ".").last ?? Substring(ref.swiftName))
        return EnumModel(ref: ref, localName: localName, comment: comments[path], values: values)
    }

    private func service(
        _ service: ServiceDescriptorProto,
        package: String,
        path: [Int32],
        _ comments: Comments
    ) throws(CodegenError) -> ServiceModel {
        let fullName = package.isEmpty ? service.name : package + "." + service.name
        var methods: [MethodModel] = []
        for (index, method) in service.method.enumerated() {
            let user = "\(fullName).\(method.name)"
            methods.append(
                MethodModel(
                    name: method.name,
                    swiftName: Naming.escaped(Naming.lowerCamelCase(method.name)),
                    input: try self.schema.message(method.inputType, usedBy: user).0,
                    output: try self.schema.message(method.outputType, usedBy: user).0,
                    clientStreaming: method.clientStreaming,
                    serverStreaming: method.serverStreaming,
                    comment: comments[path + [PathTag.serviceMethod, Int32(index)]]
                )
            )
        }
        return ServiceModel(
            name: service.name,
            fullName: fullName,
            swiftName: service.name + "Methods",
            comment: comments[path],
            methods: methods
        )
    }
}
