using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RnaLm.IO;

/// <summary>
/// Where a streamed result ends up: a file, written under a temporary name next to it (<c>name.tmp-</c> and 12 hex
/// digits, the pattern <see cref="SafeTensors.RemoveLeftoverTemporaryFiles"/> cleans up) and renamed over it when
/// complete, or a stream such as standard output.
/// </summary>
public sealed class OutputTarget
{
    private OutputTarget(string? path, Func<Stream>? stream, string display)
    {
        Path = path;
        _stream = stream;
        Display = display;
    }

    private readonly Func<Stream>? _stream;

    /// <summary>The destination file, or null for a stream.</summary>
    public string? Path { get; }

    /// <summary>How messages name the destination.</summary>
    public string Display { get; }

    /// <summary>A file, replaced atomically.</summary>
    public static OutputTarget File(string path) => new(path, null, path);

    /// <summary>A stream opened when the result is complete (not disposed by the writer: standard output stays open).</summary>
    public static OutputTarget Stream(Func<Stream> open, string display) => new(null, open, display);

    /// <summary>A new temporary file: next to the destination for a file, in the system's temporary folder otherwise.</summary>
    public string NewTemporaryPath()
    {
        string suffix = ".tmp-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];
        return Path is not null
            ? System.IO.Path.GetFullPath(Path) + suffix
            : System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnalm-spool" + suffix);
    }

    /// <summary>A spool file for this target; a failure to create it names the destination, not the temporary file.</summary>
    internal Spool NewSpool()
    {
        string temporary = NewTemporaryPath();
        try
        {
            return new Spool(temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SafeTensors.NamingTheDestination(e, temporary, Display);
        }
    }

    /// <summary>
    /// Writes the complete result with <paramref name="write"/>: into a temporary file that then replaces the
    /// destination, or straight into the stream.
    /// </summary>
    public void Commit(Action<Stream> write)
    {
        if (_stream is not null)
        {
            var stream = _stream();
            write(stream);
            stream.Flush();
            return;
        }
        string temporary = NewTemporaryPath();
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(file);
                file.Flush(flushToDisk: true);
                if (!OperatingSystem.IsWindows()) System.IO.File.Move(temporary, Path!, overwrite: true);
            }
            if (OperatingSystem.IsWindows()) System.IO.File.Move(temporary, Path!, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temporary);
            if (e is IOException or UnauthorizedAccessException) throw SafeTensors.NamingTheDestination(e, temporary, Path!);
            throw;
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            System.IO.File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// An append-only file of raw bytes that a streamed result collects while it is computed, so that memory does not
/// grow with the number of records; deleted when disposed. Its bytes are copied into the final output at the end.
/// </summary>
internal sealed class Spool : IDisposable
{
    private readonly FileStream _stream;

    public Spool(string path)
    {
        PathName = path;
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
    }

    public string PathName { get; }

    public long Length => _stream.Length;

    public void Append(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    public void CopyTo(Stream destination)
    {
        _stream.Flush();
        long end = _stream.Position;
        _stream.Position = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long left = end;
            while (left > 0)
            {
                int n = _stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) throw new IOException($"The temporary file '{PathName}' ended early.");
                destination.Write(buffer, 0, n);
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _stream.Position = end;
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Writes a safetensors file tensor by tensor without holding the tensors: data goes to a spool file as it arrives and
/// the header (which must come first and list every tensor) is written when the file is complete. Header entries are
/// ordered by the order key given with each tensor, so outputs computed out of order (sorted by length) are listed in
/// input order. Only float32 data (the outputs of a model) is written.
/// </summary>
public sealed class SafeTensorsStreamWriter : IDisposable
{
    private readonly OutputTarget _target;
    private readonly Spool _spool;
    private readonly List<(long Order, string Name, long[] Shape, long Begin, long End)> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public SafeTensorsStreamWriter(OutputTarget target)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _spool = target.NewSpool();
    }

    /// <summary>Tensors written so far.</summary>
    public int Count => _entries.Count;

    /// <summary>Appends one float32 tensor (C order) under <paramref name="name"/>, listed by <paramref name="order"/>.</summary>
    public void Add(string name, ReadOnlySpan<float> data, long[] shape, long order)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot be a tensor name.", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(name));
        long elements = shape.Aggregate(1L, (a, b) => checked(a * b));
        if (elements != data.Length) throw new ArgumentException($"Tensor '{name}' has {data.Length} values for shape [{string.Join(", ", shape)}].", nameof(data));
        long begin = _spool.Length;
        _spool.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
        _entries.Add((order, name, (long[])shape.Clone(), begin, _spool.Length));
    }

    /// <summary>Writes the header and the data to the target (replacing a file atomically).</summary>
    public void Complete(IReadOnlyDictionary<string, string>? metadata)
    {
        var header = SafeTensors.BuildHeader(
            _entries.OrderBy(e => e.Order).Select(e => (e.Name, "F32", (IReadOnlyList<long>)e.Shape, e.Begin, e.End)), metadata);
        _target.Commit(stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            _spool.CopyTo(stream);
        });
    }

    public void Dispose() => _spool.Dispose();
}

/// <summary>
/// Writes float32 matrices row by row as NumPy files that <c>numpy.load</c> opens with nothing else installed: one
/// <c>.npy</c> array, or a <c>.npz</c> archive (stored, not compressed) of named arrays, which may also hold a column
/// of strings (<c>names</c>, dtype <c>&lt;U</c>) and 0-d string arrays (metadata). Rows are spooled to disk, so
/// memory does not grow with the number of rows.
/// </summary>
public sealed class NumpyStreamWriter : IDisposable
{
    private readonly OutputTarget _target;
    private readonly bool _archive;
    private readonly List<(string Name, int Width, Spool Spool)> _matrices = [];
    private readonly List<(string Name, string[] Values, bool Scalar)> _strings = [];
    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);

    /// <param name="target">Where the file goes.</param>
    /// <param name="archive">True for <c>.npz</c> (several named arrays), false for <c>.npy</c> (exactly one matrix).</param>
    public NumpyStreamWriter(OutputTarget target, bool archive)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _archive = archive;
    }

