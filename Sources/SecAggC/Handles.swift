import Synchronization

/// An object behind a handle of the C ABI.
protocol HandleObject: AnyObject, Sendable {}

/// The live handles of the C ABI, by identifier.
///
/// A handle given to C is an identifier (a counter value cast to a pointer), never the address of a Swift object:
/// a freed, never-created or other-type handle is looked up, not dereferenced, so it is refused instead of
/// corrupting memory, and freeing a handle twice does nothing. Identifiers are never reused. A lookup returns a
/// strong reference, so an object stays alive until the call that looked it up returns even if another thread
/// frees its handle meanwhile.
enum HandleTable {
    private struct Table: ~Copyable {
        var next: UInt = 1
        var objects: [UInt: any HandleObject] = [:]
    }

    private static let table = Mutex(Table())

    /// Registers `object` and returns its handle.
    static func insert(_ object: some HandleObject) -> OpaquePointer {
        let identifier = table.withLock { table in
            let identifier = table.next
            table.next += 1
            table.objects[identifier] = object
            return identifier
        }
        // The counter starts at 1 and only grows, so the pointer is never null.
        return OpaquePointer(bitPattern: identifier).unsafelyUnwrapped
    }

    /// The object of `handle` when it is live and of type `T`.
    static func lookup<T: HandleObject>(_ handle: OpaquePointer?, as type: T.Type, name: String) throws(CError) -> T {
        guard let handle else { throw .argument("\(name) is NULL") }
        let identifier = UInt(bitPattern: handle)
        let object = table.withLock { $0.objects[identifier] }
        guard let typed = object as? T else {
            throw .argument("\(name) is not a live \(T.self) handle (freed, never created, or of another type)")
        }
        return typed
    }

    /// Removes `handle` if it is live and of type `T` (releasing the object once no call uses it); anything else
    /// is ignored.
    static func remove<T: HandleObject>(_ handle: OpaquePointer?, as type: T.Type) {
        guard let handle else { return }
        let identifier = UInt(bitPattern: handle)
        let removed: (any HandleObject)? = table.withLock { table in
            guard table.objects[identifier] is T else { return nil }
            return table.objects.removeValue(forKey: identifier)
        }
        // Released here, outside the lock: a server or client zeroises its secrets as it goes.
        _ = removed
    }

    /// The number of live handles (tests).
    static var count: Int { table.withLock { $0.objects.count } }
}
