// Two TLS sessions wired back to back in memory, the way the architecture says TLS is tested: whatever one side
// produces is fed to the other until neither has anything left to say. No sockets, no threads.
import Testing
@testable import VigilTLS

/// A client and a server session exchanging ciphertext in memory, recording what each received and how each failed.
final class SessionPump {
    let client: TLSSession
    let server: TLSSession
    var clientReceived: [UInt8] = []
    var serverReceived: [UInt8] = []
    private(set) var clientError: TLSError?
    private(set) var serverError: TLSError?

    init(client: TLSSession, server: TLSSession) {
        self.client = client
        self.server = server
    }

    /// A fresh pair from the two contexts; the client expects `serverName`.
    convenience init(
        clientContext: TLSContext,
        serverContext: TLSContext,
        serverName: String = "localhost"
    ) throws {
        self.init(
            client: try TLSSession(context: clientContext, serverName: serverName),
            server: try TLSSession(context: serverContext)
        )
    }

    /// A pair with a certificate minted for the call and default settings on both sides.
    static func make(
        certificate: SelfSignedCertificate? = nil,
        serverName: String = "localhost",
        configureClient: (inout TLSConfiguration) -> Void = { _ in },
        configureServer: (inout TLSConfiguration) -> Void = { _ in }
    ) throws -> SessionPump {
        let certificate = try certificate ?? SelfSignedCertificate()
        var serverConfiguration = TLSConfiguration.server(
            certificateChain: .bytes(certificate.certificatePEM),
            privateKey: .bytes(certificate.privateKeyPEM)
        )
        configureServer(&serverConfiguration)
        var clientConfiguration = TLSConfiguration.client(trustRoots: .certificates(.bytes(certificate.certificatePEM)))
        configureClient(&clientConfiguration)
        return try SessionPump(
            clientContext: TLSContext(configuration: clientConfiguration),
            serverContext: TLSContext(configuration: serverConfiguration),
            serverName: serverName
        )
    }

    /// Moves ciphertext both ways until neither side produces more. A side that fails stops reading, but its
    /// last words (an alert) are still delivered, so both errors can be inspected.
    func run(maximumRounds: Int = 1000) {
        for _ in 0..<maximumRounds {
            Self.read(self.client, into: &self.clientReceived, error: &self.clientError)
            let fromClient = Self.move(from: self.client, to: self.server, receiverError: &self.serverError)
            Self.read(self.server, into: &self.serverReceived, error: &self.serverError)
            let fromServer = Self.move(from: self.server, to: self.client, receiverError: &self.clientError)
            if !fromClient && !fromServer { return }
        }
        Issue.record("sessions were still talking after \(maximumRounds) rounds")
    }

    /// Runs the handshake and requires it to succeed on both sides.
    func handshake() throws {
        self.run()
        if let error = self.clientError ?? self.serverError { throw error }
        #expect(self.client.state == .established)
        #expect(self.server.state == .established)
    }

    private static func read(_ session: TLSSession, into buffer: inout [UInt8], error: inout TLSError?) {
        guard error == nil else { return }
        do {
            try session.readPlaintext(into: &buffer)
        } catch let failure as TLSError {
            error = failure
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    private static func move(from sender: TLSSession, to receiver: TLSSession, receiverError: inout TLSError?) -> Bool {
        let bytes = sender.takeCiphertext()
        guard !bytes.isEmpty, receiverError == nil else { return false }
        do {
            try receiver.feedCiphertext(bytes)
        } catch let failure as TLSError {
            receiverError = failure
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
        return true
    }
}
