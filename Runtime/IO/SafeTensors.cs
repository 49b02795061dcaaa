using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace RnaLm.IO;

/// <summary>
/// Thrown when a file is not a valid safetensors file. The message names the file, the problem and, when the problem
/// concerns one tensor, that tensor.
/// </summary>
public sealed class SafeTensorsFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file that failed to parse.</param>
    /// <param name="tensorName">The tensor the problem concerns, or null when it concerns the whole file.</param>
    /// <param name="problem">What is wrong, in words.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public SafeTensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Compose(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
        Problem = problem;
    }

    /// <summary>The file that failed to parse.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem concerns, or null when it concerns the whole file.</summary>
    public string? TensorName { get; }

    /// <summary>The problem without the file and tensor prefix.</summary>
    public string Problem { get; }

    private static string Compose(string filePath, string? tensorName, string problem) =>
        tensorName is null
            ? $"Invalid safetensors file '{filePath}': {problem}"
            : $"Invalid safetensors file '{filePath}': tensor '{tensorName}': {problem}";
}

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor's name (the header key).</param>
/// <param name="DType">The safetensors dtype string (<c>F32</c>, <c>BF16</c>, <c>I64</c>, ...).</param>
/// <param name="Shape">The tensor's shape; empty for a scalar.</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the start of the data region (after the header).</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the start of the data region.</param>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of bytes the tensor occupies (<see cref="End"/> − <see cref="Begin"/>).</summary>
    public long ByteLength => End - Begin;

    /// <summary>Number of elements (product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }
            return n;
        }
    }

    /// <summary>The TorchSharp element type corresponding to <see cref="DType"/>.</summary>
    public torch.ScalarType ScalarType => SafeTensorDTypes.ToScalarType(DType);
}

/// <summary>The dtypes this reader and writer support and their sizes.</summary>
public static class SafeTensorDTypes
{
    private static readonly Dictionary<string, (torch.ScalarType Type, int Size)> ByName = new(StringComparer.Ordinal)
    {
        ["F64"] = (torch.ScalarType.Float64, 8),
        ["F32"] = (torch.ScalarType.Float32, 4),
        ["F16"] = (torch.ScalarType.Float16, 2),
        ["BF16"] = (torch.ScalarType.BFloat16, 2),
        ["I64"] = (torch.ScalarType.Int64, 8),
        ["I32"] = (torch.ScalarType.Int32, 4),
        ["I16"] = (torch.ScalarType.Int16, 2),
        ["I8"] = (torch.ScalarType.Int8, 1),
        ["U8"] = (torch.ScalarType.Byte, 1),
        ["BOOL"] = (torch.ScalarType.Bool, 1),
    };

    /// <summary>The supported dtype strings: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.</summary>
    public static IReadOnlyCollection<string> Supported => ByName.Keys;

    /// <summary>Whether <paramref name="dtype"/> is a supported safetensors dtype string.</summary>
    public static bool IsSupported(string dtype) => ByName.ContainsKey(dtype);

    /// <summary>Size in bytes of one element of <paramref name="dtype"/>.</summary>
    /// <exception cref="ArgumentException">The dtype is not supported.</exception>
    public static int ItemSize(string dtype) => Lookup(dtype).Size;

    /// <summary>The TorchSharp element type for a safetensors dtype string.</summary>
    /// <exception cref="ArgumentException">The dtype is not supported.</exception>
    public static torch.ScalarType ToScalarType(string dtype) => Lookup(dtype).Type;

    /// <summary>The safetensors dtype string for a TorchSharp element type.</summary>
    /// <exception cref="ArgumentException">The element type has no supported safetensors dtype.</exception>
    public static string FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.Float16 => "F16",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        torch.ScalarType.Int16 => "I16",
        torch.ScalarType.Int8 => "I8",
        torch.ScalarType.Byte => "U8",
        torch.ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException(
            $"Element type {type} cannot be stored in safetensors here (supported: {string.Join(", ", ByName.Keys)}).",
            nameof(type)),
    };

    private static (torch.ScalarType Type, int Size) Lookup(string dtype) =>
        ByName.TryGetValue(dtype, out var entry)
            ? entry
            : throw new ArgumentException(
                $"Unsupported safetensors dtype '{dtype}' (supported: {string.Join(", ", ByName.Keys)}).",
                nameof(dtype));
}