    /// <summary>Declares a float32 matrix of <paramref name="width"/> columns, filled by <see cref="AppendRow"/>.</summary>
    public void AddMatrix(string name, int width)
    {
        if (!_archive && _matrices.Count == 1) throw new InvalidOperationException("A .npy file holds exactly one array.");
        _matrices.Add((name, width, _target.NewSpool()));
        _rows[name] = 0;
    }

    /// <summary>Appends a row to matrix <paramref name="name"/>.</summary>
    public void AppendRow(string name, ReadOnlySpan<float> row)
    {
        var matrix = _matrices.First(m => m.Name == name);
        if (row.Length != matrix.Width) throw new ArgumentException($"A row of '{name}' has {matrix.Width} values, not {row.Length}.", nameof(row));
        matrix.Spool.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row));
        _rows[name]++;
    }

    /// <summary>Rows appended to matrix <paramref name="name"/> so far.</summary>
    public int Rows(string name) => _rows[name];

    /// <summary>Adds a 1-d array of strings (<c>.npz</c> only).</summary>
    public void AddStrings(string name, IReadOnlyList<string> values) => AddText(name, values.ToArray(), scalar: false);

    /// <summary>Adds a 0-d string array, e.g. JSON metadata (<c>.npz</c> only).</summary>
    public void AddScalarString(string name, string value) => AddText(name, [value], scalar: true);

    private void AddText(string name, string[] values, bool scalar)
    {
        if (!_archive) throw new InvalidOperationException("Only a .npz archive holds several arrays.");
        _strings.Add((name, values, scalar));
    }

    /// <summary>Writes the file (replacing a destination file atomically).</summary>
    public void Complete()
    {
        if (_matrices.Count == 0 && !_archive) throw new InvalidOperationException("A .npy file needs one array.");
        _target.Commit(stream =>
        {
            if (!_archive)
            {
                var (name, width, spool) = _matrices[0];
                stream.Write(NpyHeader("<f4", [_rows[name], width]));
                spool.CopyTo(stream);
                return;
            }
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, width, spool) in _matrices)
            {
                var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                using var entryStream = entry.Open();
                entryStream.Write(NpyHeader("<f4", [_rows[name], width]));
                spool.CopyTo(entryStream);
            }
            foreach (var (name, values, scalar) in _strings)
            {
                var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                using var entryStream = entry.Open();
                WriteStrings(entryStream, values, scalar);
            }
        });
    }

    /// <summary>
    /// Writes strings as a fixed-width unicode array (<c>&lt;U{n}</c>: UTF-32 little-endian code points, zero-padded),
    /// the dtype numpy loads without pickle.
    /// </summary>
    private static void WriteStrings(Stream stream, string[] values, bool scalar)
    {
        var codePoints = values.Select(v => v.EnumerateRunes().Select(r => r.Value).ToArray()).ToList();
        int width = Math.Max(1, codePoints.Count == 0 ? 1 : codePoints.Max(c => c.Length));
        stream.Write(NpyHeader($"<U{width}", scalar ? [] : [values.Length]));
        var row = new byte[width * 4];
        foreach (var points in codePoints)
        {
            Array.Clear(row);
            for (int i = 0; i < points.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(row.AsSpan(i * 4), points[i]);
            stream.Write(row);
        }
    }

    /// <summary>A version 1.0 <c>.npy</c> header for a C-order array, padded so the data starts at a multiple of 64 bytes.</summary>
    public static byte[] NpyHeader(string dtype, IReadOnlyList<long> shape)
    {
        string dims = shape.Count switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {dims}, }}";
        int unpadded = 10 + dict.Length + 1;
        int total = (unpadded + 63) / 64 * 64;
        if (total - 10 > ushort.MaxValue) throw new ArgumentException("The array's shape does not fit a version 1.0 .npy header.", nameof(shape));
        var header = new byte[total];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(header, 1);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(total - 10));
        Encoding.ASCII.GetBytes(dict).CopyTo(header, 10);
        header.AsSpan(10 + dict.Length, total - 10 - dict.Length - 1).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    public void Dispose()
    {
        foreach (var (_, _, spool) in _matrices) spool.Dispose();
    }
}

