using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace RnaLm.IO;

/// <summary>What kind of file system object a path names.</summary>
public enum FileKind
{
    /// <summary>Nothing exists at the path (or a component of it is missing or not a folder).</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A named pipe (FIFO): opening it for reading waits for a writer.</summary>
    Fifo,

    /// <summary>A character device such as <c>/dev/zero</c>.</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A symbolic link (only reported when links are not followed).</summary>
    SymbolicLink,

    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>The identity of a file system object: two paths name the same object exactly when these are equal.</summary>
/// <param name="Device">The device (file system) it lives on.</param>
/// <param name="Inode">Its inode number on that device.</param>
public readonly record struct FileIdentity(ulong Device, ulong Inode);

/// <summary>The kind and identity of a path, read without opening it.</summary>
/// <param name="Kind">What the path names.</param>
/// <param name="Identity">Device and inode; null when the path is missing or the platform does not report them.</param>
public readonly record struct FileStatus(FileKind Kind, FileIdentity? Identity);

/// <summary>
/// File type, identity and real-path queries that do not open the file: a FIFO or device can be recognised before a
/// read would block on it, and two paths can be compared by device and inode rather than by spelling.
/// </summary>
public static partial class FileProbe
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int StatxBufferBytes = 256;
    private const int MaxLinkHops = 40;

    // struct statx has the same layout on every Linux architecture (include/uapi/linux/stat.h).
    private const int ModeOffset = 28;
    private const int InodeOffset = 32;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;

    private static readonly bool NativeAvailable = OperatingSystem.IsLinux();

    /// <summary>The kind and identity of <paramref name="path"/>, following symbolic links in every component.</summary>
    /// <exception cref="IOException">The path cannot be examined (e.g. permission denied on a parent folder, a link loop).</exception>
    public static FileStatus Stat(string path) => Query(path, followLinks: true);

    /// <summary>Like <see cref="Stat"/>, but a symbolic link in the last component is reported as itself.</summary>
    public static FileStatus LinkStat(string path) => Query(path, followLinks: false);

    /// <summary>Whether two paths name the same existing file system object (same device and inode).</summary>
    public static bool SameObject(string a, string b)
    {
        var first = Stat(a);
        var second = Stat(b);
        if (first.Identity is { } x && second.Identity is { } y) return x == y;
        if (first.Kind == FileKind.Missing || second.Kind == FileKind.Missing) return false;
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(RealPath(a), RealPath(b), comparison);
    }

    /// <summary>
    /// The absolute path of <paramref name="path"/> with every symbolic link resolved, in every component, and
    /// <c>.</c>/<c>..</c> applied to the resolved folders (so <c>link/..</c> is the parent of the link's target).
    /// Components that do not exist are kept as written; the result names where the path would be created.
    /// </summary>
    /// <exception cref="IOException">More than 40 links were followed (a loop).</exception>
    public static string RealPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string rooted = Path.IsPathRooted(path) ? path : Path.Combine(System.IO.Directory.GetCurrentDirectory(), path);
        string root = Path.GetPathRoot(rooted)!;
        var pending = new Stack<string>();
        PushComponents(pending, rooted[root.Length..]);
        string current = root;
        int hops = 0;
        bool missing = false;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, part);
            string? target = missing ? null : LinkTarget(next, out missing);
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > MaxLinkHops)
            {
                throw new IOException($"Too many levels of symbolic links while resolving '{path}'.");
            }
            if (Path.IsPathRooted(target))
            {
                root = Path.GetPathRoot(target)!;
                current = root;
                PushComponents(pending, target[root.Length..]);
            }
            else
            {
                PushComponents(pending, target);
            }
        }
        return current;
    }

    /// <summary>
    /// Whether <paramref name="path"/> is <paramref name="folder"/> or lies inside it, comparing the resolved
    /// ancestors of <paramref name="path"/> with <paramref name="folder"/> by identity (device and inode).
    /// </summary>
    public static bool IsSameOrInside(string path, string folder)
    {
        var target = Stat(folder);
        if (target.Kind != FileKind.Directory) return SameObject(path, folder);
        for (string? current = RealPath(path); current is not null; current = Path.GetDirectoryName(current))
        {
            var status = Stat(current);
            if (status.Kind == FileKind.Missing) continue;
            bool same = status.Identity is { } id && target.Identity is { } want
                ? id == want
                : SameObject(current, folder);
            if (same) return true;
        }
        return false;
    }

    private static void PushComponents(Stack<string> pending, string relative)
    {
        var parts = relative.Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }

    /// <summary>The target of a symbolic link, or null when <paramref name="path"/> is not one.</summary>
    private static string? LinkTarget(string path, out bool missing)
    {
        var status = LinkStat(path);
        missing = status.Kind == FileKind.Missing;
        if (status.Kind != FileKind.SymbolicLink) return null;
        return new FileInfo(path).LinkTarget;
    }

    private static FileStatus Query(string path, bool followLinks)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!NativeAvailable) return ManagedQuery(path, followLinks);
        Span<byte> buffer = stackalloc byte[StatxBufferBytes];
        int result;
        unsafe
        {
            fixed (byte* pointer = buffer)
            {
                result = Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxIno, pointer);
            }
        }
        if (result != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                2 or 20 => new FileStatus(FileKind.Missing, null), // ENOENT, ENOTDIR
                38 => ManagedQuery(path, followLinks), // ENOSYS: a kernel without statx
                _ => throw new IOException($"Cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}."),
            };
        }
        ushort mode = BitConverter.ToUInt16(buffer[ModeOffset..]);
        ulong inode = BitConverter.ToUInt64(buffer[InodeOffset..]);
        ulong device = ((ulong)BitConverter.ToUInt32(buffer[DevMajorOffset..]) << 32) | BitConverter.ToUInt32(buffer[DevMinorOffset..]);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, new FileIdentity(device, inode));
    }

    /// <summary>Platforms without statx: regular files and folders only, without identity.</summary>
    private static FileStatus ManagedQuery(string path, bool followLinks)
    {
        FileSystemInfo info = System.IO.Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!followLinks && info.LinkTarget is not null) return new FileStatus(FileKind.SymbolicLink, null);
        if (!info.Exists) return new FileStatus(FileKind.Missing, null);
        return new FileStatus(info is DirectoryInfo ? FileKind.Directory : FileKind.Regular, null);
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