/// <summary>
/// A safetensors file opened for reading: an 8-byte little-endian header length, a UTF-8 JSON header, then the raw
/// little-endian tensor data. The header is parsed and fully validated by <see cref="Open"/>: every entry's dtype,
/// shape and byte length agree, and the entries' byte ranges tile the data region exactly (no gap, no overlap, nothing
/// after the last tensor), so each tensor reads its own bytes. Only regular files are opened. Tensor data is read on
/// demand with positioned reads, so files of any size work without loading them into memory.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (100 MB); larger values indicate a corrupt or hostile file.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Most tensors a header may list.</summary>
    public const int MaxTensors = 2_000_000;

    /// <summary>Most dimensions a tensor may have.</summary>
    public const int MaxDimensions = 64;

    // Tensors are copied in pieces of at most this many bytes (a Span is limited to int.MaxValue bytes).
    private const long CopyChunkBytes = 1L << 30;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorInfo> _byName;
    private readonly long _dataStart;
    private bool _disposed;

    private SafeTensorsFile(
        string path,
        SafeFileHandle handle,
        long dataStart,
        IReadOnlyDictionary<string, string> metadata,
        List<SafeTensorInfo> tensors,
        Dictionary<string, SafeTensorInfo> byName)
    {
        Path = path;
        _handle = handle;
        _dataStart = dataStart;
        Metadata = metadata;
        Tensors = tensors;
        _byName = byName;
    }

    /// <summary>The path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> map of the header; empty when the header has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor entries in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Opens and validates a safetensors file. The file stays open (shared for reading) until disposed.</summary>
    /// <param name="path">Path of the <c>.safetensors</c> file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported.");
        }
        // Check the type before opening: opening a FIFO for reading waits for a writer, and a device never ends.
        var status = FileProbe.Stat(path);
        if (status.Kind == FileKind.Missing)
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        }
        if (status.Kind != FileKind.Regular)
        {
            throw new SafeTensorsFormatException(path, null, $"it is {Describe(status.Kind)}, not a regular file");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"file is {fileLength} bytes long, shorter than the 8-byte header length prefix");
            }

            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, path, null);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)MaxHeaderBytes)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"header length {headerLength} bytes is larger than the {MaxHeaderBytes / (1024 * 1024)} MB limit " +
                    "(corrupt file, or not a safetensors file)");
            }
            if (headerLength > (ulong)(fileLength - 8))
            {
                throw new SafeTensorsFormatException(path, null,
                    $"header length {headerLength} bytes is larger than the rest of the file ({fileLength - 8} bytes)");
            }
            if (headerLength == 0)
            {
                throw new SafeTensorsFormatException(path, null, "header is empty (length 0); expected a JSON object");
            }

            var headerBytes = new byte[(int)headerLength];
            ReadExactly(handle, headerBytes, 8, path, null);
            long dataStart = 8 + (long)headerLength;
            long dataLength = fileLength - dataStart;

            var (metadata, tensors, byName) = ParseHeader(path, headerBytes, dataLength);
            return new SafeTensorsFile(path, handle, dataStart, metadata, tensors, byName);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Gets the header entry of a tensor.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="info">The entry, or null when absent.</param>
    /// <returns>Whether the tensor exists.</returns>
    public bool TryGetInfo(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorInfo? info) =>
        _byName.TryGetValue(name, out info);

    /// <summary>
    /// Reads one tensor into a new CPU tensor of the stored dtype and shape. The tensor owns its memory (nothing
    /// aliases the file); the caller disposes it.
    /// </summary>
    /// <param name="name">The tensor name.</param>
    /// <exception cref="KeyNotFoundException">The file holds no tensor with that name.</exception>
    /// <exception cref="SafeTensorsFormatException">The file ended early (changed since it was opened).</exception>
    public torch.Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out var info))
        {
            throw new KeyNotFoundException($"Safetensors file '{Path}' has no tensor named '{name}'.");
        }

        var tensor = torch.empty(info.Shape, SafeTensorDTypes.ToScalarType(info.DType), torch.CPU);
        try
        {
            if (info.ByteLength > 0)
            {
                Fill(tensor, info);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether <see cref="ReadInto"/> can fill <paramref name="destination"/> from tensor <paramref name="name"/>: a
    /// contiguous CPU tensor of the stored dtype and shape.
    /// </summary>
    public bool CanReadInto(string name, torch.Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return _byName.TryGetValue(name, out var info)
            && destination.device_type == DeviceType.CPU
            && destination.is_contiguous()
            && destination.dtype == SafeTensorDTypes.ToScalarType(info.DType)
            && destination.shape.SequenceEqual(info.Shape);
    }

    /// <summary>
    /// Reads one tensor straight into the memory of <paramref name="destination"/> (no intermediate copy), which must
    /// be a contiguous CPU tensor of the stored dtype and shape (<see cref="CanReadInto"/>). Autograd does not see the
    /// write; use it on parameters being loaded, not on tensors in a graph.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The file holds no tensor with that name.</exception>
    /// <exception cref="ArgumentException">The destination is not a contiguous CPU tensor of the stored dtype and shape.</exception>
    /// <exception cref="SafeTensorsFormatException">The file ended early (changed since it was opened).</exception>
    public void ReadInto(string name, torch.Tensor destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out var info))
        {
            throw new KeyNotFoundException($"Safetensors file '{Path}' has no tensor named '{name}'.");
        }
        if (!CanReadInto(name, destination))
        {
            throw new ArgumentException(
                $"Tensor '{name}' of {Path} is {info.DType} [{string.Join(", ", info.Shape)}]; the destination is {destination.dtype} " +
                $"[{string.Join(", ", destination.shape)}] on {destination.device}{(destination.is_contiguous() ? "" : ", not contiguous")}.", nameof(destination));
        }
        if (info.ByteLength > 0) Fill(destination, info);
    }

    /// <summary>Reads every tensor (see <see cref="Load"/>), keyed by name, in header order.</summary>
    public Dictionary<string, torch.Tensor> LoadAll()
    {
        var result = new Dictionary<string, torch.Tensor>(Tensors.Count, StringComparer.Ordinal);
        try
        {
            foreach (var info in Tensors)
            {
                result.Add(info.Name, Load(info.Name));
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }
            throw;
        }
    }

    /// <summary>Closes the file. Tensors already loaded stay valid.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _handle.Dispose();
        }
    }

    private void Fill(torch.Tensor tensor, SafeTensorInfo info)
    {
        long fileOffset = _dataStart + info.Begin;
        if (info.ByteLength <= CopyChunkBytes)
        {
            ReadExactly(_handle, tensor.bytes, fileOffset, Path, info.Name);
            return;
        }

        // Larger than one Span can address: copy through contiguous views of the flattened tensor.
        int itemSize = SafeTensorDTypes.ItemSize(info.DType);
        long elementsPerChunk = CopyChunkBytes / itemSize;
        long total = info.ElementCount;
        using var flat = tensor.flatten();
        for (long start = 0; start < total; start += elementsPerChunk)
        {
            long count = Math.Min(elementsPerChunk, total - start);
            using var part = flat.narrow(0, start, count);
            ReadExactly(_handle, part.bytes, fileOffset + start * itemSize, Path, info.Name);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string path, string? tensor)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(handle, destination, offset);
            if (read <= 0)
            {
                throw new SafeTensorsFormatException(path, tensor,
                    $"file ended at byte {offset} while {destination.Length} more bytes were expected (was it truncated after opening?)");
            }
            destination = destination[read..];
            offset += read;
        }
    }

    private static (IReadOnlyDictionary<string, string> Metadata, List<SafeTensorInfo> Tensors, Dictionary<string, SafeTensorInfo> ByName) ParseHeader(
        string path, byte[] headerBytes, long dataLength)
    {
        try
        {
            StrictUtf8.GetCharCount(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new SafeTensorsFormatException(path, null,
                $"header is not valid UTF-8 (invalid byte sequence at header offset {e.Index})", e);
        }

        // A streaming reader keeps the work and memory of a header proportional to its length: no document tree,
        // one small record per tensor.
        var reader = new Utf8JsonReader(headerBytes, new JsonReaderOptions { MaxDepth = 16 });
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafeTensorInfo>();
        var byName = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        bool metadataSeen = false;
        try
        {
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"header is a JSON {Describe(reader.TokenType)}, expected a JSON object");
            }
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }
                string name = ReadString(ref reader, path, null, "a tensor name");
                Next(ref reader);
                if (name == "__metadata__")
                {
                    if (metadataSeen)
                    {
                        throw new SafeTensorsFormatException(path, null, "header has '__metadata__' twice");
                    }
                    metadataSeen = true;
                    ParseMetadata(ref reader, path, metadata);
                    continue;
                }
                if (byName.ContainsKey(name))
                {
                    throw new SafeTensorsFormatException(path, name, "the header lists this tensor twice");
                }
                if (tensors.Count == MaxTensors)
                {
                    throw new SafeTensorsFormatException(path, null,
                        $"header lists more than {MaxTensors:N0} tensors (corrupt file, or not a safetensors file)");
                }
                var info = ParseTensor(ref reader, path, name, dataLength);
                tensors.Add(info);
                byName.Add(name, info);
            }
            if (reader.Read())
            {
                throw new SafeTensorsFormatException(path, null, "header has content after its JSON object");
            }
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, null, $"header is not valid JSON: {e.Message}", e);
        }

        CheckLayout(path, tensors, dataLength);
        return (metadata, tensors, byName);
    }

    /// <summary>
    /// The data region must be tiled exactly: sorted by offset, the tensors' byte ranges follow each other without a
    /// gap or an overlap and end where the file ends. Any other layout means a corrupt header, and reading it would
    /// give tensors bytes that belong to another tensor (or to none).
    /// </summary>
    private static void CheckLayout(string path, List<SafeTensorInfo> tensors, long dataLength)
    {
        var sorted = tensors.ToArray();
        Array.Sort(sorted, static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        SafeTensorInfo? previous = null;
        foreach (var info in sorted)
        {
            if (info.Begin < expected)
            {
                throw new SafeTensorsFormatException(path, info.Name,
                    $"data_offsets [{info.Begin}, {info.End}] overlap those of tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            }
            if (info.Begin > expected)
            {
                string after = previous is null ? "the start of the data region" : $"tensor '{previous.Name}'";
                throw new SafeTensorsFormatException(path, info.Name,
                    $"data_offsets [{info.Begin}, {info.End}] leave bytes [{expected}, {info.Begin}) after {after} unused; " +
                    "tensors must cover the data region without gaps");
            }
            expected = info.End;
            if (info.End > info.Begin || previous is null)
            {
                previous = info;
            }
        }
        if (expected != dataLength)
        {
            string last = previous is null ? "the header lists no tensor data" : $"the last tensor, '{previous.Name}', ends at {expected}";
            throw new SafeTensorsFormatException(path, null,
                $"the data region is {dataLength} bytes but {last}; {dataLength - expected} bytes belong to no tensor");
        }
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("the header ends in the middle of its JSON object");
        }
    }

    /// <summary>The current string or property name; escapes that decode to invalid UTF-16 are a format error.</summary>
    private static string ReadString(ref Utf8JsonReader reader, string path, string? tensor, string what)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new SafeTensorsFormatException(path, tensor,
                $"{what} in the header has an escape that is not valid UTF-16 (a lone surrogate such as \\ud800): {e.Message}", e);
        }
    }

    /// <summary>Whether the current string or property name is <paramref name="utf8"/>, without allocating for plain text.</summary>
    private static bool TextIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string path, string? tensor)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual(utf8);
        }
        return ReadString(ref reader, path, tensor, "a field name") == Encoding.UTF8.GetString(utf8);
    }

    /// <summary>The current value as written, for messages (arrays and objects are described, not quoted).</summary>
    private static string Shown(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "\"" + Truncate(Encoding.UTF8.GetString(reader.ValueSpan)) + "\"",
        _ => Truncate(Encoding.UTF8.GetString(reader.ValueSpan)),
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static void ParseMetadata(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SafeTensorsFormatException(path, null,
                $"'__metadata__' is a JSON {Describe(reader.TokenType)}, expected an object of strings");
        }
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return;
            }
            string key = ReadString(ref reader, path, null, "a '__metadata__' key");
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"'__metadata__' entry '{key}' is a JSON {Describe(reader.TokenType)}, expected a string");
            }
            string value = ReadString(ref reader, path, null, $"'__metadata__' entry '{key}'");
            if (!metadata.TryAdd(key, value))
            {
                throw new SafeTensorsFormatException(path, null, $"'__metadata__' has the key '{key}' twice");
            }
        }
    }

    private static SafeTensorInfo ParseTensor(ref Utf8JsonReader reader, string path, string name, long dataLength)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SafeTensorsFormatException(path, name,
                $"entry is a JSON {Describe(reader.TokenType)}, expected an object with dtype, shape and data_offsets");
        }

        string? dtype = null;
        long[]? shape = null;
        long begin = -1, end = -1;
        bool offsetsSeen = false;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }
            if (TextIs(ref reader, "dtype"u8, path, name))
            {
                Next(ref reader);
                if (dtype is not null)
                {
                    throw new SafeTensorsFormatException(path, name, "entry has 'dtype' twice");
                }
                dtype = ReadDType(ref reader, path, name);
            }
            else if (TextIs(ref reader, "shape"u8, path, name))
            {
                Next(ref reader);
                if (shape is not null)
                {
                    throw new SafeTensorsFormatException(path, name, "entry has 'shape' twice");
                }
                shape = ReadShape(ref reader, path, name);
            }
            else if (TextIs(ref reader, "data_offsets"u8, path, name))
            {
                Next(ref reader);
                if (offsetsSeen)
                {
                    throw new SafeTensorsFormatException(path, name, "entry has 'data_offsets' twice");
                }
                offsetsSeen = true;
                (begin, end) = ReadOffsets(ref reader, path, name);
            }
            else
            {
                // Other fields carry nothing this reader needs; their names must still be valid text.
                ReadString(ref reader, path, name, "a field name");
                Next(ref reader);
                reader.Skip();
            }
        }

        if (dtype is null)
        {
            throw new SafeTensorsFormatException(path, name, "entry is missing 'dtype'");
        }
        if (shape is null)
        {
            throw new SafeTensorsFormatException(path, name, "entry is missing 'shape'");
        }
        if (!offsetsSeen)
        {
            throw new SafeTensorsFormatException(path, name, "entry is missing 'data_offsets'");
        }
        if (begin > end)
        {
            throw new SafeTensorsFormatException(path, name, $"data_offsets begin {begin} is greater than end {end}");
        }
        if (end > dataLength)
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets [{begin}, {end}] lie outside the data region ({dataLength} bytes after the header)");
        }

        // Every dimension counts towards overflow, even when another is zero: libtorch computes strides from the
        // non-zero sizes, and a tensor it cannot describe must not get past the header.
        int itemSize = SafeTensorDTypes.ItemSize(dtype);
        long nonZeroProduct = 1;
        bool empty = false;
        long bytesOfNonZero;
        try
        {
            foreach (long d in shape)
            {
                if (d == 0)
                {
                    empty = true;
                }
                else
                {
                    nonZeroProduct = checked(nonZeroProduct * d);
                }
            }
            bytesOfNonZero = checked(nonZeroProduct * itemSize);
        }
        catch (OverflowException e)
        {
            throw new SafeTensorsFormatException(path, name,
                $"shape [{string.Join(", ", shape)}] of {dtype} needs more bytes than a 64-bit count can hold" +
                (empty ? " (counting its non-zero dimensions; a zero dimension does not make the others valid)" : ""), e);
        }
        long elements = empty ? 0 : nonZeroProduct;
        long expected = empty ? 0 : bytesOfNonZero;
        if (end - begin != expected)
        {
            throw new SafeTensorsFormatException(path, name,
                $"byte length {end - begin} (data_offsets [{begin}, {end}]) does not match shape " +
                $"[{string.Join(", ", shape)}] of {dtype}, which needs {elements} x {itemSize} = {expected} bytes");
        }

        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static string ReadDType(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new SafeTensorsFormatException(path, name,
                $"'dtype' is a JSON {Describe(reader.TokenType)}, expected a string");
        }
        if (!reader.ValueIsEscaped)
        {
            foreach (string known in SafeTensorDTypes.Supported)
            {
                if (reader.ValueTextEquals(known))
                {
                    return known;
                }
            }
        }
        string dtype = ReadString(ref reader, path, name, "'dtype'");
        foreach (string known in SafeTensorDTypes.Supported)
        {
            if (dtype == known)
            {
                return known;
            }
        }
        throw new SafeTensorsFormatException(path, name,
            $"unknown or unsupported dtype '{Truncate(dtype)}' (supported: {string.Join(", ", SafeTensorDTypes.Supported)})");
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new SafeTensorsFormatException(path, name,
                $"'shape' is a JSON {Describe(reader.TokenType)}, expected an array of non-negative integers");
        }
        Span<long> dims = stackalloc long[MaxDimensions];
        int axis = 0;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return dims[..axis].ToArray();
            }
            if (axis == MaxDimensions)
            {
                throw new SafeTensorsFormatException(path, name, $"shape has more than {MaxDimensions} dimensions");
            }
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d))
            {
                throw new SafeTensorsFormatException(path, name,
                    $"shape[{axis}] is {Shown(ref reader)}, expected a non-negative integer");
            }
            if (d < 0)
            {
                throw new SafeTensorsFormatException(path, name, $"shape[{axis}] is negative ({d})");
            }
            dims[axis++] = d;
        }
    }

    private static (long Begin, long End) ReadOffsets(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new SafeTensorsFormatException(path, name,
                $"'data_offsets' is {Shown(ref reader)}, expected [begin, end]");
        }
        Span<long> values = stackalloc long[2];
        int count = 0;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                break;
            }
            if (count == 2)
            {
                throw new SafeTensorsFormatException(path, name, "'data_offsets' has more than two values, expected [begin, end]");
            }
            values[count] = ReadOffset(ref reader, path, name, count == 0 ? "begin" : "end");
            count++;
        }
        if (count != 2)
        {
            throw new SafeTensorsFormatException(path, name, $"'data_offsets' has {count} value{(count == 1 ? "" : "s")}, expected [begin, end]");
        }
        return (values[0], values[1]);
    }

    private static long ReadOffset(ref Utf8JsonReader reader, string path, string name, string which)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value))
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets {which} is {Shown(ref reader)}, expected a non-negative integer");
        }
        if (value < 0)
        {
            throw new SafeTensorsFormatException(path, name, $"data_offsets {which} is negative ({value})");
        }
        return value;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString().ToLowerInvariant(),
    };

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Directory => "a folder",
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };
}