/// <summary>Reads what <see cref="NumpyStreamWriter"/> writes: float32 matrices and unicode string arrays.</summary>
public static class NumpyReader
{
    /// <summary>One array: its dtype, shape and raw little-endian bytes.</summary>
    public sealed record NpyArray(string DType, long[] Shape, byte[] Data)
    {
        /// <summary>The values of a float32 array.</summary>
        public float[] Floats() => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Data).ToArray();

        /// <summary>The values of a <c>&lt;U</c> string array (trailing zero code points removed).</summary>
        public string[] Strings()
        {
            int width = int.Parse(DType[2..], CultureInfo.InvariantCulture);
            int count = Data.Length / (4 * width);
            var result = new string[count];
            for (int i = 0; i < count; i++)
            {
                var text = new StringBuilder();
                for (int c = 0; c < width; c++)
                {
                    int point = BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan((i * width + c) * 4));
                    if (point == 0) break;
                    text.Append(char.ConvertFromUtf32(point));
                }
                result[i] = text.ToString();
            }
            return result;
        }
    }

    /// <summary>Reads a <c>.npy</c> stream.</summary>
    /// <exception cref="FormatException">Not a version 1 or 2 <c>.npy</c> array in C order.</exception>
    public static NpyArray ReadNpy(Stream stream, string source)
    {
        var magic = new byte[8];
        stream.ReadExactly(magic);
        if (magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY") throw new FormatException($"{source}: not a .npy array.");
        int headerLength;
        if (magic[6] == 1)
        {
            var b = new byte[2];
            stream.ReadExactly(b);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(b);
        }
        else
        {
            var b = new byte[4];
            stream.ReadExactly(b);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(b));
        }
        var dictBytes = new byte[headerLength];
        stream.ReadExactly(dictBytes);
        string dict = Encoding.ASCII.GetString(dictBytes);
        string dtype = Between(dict, "'descr': '", "'", source);
        if (Between(dict, "'fortran_order': ", ",", source).Trim() != "False") throw new FormatException($"{source}: Fortran-order arrays are not supported.");
        string shapeText = Between(dict, "'shape': (", ")", source);
        long[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        long elements = shape.Aggregate(1L, (a, d) => checked(a * d));
        int itemSize = dtype == "<f4" ? 4 : dtype.StartsWith("<U", StringComparison.Ordinal) ? 4 * int.Parse(dtype[2..], CultureInfo.InvariantCulture)
            : throw new FormatException($"{source}: dtype '{dtype}' is not supported (float32 and unicode strings are).");
        var data = new byte[checked(elements * itemSize)];
        stream.ReadExactly(data);
        return new NpyArray(dtype, shape, data);
    }

    /// <summary>Reads every array of a <c>.npz</c> file, by name (without <c>.npy</c>).</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
            using var stream = entry.Open();
            arrays[entry.FullName[..^4]] = ReadNpy(stream, $"{path}:{entry.FullName}");
        }
        return arrays;
    }

    private static string Between(string text, string start, string end, string source)
    {
        int a = text.IndexOf(start, StringComparison.Ordinal);
        if (a < 0) throw new FormatException($"{source}: the .npy header has no {start.Trim(' ', ':', '(', '\'')}.");
        a += start.Length;
        int b = text.IndexOf(end, a, StringComparison.Ordinal);
        if (b < 0) throw new FormatException($"{source}: the .npy header is malformed.");
        return text[a..b];
    }
}
