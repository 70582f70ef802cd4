public import CSecAgg
import SecureAggregation
import Synchronization

/// A server behind a `secagg_server` handle; its lock serialises calls on the handle.
final class ServerHandle: HandleObject {
    let server: Mutex<SecAggServer>

    init(_ server: SecAggServer) {
        self.server = Mutex(server)
    }

    static func lookup(_ handle: OpaquePointer?) throws(CError) -> ServerHandle {
        try HandleTable.lookup(handle, as: ServerHandle.self, name: "server")
    }

    /// Runs `body` on the server, mapping engine errors.
    func run<R: Sendable>(_ body: (inout SecAggServer) throws(SecAggError) -> R) throws(CError) -> R {
        try server.withLock { (server) throws(CError) in
            do throws(SecAggError) {
                return try body(&server)
            } catch {
                throw CError(error)
            }
        }
    }

    /// The result once the session completed.
    func result() throws(CError) -> AggregationResult {
        guard let result = server.withLock({ $0.result }) else {
            throw .state("the result is available once the session completed")
        }
        return result
    }
}

/// The messages of one server step, each distinct message once with its recipients (immutable).
final class OutboxHandle: HandleObject, @unchecked Sendable {
    let step: Int
    let round: ProtocolRound?
    private let bytes: [UnsafeMutableBufferPointer<UInt8>]
    private let recipients: [UnsafeMutableBufferPointer<UInt32>]

    init(_ step: ServerStep<EncodedOutbox>) {
        let outbox: EncodedOutbox
        switch step {
        case .nextRound(let next, let box):
            (self.step, round, outbox) = (SECAGG_STEP_NEXT_ROUND, next, box)
        case .completed(_, let box):
            (self.step, round, outbox) = (SECAGG_STEP_COMPLETED, nil, box)
        case .aborted(_, let box):
            (self.step, round, outbox) = (SECAGG_STEP_ABORTED, nil, box)
        }
        var messages: [(bytes: [UInt8], recipients: [UInt32])] = []
        if let broadcast = outbox.broadcast, !broadcast.recipients.isEmpty {
            messages.append((broadcast.bytes, broadcast.recipients.map(\.rawValue).sorted()))
        }
        for (recipient, bytes) in outbox.direct.sorted(by: { $0.recipient < $1.recipient }) {
            messages.append((bytes, [recipient.rawValue]))
        }
        bytes = messages.map { message in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, message.bytes.count))
            _ = buffer.initialize(fromContentsOf: message.bytes)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<message.bytes.count])
        }
        recipients = messages.map { message in
            let buffer = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(1, message.recipients.count))
            _ = buffer.initialize(fromContentsOf: message.recipients)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<message.recipients.count])
        }
    }

    deinit {
        for buffer in bytes { UnsafeMutableRawPointer(buffer.baseAddress)?.deallocate() }
        for buffer in recipients { UnsafeMutableRawPointer(buffer.baseAddress)?.deallocate() }
    }

    var count: Int { bytes.count }

    func message(_ index: Int) -> (UnsafeMutableBufferPointer<UInt8>, UnsafeMutableBufferPointer<UInt32>)? {
        guard index >= 0, index < bytes.count else { return nil }
        return (bytes[index], recipients[index])
    }

    static func lookup(_ handle: OpaquePointer?) throws(CError) -> OutboxHandle {
        try HandleTable.lookup(handle, as: OutboxHandle.self, name: "outbox")
    }
}

/// A server for a configuration.
@_cdecl("secagg_server_new")
public func secaggServerNew(_ config: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = nil
        let configuration = try ConfigurationHandle.lookup(config).configuration
        let server: SecAggServer
        do throws(SecAggError) {
            server = try SecAggServer(configuration: configuration)
        } catch {
            throw CError(error)
        }
        out.pointee = HandleTable.insert(ServerHandle(server))
    }
}

/// The unmasking worker threads.
@_cdecl("secagg_server_set_unmasking_threads")
public func secaggServerSetUnmaskingThreads(_ server: OpaquePointer?, _ threads: UInt32) -> Int32 {
    capture { () throws(CError) in
        guard threads >= 1, threads <= 4096 else { throw .argument("unmasking threads must be in 1...4096") }
        let handle = try ServerHandle.lookup(server)
        handle.server.withLock { $0.unmaskingConcurrency = Int(threads) }
    }
}

/// Accepts one client message from an authenticated sender.
@_cdecl("secagg_server_receive")
public func secaggServerReceive(
    _ server: OpaquePointer?, _ message: UnsafePointer<UInt8>?, _ length: Int, _ sender: UInt32
) -> Int32 {
    capture { () throws(CError) in
        let handle = try ServerHandle.lookup(server)
        let bytes = try Arguments.bytes(message, count: length, "message")
        try handle.run { (server) throws(SecAggError) in
            try server.receive(encoded: bytes, from: ClientID(sender))
        }
    }
}