/// <summary>Writes safetensors files.</summary>
public static class SafeTensors
{
    private const long CopyChunkBytes = 1L << 30;

    /// <summary>Reads a whole safetensors file into a dictionary of CPU tensors (see <see cref="SafeTensorsFile.LoadAll"/>).</summary>
    /// <param name="path">Path of the <c>.safetensors</c> file.</param>
    public static Dictionary<string, torch.Tensor> LoadAll(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.LoadAll();
    }

    /// <summary>
    /// Writes tensors to a safetensors file. Header keys keep the given order, with <c>__metadata__</c> first when
    /// given; the header is padded with spaces to a multiple of 8 bytes; tensor data is written contiguous and
    /// little-endian in the same order. The file is written to a temporary file next to <paramref name="path"/> and
    /// then moved over it, so readers never see a half-written file; the temporary file is deleted on failure.
    /// The given tensors are not modified or disposed; they may live on any device.
    /// </summary>
    /// <param name="path">Destination path; an existing file is replaced.</param>
    /// <param name="tensors">Name/tensor pairs, in the order to store them.</param>
    /// <param name="metadata">Optional string map stored as <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A name is empty, <c>__metadata__</c>, or repeated, a tensor is null, or its
    /// element type is not supported.</exception>
    public static void Save(
        string path,
        IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported.");
        }

