@testable import HostAPI
import NIOHTTP1
import Testing

@Suite struct RouterTests {
    @Test(arguments: [
        (HTTPMethod.GET, "/v1/models", Router.Match.route(.models)),
        (.GET, "/v1/models/org%2Fname", .route(.model(id: "org/name"))),
        (.GET, "/v1/models/org/name", .route(.model(id: "org/name"))),
        (.GET, "/v1/models/a%20b", .route(.model(id: "a b"))),
        (.POST, "/v1/chat/completions", .route(.chatCompletions)),
        (.POST, "/v1/chat/completions/", .route(.chatCompletions)),
        (.DELETE, "/v1/videos/vid_1", .route(.video(id: "vid_1"))),
        (.GET, "/v1/videos/vid_1/content", .route(.videoContent(id: "vid_1"))),
        (.GET, "/health", .route(.health)),
        (.GET, "/v1/nothing", .notFound),
        (.GET, "/v1/models/bad%zz", .notFound),
    ])
    func matches(method: HTTPMethod, path: String, expected: Router.Match) {
        #expect(Router.match(method, path: path) == expected)
    }

    @Test func wrongMethodNamesTheAllowedOnes() {
        #expect(Router.match(.GET, path: "/v1/chat/completions") == .methodNotAllowed(allowed: [.POST]))
        #expect(Router.match(.POST, path: "/v1/models") == .methodNotAllowed(allowed: [.GET]))
    }

    @Test func percentDecodingRejectsMalformedEscapes() {
        #expect(PercentDecoding.decode("a%2Fb%41") == "a/bA")
        #expect(PercentDecoding.decode("%e2%82%ac") == "€")
        #expect(PercentDecoding.decode("%2") == nil)
        #expect(PercentDecoding.decode("%ff") == nil)
    }
}

