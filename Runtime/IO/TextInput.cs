using System;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Threading;

namespace RnaLm.IO;

/// <summary>
/// Opens sequence files for reading: <c>-</c> is standard input, and gzip-compressed content (recognised by its magic
/// bytes, whatever the file is called) is decompressed on the fly, so <c>seqs.fasta.gz</c> and a gzipped stream on
/// stdin read like plain text.
/// </summary>
public static class TextInput
{
    /// <summary>The path that stands for standard input (and, for outputs, standard output).</summary>
    public const string StandardStreamPath = "-";

    private static readonly AsyncLocal<Func<Stream>?> StandardInputOverride = new();

    /// <summary>
    /// Replaces standard input for the current asynchronous flow (in-process callers such as tests give the command
    /// line its input this way); null restores the process's standard input.
    /// </summary>
    public static Func<Stream>? StandardInput
    {
        get => StandardInputOverride.Value;
        set => StandardInputOverride.Value = value;
    }

    /// <summary>Whether <paramref name="path"/> names standard input.</summary>
    public static bool IsStandardStream(string? path) => path == StandardStreamPath;

    /// <summary>
    /// Opens <paramref name="path"/> (or standard input for <c>-</c>) as UTF-8 text, decompressing gzip content.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static TextReader Open(string path, string what = "Input file")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Stream raw;
        if (IsStandardStream(path))
        {
            raw = StandardInput?.Invoke() ?? Console.OpenStandardInput();
        }
        else
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
            }
            raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 14);
        }
        Stream content;
        try
        {
            var magic = new byte[2];
            int read = raw.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            var replayed = new PrefixedStream(magic.AsSpan(0, read).ToArray(), raw);
            content = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b
                ? new GzipContent(new GZipStream(replayed, CompressionMode.Decompress), IsStandardStream(path) ? "standard input" : path)
                : replayed;
        }
        catch
        {
            raw.Dispose();
            throw;
        }
        // Buffers of 16 KiB: large enough for throughput, small enough that a tiny file costs little.
        return new StreamReader(content, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 14);
    }

    /// <summary>Whether the file at <paramref name="path"/> starts with the gzip magic bytes.</summary>
    public static bool IsGzip(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 16);
        Span<byte> magic = stackalloc byte[2];
        return stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    /// <summary>The file name without a trailing <c>.gz</c>, so <c>x.dbn.gz</c> is recognised by its <c>.dbn</c>.</summary>
    public static string WithoutGzipSuffix(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;

    /// <summary>A read-only stream that returns <c>prefix</c> and then the rest of <c>inner</c> (bytes read to sniff the format).</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : ForwardOnlyStream(inner)
    {
        private int _position;

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return Inner.Read(buffer);
        }
    }

    /// <summary>Decompressed gzip content whose corruption is a <see cref="FormatException"/> naming the input.</summary>
    private sealed class GzipContent(GZipStream inner, string name) : ForwardOnlyStream(inner)
    {
        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw new FormatException($"{name}: the gzip-compressed content is damaged: {e.Message}", e);
            }
        }
    }

    /// <summary>A read-only, forward-only stream over <c>inner</c>, which it disposes; subclasses supply <c>Read(Span)</c>.</summary>
    private abstract class ForwardOnlyStream(Stream inner) : Stream
    {
        protected Stream Inner { get; } = inner;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public abstract override int Read(Span<byte> buffer);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) Inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