private func storeStep(
    _ outbox: UnsafeMutablePointer<OpaquePointer?>?, _ server: OpaquePointer?,
    _ body: (inout SecAggServer) throws(SecAggError) -> ServerStep<EncodedOutbox>
) throws(CError) {
    let outbox = try Arguments.required(outbox, "outbox")
    outbox.pointee = nil
    let handle = try ServerHandle.lookup(server)
    let step = try handle.run(body)
    outbox.pointee = HandleTable.insert(OutboxHandle(step))
}

/// Closes the current round.
@_cdecl("secagg_server_advance")
public func secaggServerAdvance(_ server: OpaquePointer?, _ outbox: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capture { () throws(CError) in
        try storeStep(outbox, server) { (server) throws(SecAggError) in try server.advanceEncoded() }
    }
}

/// Stops the session.
@_cdecl("secagg_server_abort")
public func secaggServerAbort(_ server: OpaquePointer?, _ outbox: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capture { () throws(CError) in
        try storeStep(outbox, server) { (server) throws(SecAggError) in try server.abortEncoded() }
    }
}

/// Removes one client.
@_cdecl("secagg_server_abort_client")
public func secaggServerAbortClient(
    _ server: OpaquePointer?, _ client: UInt32, _ notice: UnsafeMutablePointer<secagg_buffer>?
) -> Int32 {
    capture { () throws(CError) in
        let notice = try Arguments.required(notice, "notice")
        notice.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ServerHandle.lookup(server)
        let bytes = try handle.run { (server) throws(SecAggError) in
            try server.abortClientEncoded(ClientID(client))
        }
        try Buffers.store(bytes, in: notice)
    }
}

/// The state and the round being collected.
@_cdecl("secagg_server_state")
public func secaggServerState(
    _ server: OpaquePointer?, _ state: UnsafeMutablePointer<UInt32>?, _ round: UnsafeMutablePointer<UInt32>?
) -> Int32 {
    capture { () throws(CError) in
        let state = try Arguments.required(state, "state")
        let handle = try ServerHandle.lookup(server)
        let (current, collecting) = handle.server.withLock { ($0.state, $0.currentRound) }
        switch current {
        case .collecting: state.pointee = UInt32(SECAGG_SERVER_COLLECTING)
        case .completed: state.pointee = UInt32(SECAGG_SERVER_COMPLETED)
        case .aborted: state.pointee = UInt32(SECAGG_SERVER_ABORTED)
        }
        round?.pointee = roundCode(collecting)
    }
}

/// Why the session aborted.
@_cdecl("secagg_server_abort_reason")
public func secaggServerAbortReason(_ server: OpaquePointer?, _ reason: UnsafeMutablePointer<secagg_buffer>?) -> Int32 {
    capture { () throws(CError) in
        let reason = try Arguments.required(reason, "reason")
        reason.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ServerHandle.lookup(server)
        guard case .aborted(let error) = handle.server.withLock({ $0.state }) else {
            throw .state("the session did not abort")
        }
        try Buffers.store(error.description, in: reason)
    }
}

/// The clients the current round still awaits.
@_cdecl("secagg_server_awaited_clients")
public func secaggServerAwaitedClients(
    _ server: OpaquePointer?, _ clients: UnsafeMutablePointer<UInt32>?, _ capacity: Int,
    _ count: UnsafeMutablePointer<Int>?
) -> Int32 {
    capture { () throws(CError) in
        let handle = try ServerHandle.lookup(server)
        let awaited = handle.server.withLock { $0.awaitedClients.map(\.rawValue) }
        try Arguments.writeList(awaited, to: clients, capacity: capacity, count: count)
    }
}

/// Whether every awaited client answered.
@_cdecl("secagg_server_is_round_complete")
public func secaggServerIsRoundComplete(_ server: OpaquePointer?, _ complete: UnsafeMutablePointer<UInt32>?) -> Int32 {
    capture { () throws(CError) in
        let complete = try Arguments.required(complete, "complete")
        let handle = try ServerHandle.lookup(server)
        complete.pointee = handle.server.withLock { $0.isRoundComplete } ? 1 : 0
    }
}

/// The session id once round 0 closed.
@_cdecl("secagg_server_session_id")
public func secaggServerSessionId(_ server: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?, _ length: Int)
    -> Int32
{
    capture { () throws(CError) in
        let handle = try ServerHandle.lookup(server)
        guard let id = handle.server.withLock({ $0.sessionID }) else {
            throw .state("the session id is fixed when round 0 closes")
        }
        try Arguments.write(id.bytes, to: out, length: length, "out")
    }
}