        var entries = new List<(string Name, torch.Tensor Tensor, string DType, long Begin, long End)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException($"Tensor #{entries.Count} has an empty name.", nameof(tensors));
            }
            if (name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is reserved and cannot be a tensor name.", nameof(tensors));
            }
            if (!names.Add(name))
            {
                throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(tensors));
            }
            if (tensor is null)
            {
                throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
            }
            string dtype;
            try
            {
                dtype = SafeTensorDTypes.FromScalarType(tensor.dtype);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Tensor '{name}': {e.Message}", nameof(tensors), e);
            }
            long bytes = checked(tensor.NumberOfElements * SafeTensorDTypes.ItemSize(dtype));
            entries.Add((name, tensor, dtype, offset, offset + bytes));
            offset += bytes;
        }

        byte[] header = BuildHeader(entries.Select(e => (e.Name, e.DType, (IReadOnlyList<long>)e.Tensor.shape, e.Begin, e.End)), metadata);

        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string tempPath = System.IO.Path.Combine(
            directory,
            System.IO.Path.GetFileName(path) + ".tmp-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12]);
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var entry in entries)
                {
                    WriteTensorData(stream, entry.Name, entry.Tensor, entry.End - entry.Begin);
                }
                stream.Flush(flushToDisk: true);
                // Renamed while still open (and locked) where the system allows it, so that
                // RemoveLeftoverTemporaryFiles never sees a finished file under its temporary name unlocked.
                if (!OperatingSystem.IsWindows())
                {
                    File.Move(tempPath, path, overwrite: true);
                }
            }
            if (OperatingSystem.IsWindows())
            {
                File.Move(tempPath, path, overwrite: true);
            }
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(tempPath);
            }
            catch (IOException)
            {
                // The original exception matters more than a leftover temporary file.
            }
            catch (UnauthorizedAccessException)
            {
                // Same as above.
            }
            if (e is IOException or UnauthorizedAccessException)
            {
                throw NamingTheDestination(e, tempPath, path);
            }
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files an interrupted <see cref="Save"/> to <paramref name="path"/> left next to it
    /// (<c>name.tmp-</c> and 12 hexadecimal digits) and returns how many. A file that a running <see cref="Save"/>
    /// holds (it is locked while written) is left alone, as is anything whose name does not match exactly.
    /// </summary>
    public static int RemoveLeftoverTemporaryFiles(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        string prefix = System.IO.Path.GetFileName(full) + ".tmp-";
        int removed = 0;
        foreach (string candidate in Directory.EnumerateFiles(directory, prefix + "*").ToList())
        {
            string suffix = System.IO.Path.GetFileName(candidate)[prefix.Length..];
            if (suffix.Length != 12 || !suffix.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                continue;
            }
            if (FileProbe.LinkStat(candidate).Kind != FileKind.Regular)
            {
                continue;
            }
            try
            {
                using var locked = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                removed++;
            }
            catch (IOException)
            {
                // Held by a Save in progress, or already gone.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to delete.
            }
        }
        return removed;
    }

    /// <summary>
    /// The same failure with a message that names the file the caller asked for rather than the temporary file next
    /// to it (which no longer exists).
    /// </summary>
    internal static Exception NamingTheDestination(Exception e, string temporary, string destination)
    {
        string message = e.Message.Contains(temporary, StringComparison.Ordinal)
            ? e.Message.Replace(temporary, destination, StringComparison.Ordinal)
            : $"{e.Message} (while writing '{destination}')";
        return e is UnauthorizedAccessException ? new UnauthorizedAccessException(message, e) : new IOException(message, e);
    }

    /// <summary>
    /// The JSON header of a safetensors file, padded with spaces to a multiple of 8 bytes: <c>__metadata__</c> first
    /// (when given), then one entry per tensor in the given order.
    /// </summary>
    internal static byte[] BuildHeader(
        IEnumerable<(string Name, string DType, IReadOnlyList<long> Shape, long Begin, long End)> entries,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    if (key is null || value is null)
                    {
                        throw new ArgumentException("Metadata keys and values must not be null.", nameof(metadata));
                    }
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType);
                writer.WriteStartArray("shape");
                foreach (long d in entry.Shape)
                {
                    writer.WriteNumberValue(d);
                }
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        int length = buffer.WrittenCount;
        int padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private static void WriteTensorData(Stream stream, string name, torch.Tensor tensor, long byteLength)
    {
        if (byteLength == 0)
        {
            return;
        }
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        if (cpu.NumberOfElements * cpu.ElementSize != byteLength)
        {
            throw new InvalidOperationException($"Tensor '{name}' changed size while it was being saved.");
        }
        if (byteLength <= CopyChunkBytes)
        {
            stream.Write(cpu.bytes);
            return;
        }
        long itemSize = cpu.ElementSize;
        long elementsPerChunk = CopyChunkBytes / itemSize;
        long total = cpu.NumberOfElements;
        var flat = cpu.flatten();
        for (long start = 0; start < total; start += elementsPerChunk)
        {
            long count = Math.Min(elementsPerChunk, total - start);
            var part = flat.narrow(0, start, count);
            stream.Write(part.bytes);
            part.Dispose();
        }
    }
}
