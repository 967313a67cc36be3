import PluginABI

/// What one denoise sequence's emitted tensors become on the way out: checked images (the size the request asked
/// for, 8-bit RGB, an image number in range), or the reason a tensor is not one.
enum ImageOutputCheck {
    static func image(_ tensor: TensorOutput, of input: ImageRequestInput, received: Int) -> Result<GeneratedImage, ImageProblem> {
        let (width, height) = (Int(input.width), Int(input.height))
        guard tensor.dtype == UInt32(PX_DTYPE_U8) else { return .failure(ImageProblem("dtype \(tensor.dtype) is not u8")) }
        guard tensor.shape == [Int64(height), Int64(width), 3] else {
            return .failure(ImageProblem("shape \(tensor.shape) is not the requested [\(height), \(width), 3]"))
        }
        guard tensor.index < input.images, received < Int(input.images) else {
            return .failure(ImageProblem("image \(tensor.index) (\(received) already received) of a request for \(input.images)"))
        }
        return .success(GeneratedImage(width: width, height: height, rgb: tensor.data))
    }
}

/// Why an emitted tensor is not an image of the request.
struct ImageProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
