import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking loopback sockets for the hostile-peer tests (plain POSIX: no HTTP/2, no gRPC).
enum Loopback {
    /// A TCP connection to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw HarnessError("connect to 127.0.0.1:\(port) failed (errno \(errno))")
        }
        return fd
    }

    /// A listening socket on 127.0.0.1 with a free port.
    static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, Glibc.listen(fd, 16) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else {
            close(fd)
            throw HarnessError("cannot listen on 127.0.0.1")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }
}

/// A TCP proxy for one connection that forwards the client's first `limit` bytes to the server and then stops
/// forwarding (and reading) while keeping both connections open: the server sees a message that starts and never
/// ends. Everything from the server is forwarded.
final class StallingProxy: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let limit: Int
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var forwardedBytes = 0

    init(upstreamPort: Int, limit: Int) throws {
        (listener, port) = try Loopback.listen()
        self.limit = limit
        let thread = Thread { [self] in
            let client = accept(listener, nil, nil)
            guard client >= 0, let upstream = try? Loopback.connect(port: upstreamPort) else { return }
            lock.withLock { sockets += [client, upstream] }
            Thread { [self] in pump(from: upstream, to: client, limit: .max) }.start()
            pump(from: client, to: upstream, limit: self.limit)
        }
        thread.start()
    }

    /// Bytes forwarded from the client so far.
    var forwarded: Int { lock.withLock { forwardedBytes } }

    private func pump(from source: Int32, to destination: Int32, limit: Int) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var total = 0
        while total < limit {
            let want = min(buffer.count, limit - total)
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, want, 0) }
            if count <= 0 { return }
            Loopback.write(destination, Array(buffer[0..<count]))
            total += count
            if limit != .max { lock.withLock { forwardedBytes = total } }
        }
        // Stalled: hold both connections open, read nothing more.
    }

    /// Closes every socket.
    func close() {
        lock.withLock {
            for fd in sockets { Glibc.close(fd) }
            sockets = []
        }
        Glibc.close(listener)
    }
}