/// The included clients.
@_cdecl("secagg_server_result_included")
public func secaggServerResultIncluded(
    _ server: OpaquePointer?, _ clients: UnsafeMutablePointer<UInt32>?, _ capacity: Int,
    _ count: UnsafeMutablePointer<Int>?
) -> Int32 {
    capture { () throws(CError) in
        let result = try ServerHandle.lookup(server).result()
        try Arguments.writeList(result.includedClients.map(\.rawValue), to: clients, capacity: capacity, count: count)
    }
}

/// The sum of one input.
@_cdecl("secagg_server_result_vector")
public func secaggServerResultVector(
    _ server: OpaquePointer?, _ inputIndex: Int, _ elements: UnsafeMutablePointer<UInt64>?, _ length: Int
) -> Int32 {
    capture { () throws(CError) in
        let result = try ServerHandle.lookup(server).result()
        guard inputIndex >= 0, inputIndex < result.vectors.count else {
            throw .argument("input index \(inputIndex) outside 0..<\(result.vectors.count)")
        }
        let vector = result.vectors[inputIndex]
        guard length == vector.count else {
            throw .argument("input \(inputIndex) has \(vector.count) elements, the output holds \(length)")
        }
        guard !vector.isEmpty else { return }
        let elements = try Arguments.required(elements, "elements")
        vector.withUnsafeBufferPointer {
            elements.update(from: $0.baseAddress.unsafelyUnwrapped, count: $0.count)
        }
    }
}

/// The number of flagged clients.
@_cdecl("secagg_server_result_flagged_count")
public func secaggServerResultFlaggedCount(_ server: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    capture { () throws(CError) in
        let count = try Arguments.required(count, "count")
        count.pointee = try ServerHandle.lookup(server).result().flaggedClients.count
    }
}

/// One flagged client.
@_cdecl("secagg_server_result_flagged")
public func secaggServerResultFlagged(
    _ server: OpaquePointer?, _ index: Int, _ client: UnsafeMutablePointer<UInt32>?,
    _ description: UnsafeMutablePointer<secagg_buffer>?
) -> Int32 {
    capture { () throws(CError) in
        let client = try Arguments.required(client, "client")
        let description = try Arguments.required(description, "description")
        description.pointee = secagg_buffer(data: nil, length: 0)
        let flagged = try ServerHandle.lookup(server).result().flaggedClients
        guard index >= 0, index < flagged.count else {
            throw .argument("flagged index \(index) outside 0..<\(flagged.count)")
        }
        client.pointee = flagged[index].client.rawValue
        try Buffers.store(flagged[index].description, in: description)
    }
}

/// Releases a server and its secrets.
@_cdecl("secagg_server_free")
public func secaggServerFree(_ server: OpaquePointer?) {
    HandleTable.remove(server, as: ServerHandle.self)
}

/// The step and round of an outbox.
@_cdecl("secagg_outbox_step")
public func secaggOutboxStep(
    _ outbox: OpaquePointer?, _ step: UnsafeMutablePointer<UInt32>?, _ round: UnsafeMutablePointer<UInt32>?
) -> Int32 {
    capture { () throws(CError) in
        let step = try Arguments.required(step, "step")
        let handle = try OutboxHandle.lookup(outbox)
        step.pointee = UInt32(handle.step)
        round?.pointee = roundCode(handle.round)
    }
}

/// The number of distinct messages of an outbox.
@_cdecl("secagg_outbox_message_count")
public func secaggOutboxMessageCount(_ outbox: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    capture { () throws(CError) in
        let count = try Arguments.required(count, "count")
        count.pointee = try OutboxHandle.lookup(outbox).count
    }
}

/// One message of an outbox and its recipients.
@_cdecl("secagg_outbox_message")
public func secaggOutboxMessage(
    _ outbox: OpaquePointer?, _ index: Int, _ bytes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ length: UnsafeMutablePointer<Int>?, _ recipients: UnsafeMutablePointer<UnsafePointer<UInt32>?>?,
    _ recipientCount: UnsafeMutablePointer<Int>?
) -> Int32 {
    capture { () throws(CError) in
        let bytes = try Arguments.required(bytes, "bytes")
        let length = try Arguments.required(length, "length")
        let recipients = try Arguments.required(recipients, "recipients")
        let recipientCount = try Arguments.required(recipientCount, "recipient_count")
        let handle = try OutboxHandle.lookup(outbox)
        guard let (message, to) = handle.message(index) else {
            throw .argument("message index \(index) outside 0..<\(handle.count)")
        }
        bytes.pointee = UnsafePointer(message.baseAddress)
        length.pointee = message.count
        recipients.pointee = UnsafePointer(to.baseAddress)
        recipientCount.pointee = to.count
    }
}

/// Releases an outbox.
@_cdecl("secagg_outbox_free")
public func secaggOutboxFree(_ outbox: OpaquePointer?) {
    HandleTable.remove(outbox, as: OutboxHandle.self)
}
