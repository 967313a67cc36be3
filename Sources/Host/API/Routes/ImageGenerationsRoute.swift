import FoundationEssentials
import HostCore

/// `POST /v1/images/generations`: images from an image model, as base64 PNG (Specs/api.md, "Images").
struct ImageGenerationsRoute {
    var context: RequestContext

    func respond(to request: APIRequest) async throws(APIError) -> APIResponse {
        let body = try request.decodeJSON(ImagesRequest.self)
        var generation = try body.generationRequest()
        let model = try context.model(named: body.model)
        guard model.capabilities.contains(.image) else {
            throw .unsupported(MissingCapability.message(model: model, wanted: "image generation", hint: nil), param: "model")
        }
        generation.apiKey = context.caller.key
        generation.keyWeight = context.caller.weight
        generation.deadline = context.deadline
        let handle: GenerationHandle
        do { handle = try context.service.generateImages(generation) } catch { throw APIError(error) }
        context.cancellation.register(handle)
        let (images, usage) = try await Self.collect(handle, count: generation.count)
        let data = images.map { ImagesResponse.Image(b64Json: Data(PNGEncoder.encode($0)).base64EncodedString()) }
        return .json(ImagesResponse(created: ResponseID.now, data: data, usage: .init(deviceSeconds: usage.deviceSeconds)))
    }

    /// Every image of the generation, in image order, and its usage.
    private static func collect(_ handle: GenerationHandle, count: Int) async throws(APIError) -> ([GeneratedImage], Usage) {
        var images = [GeneratedImage?](repeating: nil, count: count)
        for await event in handle.events {
            switch event {
            case .image(let index, let image) where images.indices.contains(index):
                images[index] = image
            case .finished(.cancelled, _):
                throw APIError(.serviceUnavailable, type: "server_error", "The generation was cancelled before it finished.", retryAfter: 1)
            case .finished(_, let usage):
                let all = images.compactMap { $0 }
                guard all.count == count else { throw .internalError("The generation ended with \(all.count) of \(count) images.") }
                return (all, usage)
            case .failed(let error):
                throw APIError(error)
            case .started, .text, .image:
                continue
            }
        }
        throw .internalError("The generation ended without a result.")
    }
}
