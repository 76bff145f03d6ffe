import Synchronization

/// oneDNN primitives made on first use and kept per shape, shared by every thread (the C objects
/// serialize their own calls). nil is remembered too: a shape oneDNN declined stays declined.
/// Cleared when it grows past `limit`: varying shapes (last batches, evaluation) would otherwise
/// add plans without end.
final class PlanCache<Key: Hashable & Sendable, Plan: AnyObject & Sendable>: Sendable {
    private let plans = Mutex<[Key: Plan?]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// The plan for `key`, made by `make` the first time.
    func plan(for key: Key, make: (Key) -> Plan?) -> Plan? {
        if let known = plans.withLock({ $0[key] }) { return known }
        let made = make(key)
        plans.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0[key] = .some(made)
        }
        return made
    }
}
