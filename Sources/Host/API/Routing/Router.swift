import NIOHTTP1

/// The endpoints of the API, with the path parameters they carry (already percent-decoded).
enum Route: Sendable, Equatable {
    case health
    case metrics
    case models
    case model(id: String)
    case chatCompletions
    case completions
    case embeddings
    case imageGenerations
    case videos
    case video(id: String)
    case videoContent(id: String)
    /// Re-reads the catalog (admin keys only).
    case adminReload

    /// The label for metrics: the path pattern, never the raw path (ids would explode the series count).
    var label: String {
        switch self {
        case .health: "/health"
        case .metrics: "/metrics"
        case .models: "/v1/models"
        case .model: "/v1/models/{id}"
        case .chatCompletions: "/v1/chat/completions"
        case .completions: "/v1/completions"
        case .embeddings: "/v1/embeddings"
        case .imageGenerations: "/v1/images/generations"
        case .videos: "/v1/videos"
        case .video: "/v1/videos/{id}"
        case .videoContent: "/v1/videos/{id}/content"
        case .adminReload: "/admin/reload"
        }
    }

    /// Whether the route is under /v1 (and so needs an API key when keys are configured).
    var needsKey: Bool { self != .health && self != .metrics }
}

/// Maps a method and path to a route.
enum Router {
    enum Match: Equatable {
        case route(Route)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    static func match(_ method: HTTPMethod, path: String) -> Match {
        guard let (route, allowed) = resolve(path) else { return .notFound }
        return allowed.contains(method) ? .route(route) : .methodNotAllowed(allowed: allowed)
    }

    /// The route a path names and the methods it answers.
    private static func resolve(_ path: String) -> (Route, [HTTPMethod])? {
        let raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var segments = Array(raw)
        if segments.last == "" && segments.count > 1 { segments.removeLast() }  // a trailing slash
        switch segments.first {
        case "health" where segments.count == 1: return (.health, [.GET])
        case "metrics" where segments.count == 1: return (.metrics, [.GET])
        case "admin" where segments.count == 2 && segments[1] == "reload": return (.adminReload, [.POST])
        case "v1": return resolveV1(Array(segments.dropFirst()))
        default: return nil
        }
    }

    private static func resolveV1(_ segments: [Substring]) -> (Route, [HTTPMethod])? {
        switch (segments.first, segments.count) {
        case ("models", 1): return (.models, [.GET])
        case ("models", 2...):
            // Ids may contain '/', encoded (org%2Fname, as the SDK sends) or not.
            guard let id = PercentDecoding.decode(segments.dropFirst().joined(separator: "/")) else { return nil }
            return (.model(id: id), [.GET])
        case ("chat", 2) where segments[1] == "completions": return (.chatCompletions, [.POST])
        case ("completions", 1): return (.completions, [.POST])
        case ("embeddings", 1): return (.embeddings, [.POST])
        case ("images", 2) where segments[1] == "generations": return (.imageGenerations, [.POST])
        case ("videos", 1): return (.videos, [.GET, .POST])
        case ("videos", 2):
            guard let id = PercentDecoding.decode(String(segments[1])) else { return nil }
            return (.video(id: id), [.GET, .DELETE])
        case ("videos", 3) where segments[2] == "content":
            guard let id = PercentDecoding.decode(String(segments[1])) else { return nil }
            return (.videoContent(id: id), [.GET])
        default: return nil
        }
    }
}

/// RFC 3986 percent-decoding of one path component.
enum PercentDecoding {
    /// The decoded text, or nil for a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
