// swift-tools-version: 6.1
// Vigil: threat monitoring and alert management over a gRPC-style binary RPC protocol.
// Zero SwiftPM package dependencies: the toolchain plus C system libraries (libssl-dev, libsqlite3-dev).
// The module map and the allowed import directions are in README.md ("Architecture").
import PackageDescription

let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigild", targets: ["vigild"]),
        .executable(name: "vigilctl", targets: ["vigilctl"]),
        .executable(name: "vigilbench", targets: ["vigilbench"]),
        .executable(name: "vigil-protogen", targets: ["vigil-protogen"]),
        .library(name: "VigilClient", targets: ["VigilClient"]),
    ],
    targets: [
        // C system libraries.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMalloc"),

        // Layers, bottom up.
        .target(name: "VigilWire", swiftSettings: settings),
        .target(name: "VigilPOSIX", dependencies: ["CMalloc"], swiftSettings: settings),
        // Async functions without isolation run on their caller's executor instead of hopping to the generic one:
        // each hop of a handler task looks its executor preference up under the task's status lock (9 % of the
        // server's CPU in a 128-byte sink). Code that must leave the caller's executor says `@concurrent`.
        .target(
            name: "VigilRPC", dependencies: ["VigilWire"],
            swiftSettings: settings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
        ),
        .target(name: "VigilTLS", dependencies: ["COpenSSL"], swiftSettings: settings),
        .target(
            name: "VigilNet",
            dependencies: ["VigilRPC", "VigilWire", "VigilPOSIX", "VigilTLS"],
            swiftSettings: settings
        ),
        .target(name: "VigilSQLite", dependencies: ["CSQLite"], swiftSettings: settings),
        .target(name: "VigilAPI", dependencies: ["VigilWire", "VigilRPC"], swiftSettings: settings),
        .target(
            name: "VigilService",
            dependencies: ["VigilAPI", "VigilWire", "VigilRPC", "VigilSQLite", "VigilTLS", "VigilPOSIX"],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "vigild",
            dependencies: ["VigilService", "VigilNet", "VigilRPC", "VigilTLS", "VigilAPI", "VigilPOSIX"],
            swiftSettings: settings
        ),

        // Code generation from Proto/: descriptor decoding and Swift/Markdown emitters, and the command around them.
        .target(name: "VigilCodegen", dependencies: ["VigilWire"], swiftSettings: settings),
        .executableTarget(name: "vigil-protogen", dependencies: ["VigilCodegen"], swiftSettings: settings),

        // Clients.
        .target(
            name: "VigilClient",
            dependencies: ["VigilAPI", "VigilWire", "VigilRPC", "VigilNet", "VigilTLS", "VigilPOSIX"],
            path: "Clients/VigilClient",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "vigilctl",
            dependencies: ["VigilClient", "VigilAPI", "VigilRPC", "VigilWire", "VigilPOSIX"],
            path: "Clients/vigilctl",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "vigilbench",
            dependencies: ["VigilClient", "VigilAPI", "VigilWire", "VigilPOSIX"],
            path: "Clients/vigilbench",
            swiftSettings: settings
        ),

        // Tests.
        .target(name: "VigilTesting", dependencies: ["VigilWire", "VigilAPI"], path: "Tests/VigilTesting", swiftSettings: settings),
        .testTarget(name: "VigilWireTests", dependencies: ["VigilWire", "VigilTesting"], swiftSettings: settings),
        .testTarget(
            name: "VigilAPITests",
            dependencies: ["VigilAPI", "VigilRPC", "VigilWire", "VigilCodegen", "VigilTesting"],
            swiftSettings: settings
        ),
        .testTarget(name: "VigilTLSTests", dependencies: ["VigilTLS", "VigilTesting"], swiftSettings: settings),
        .testTarget(name: "VigilSQLiteTests", dependencies: ["VigilSQLite", "VigilTesting"], swiftSettings: settings),
        .testTarget(name: "VigilPOSIXTests", dependencies: ["VigilPOSIX", "VigilTesting"], swiftSettings: settings),
        .testTarget(
            name: "VigilNetTests",
            dependencies: ["VigilNet", "VigilPOSIX", "VigilTLS", "VigilTesting"],
            swiftSettings: settings
        ),
        .testTarget(name: "VigilRPCTests", dependencies: ["VigilRPC", "VigilWire", "VigilTesting"], swiftSettings: settings),
        .testTarget(
            name: "VigilServiceTests",
            dependencies: ["VigilService", "VigilAPI", "VigilRPC", "VigilWire", "VigilSQLite", "VigilTLS", "VigilTesting"],
            swiftSettings: settings
        ),
        .testTarget(name: "VigilClientTests", dependencies: ["VigilClient", "VigilAPI", "VigilRPC", "VigilService", "VigilTLS", "VigilTesting"], swiftSettings: settings),
        .testTarget(
            name: "VigildTests",
            dependencies: ["vigild", "vigilctl", "vigilbench", "VigilClient", "VigilAPI", "VigilPOSIX", "VigilTLS", "VigilTesting"],
            swiftSettings: settings
        ),
        .testTarget(name: "ArchitectureTests", dependencies: ["VigilTesting"], swiftSettings: settings),

        // Reliability proof (docs/RELIABILITY.md): tools that attack a real vigild, and the CI-sized runs of them.
        .executableTarget(
            name: "vigil-crashtest",
            dependencies: ["VigilClient", "VigilAPI", "VigilRPC", "VigilWire", "VigilPOSIX", "VigilTesting"],
            path: "Tests/Tools/vigil-crashtest",
            swiftSettings: settings
        ),
        .executableTarget(
            name: "vigil-hostile",
            dependencies: ["VigilClient", "VigilAPI", "VigilRPC", "VigilWire", "VigilNet", "VigilTLS", "VigilPOSIX"],
            path: "Tests/Tools/vigil-hostile",
            swiftSettings: settings
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "vigild", "vigilbench", "vigil-crashtest", "vigil-hostile", "VigilClient", "VigilAPI", "VigilRPC", "VigilWire",
                "VigilPOSIX", "VigilTLS", "VigilTesting",
            ],
            swiftSettings: settings
        ),
    ]
)
