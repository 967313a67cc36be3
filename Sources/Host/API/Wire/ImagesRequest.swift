import HostCore

/// The body of `POST /v1/images/generations` (OpenAI's fields, and the diffusion settings OpenAI leaves to the
/// model: `steps`, `guidance_scale`, `negative_prompt`, `seed`; Specs/api.md, "Images").
struct ImagesRequest: Decodable, Sendable {
    var model: String
    var prompt: String
    var n: Int?
    var size: String?
    var responseFormat: String?
    var outputFormat: String?
    var background: String?
    var stream: Bool?
    var steps: Int?
    var guidanceScale: Double?
    var negativePrompt: String?
    var seed: UInt64?
    var serviceTier: String?
    // Accepted and without effect on this kind of model: quality, style, user, moderation, output_compression.

    private enum CodingKeys: String, CodingKey {
        case model, prompt, n, size, stream, steps, seed, background
        case responseFormat = "response_format"
        case outputFormat = "output_format"
        case guidanceScale = "guidance_scale"
        case negativePrompt = "negative_prompt"
        case serviceTier = "service_tier"
    }

    /// What the service runs, after every check that needs no model.
    func generationRequest() throws(APIError) -> ImageGenerationRequest {
        if let responseFormat, responseFormat != "b64_json" {
            throw .unsupported("response_format '\(responseFormat)' is not supported: images come back as b64_json (Plexus stores no images to link to)",
                               param: "response_format")
        }
        if let outputFormat, outputFormat != "png" {
            throw .unsupported("output_format '\(outputFormat)' is not supported: images are PNG", param: "output_format")
        }
        if background == "transparent" { throw .unsupported("background 'transparent' is not supported: images are RGB", param: "background") }
        if stream == true { throw .unsupported("stream is not supported for images: the response comes whole", param: "stream") }
        var request = ImageGenerationRequest(model: model, prompt: prompt)
        request.count = n ?? 1
        if let size, size != "auto" {
            let sides = size.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard sides.count == 2, let width = sides[0], let height = sides[1] else {
                throw .invalid("size must be WIDTHxHEIGHT (e.g. 16x16) or auto, got '\(size)'", param: "size")
            }
            (request.width, request.height) = (width, height)
        }
        request.steps = steps
        request.guidance = guidanceScale
        request.negativePrompt = negativePrompt
        request.seed = seed
        request.priority = try SamplingFields.priority(serviceTier)
        return request
    }
}

/// The answer of `POST /v1/images/generations`.
struct ImagesResponse: Encodable, Sendable {
    struct Image: Encodable, Sendable {
        var b64Json: String
        private enum CodingKeys: String, CodingKey { case b64Json = "b64_json" }
    }

    /// OpenAI's image usage (tokens: an image model here reads none), with Plexus's `device_seconds`.
    struct Usage: Encodable, Sendable {
        struct Details: Encodable, Sendable {
            var textTokens = 0
            var imageTokens = 0
            private enum CodingKeys: String, CodingKey {
                case textTokens = "text_tokens"
                case imageTokens = "image_tokens"
            }
        }

        var inputTokens = 0
        var outputTokens = 0
        var totalTokens = 0
        var inputTokensDetails = Details()
        var deviceSeconds: Double

        private enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case totalTokens = "total_tokens"
            case inputTokensDetails = "input_tokens_details"
            case deviceSeconds = "device_seconds"
        }
    }

    var created: Int
    var data: [Image]
    var outputFormat = "png"
    var usage: Usage

    private enum CodingKeys: String, CodingKey {
        case created, data, usage
        case outputFormat = "output_format"
    }
}
