import Synchronization

/// A value delivered once, from any thread, to one task that awaits it, whether it was already waiting or
/// not; the first delivery wins. Group commit answers each submitter through one; the verifier's threads answer
/// its reader through one.
public final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    public init() {}

    /// Delivers `value`, unless a value was delivered before; true when this one was.
    @discardableResult
    public func deliver(_ value: Value) -> Bool {
        let (first, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Value, Never>?) in
            guard state.value == nil else { return (false, nil) }
            state.value = value
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: value)
        return first
    }

    public var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.value == nil { state.waiter = continuation }
                    return state.value
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
