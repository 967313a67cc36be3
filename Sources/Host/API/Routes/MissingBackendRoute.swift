import FoundationEssentials
import HostCore

/// The endpoints whose backends do not exist yet: embeddings and the video job flow.
/// They validate the model and then say exactly what is missing, in OpenAI's error format; they never fake a
/// result.
struct MissingBackendRoute {
    /// What an endpoint produces, for the messages.
    struct Product: Sendable {
        var capability: ServedModel.Capability
        /// "generates embeddings"
        var verb: String
        /// "embedding"
        var plugin: String

        static let embeddings = Product(capability: .embedding, verb: "generates embeddings", plugin: "embedding")
        static let videos = Product(capability: .video, verb: "generates videos", plugin: "video")
    }

    var context: RequestContext

    /// `POST /v1/embeddings` (JSON) and `/v1/videos` (multipart or JSON).
    func create(_ request: APIRequest, product: Product) throws(APIError) -> APIResponse {
        let name = try modelField(request)
        let model = try context.model(named: name)
        guard model.capabilities.contains(product.capability) else {
            throw .unsupported("model \(model.id) serves \(MissingCapability.served(model)); "
                + noBackend(product), param: "model")
        }
        throw .unsupported("model \(model.id) lists \(product.capability.rawValue) among its capabilities, but this "
            + "endpoint is not connected to any backend yet; no loaded backend \(product.verb).", param: "model")
    }

    /// `GET /v1/videos`: no video job can exist, so the list is refused the same way as creating one.
    func listVideos() throws(APIError) -> APIResponse {
        throw .unsupported(noBackend(.videos))
    }

    /// `GET`/`DELETE /v1/videos/{id}` and its content: no job has ever been created.
    func video(_ id: String) throws(APIError) -> APIResponse {
        throw APIError(.notFound, "Video '\(id)' not found.", param: "video_id", code: "video_not_found")
    }

    private func noBackend(_ product: Product) -> String {
        "no loaded backend \(product.verb) (no \(product.plugin) plugin is installed)"
    }

    /// The `model` field of a JSON or multipart/form-data body.
    private func modelField(_ request: APIRequest) throws(APIError) -> String {
        let contentType = request.headers.first(name: "Content-Type") ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let model = MultipartFields.value(of: "model", body: Array(request.body.readableBytesView),
                                                    contentType: contentType) else {
                throw .invalid("Missing required parameter: 'model'.", param: "model")
            }
            return model
        }
        struct ModelOnly: Decodable { var model: String }
        return try request.decodeJSON(ModelOnly.self).model
    }
}

/// Reads one text field of a multipart/form-data body (enough for `model`; files are not read).
enum MultipartFields {
    /// The value of the part whose Content-Disposition names `name`, up to the next boundary line.
    static func value(of name: String, body: [UInt8], contentType: String) -> String? {
        let marker = Array("name=\"\(name)\"".utf8)
        guard let field = find(marker, in: body, from: 0),
              let start = find(Array("\r\n\r\n".utf8), in: body, from: field + marker.count).map({ $0 + 4 }),
              let end = find(Array("\r\n--".utf8), in: body, from: start) else { return nil }
        return String(decoding: body[start..<end], as: UTF8.self)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
