using System.IO;
using System.Text;

namespace RnaLm.Tests.Packaging;

/// <summary>What build/TorchSharpNativeFix.targets decides on this machine.</summary>
internal static class NativeFix
{
    /// <summary>The version TorchSharp's libLibTorchSharp.so asks for and Debian 12's libstdc++ lacks.</summary>
    public const string MissingVersion = "GLIBCXX_3.4.32";

    /// <summary>
    /// True when this machine's libstdc++.so.6 does not define <see cref="MissingVersion"/>, so the unpatched
    /// libLibTorchSharp.so cannot load here; looked up in the folders the targets search, in their order.
    /// </summary>
    public static bool HostNeedsPatch()
    {
        foreach (string dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" })
        {
            string lib = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(lib))
            {
                return !Encoding.ASCII.GetString(File.ReadAllBytes(lib)).Contains(MissingVersion + "\0");
            }
        }
        return true;
    }
}
