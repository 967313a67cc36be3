import HostCore
print("plexus \(PlexusVersion.string)")
