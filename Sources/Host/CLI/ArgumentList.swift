import HostCore

/// A minimal command-line reader: positional words, `--flag`, `--name VALUE` and `--name=VALUE`.
struct ArgumentList {
    private(set) var words: [String]

    init(_ words: [String]) { self.words = words }

    /// Removes and returns the first word.
    mutating func shift() -> String? { words.isEmpty ? nil : words.removeFirst() }

    /// Removes `--name` (with no value) if present.
    mutating func flag(_ name: String) -> Bool {
        guard let index = words.firstIndex(of: name) else { return false }
        words.remove(at: index)
        return true
    }

    /// Removes every `--name VALUE` / `--name=VALUE` and returns the values in order.
    mutating func values(_ name: String) throws(UsageError) -> [String] {
        var found: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            if word == name {
                guard index + 1 < words.count else { throw UsageError("\(name) needs a value") }
                found.append(words[index + 1])
                words.removeSubrange(index...index + 1)
            } else if word.hasPrefix(name + "=") {
                found.append(String(word.dropFirst(name.count + 1)))
                words.remove(at: index)
            } else {
                index += 1
            }
        }
        return found
    }

    /// The last value of `--name`, if given.
    mutating func value(_ name: String) throws(UsageError) -> String? { try values(name).last }

    /// Removes every `--option KEY=VALUE` and returns the pairs in order.
    mutating func keyValues(_ name: String) throws(UsageError) -> [(String, String)] {
        try values(name).map { (pair: String) throws(UsageError) -> (String, String) in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError("\(name) needs KEY=VALUE, got '\(pair)'")
            }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
    }

    /// Removes `--threads N` (1...1024) if given.
    mutating func threads() throws(UsageError) -> Int? {
        try value("--threads").map { (text: String) throws(UsageError) -> Int in
            guard let count = Int(text), count > 0, count <= 1024 else { throw UsageError("--threads needs 1...1024") }
            return count
        }
    }

    /// Removes `--device cpu|cuda|cuda:N` if given (default cpu).
    mutating func device() throws(UsageError) -> DeviceChoice {
        guard let text = try value("--device") else { return .cpu }
        guard let choice = DeviceChoice(text) else { throw UsageError("--device needs cpu, cuda or cuda:N, got '\(text)'") }
        return choice
    }

    /// Removes and returns the next positional word.
    mutating func positional(_ what: String) throws(UsageError) -> String {
        guard let index = words.firstIndex(where: { !$0.hasPrefix("--") }) else { throw UsageError("missing \(what)") }
        return words.remove(at: index)
    }

    /// Fails on anything left over.
    func finish() throws(UsageError) {
        if let extra = words.first { throw UsageError("unexpected argument '\(extra)'") }
    }
}

/// A mistake in how a command was called: printed with the command's usage, exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
