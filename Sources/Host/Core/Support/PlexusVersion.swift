/// The host's version.
public enum PlexusVersion {
    public static let string = "0.1.0"
}
