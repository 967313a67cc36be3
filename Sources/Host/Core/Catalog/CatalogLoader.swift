import FoundationEssentials
import Glibc

/// Why a catalog is not valid: the file, the field (a JSON path like `models[1].options`) and what is wrong.
public struct CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var field: String
    public var problem: String
    public var description: String { field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)" }
}

/// Reads and validates a catalog. Unknown fields are errors (a typo must not silently change nothing); relative
/// weight paths are relative to the catalog's folder; `key_env` names an environment variable holding a key.
/// With `checksWeights` false, a weight file that cannot be read is not an error (`plexus models` reports it).
public enum CatalogLoader {
    public static func load(path: String, environment: [String: String], checksWeights: Bool = true) throws(CatalogError) -> Catalog {
        guard let file = fopen(path, "rb") else { throw CatalogError(file: path, field: "", problem: "cannot read: \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
            guard bytes.count <= 16 << 20 else { throw CatalogError(file: path, field: "", problem: "larger than 16 MiB") }
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        return try parse(bytes, file: path, folder: folder, environment: environment, checksWeights: checksWeights)
    }

    public static func parse(_ bytes: [UInt8], file: String, folder: String, environment: [String: String],
                             checksWeights: Bool = true) throws(CatalogError) -> Catalog {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) } catch {
            throw CatalogError(file: file, field: "", problem: "not valid JSON (\(error))")
        }
        var reader = CatalogReader(file: file, folder: folder, environment: environment, checksWeights: checksWeights)
        return try reader.catalog(root)
    }
}
