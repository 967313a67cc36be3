/// Fair share per API key: each key's virtual time is the device seconds its requests used while it was active,
/// divided by the key's weight (the engine divides before charging; requests without a key share the key ""). A key that becomes active joins at the least virtual time of the
/// active keys, or the floor they last reached, so idle time earns no credit (`Scheduler.joiningTime`, as for
/// models). Owned by the engine thread.
struct KeyTimes {
    private var times: [String: Double] = [:]
    private var live: [String: Int] = [:]
    private var floor = 0.0

    /// The key's virtual time.
    subscript(key: String?) -> Double { times[key ?? ""] ?? floor }

    /// A sequence of `key` arrived.
    mutating func arrive(_ key: String?) {
        let key = key ?? ""
        if live[key, default: 0] == 0 {
            let active = live.filter { $0.value > 0 }.keys.map { times[$0] ?? floor }
            times[key] = Scheduler.joiningTime(times[key] ?? floor, busy: active, floor: floor)
        }
        live[key, default: 0] += 1
    }

    /// A sequence of `key` ended.
    mutating func leave(_ key: String?) {
        let key = key ?? ""
        live[key, default: 1] -= 1
        if live[key] == 0 { live[key] = nil }
    }

    /// Charges `seconds` of device time to `key` and moves the floor up to the least active time.
    mutating func charge(_ key: String?, seconds: Double) {
        times[key ?? "", default: floor] += seconds
        if let least = live.keys.map({ times[$0] ?? floor }).min() { floor = max(floor, least) }
    }
}
