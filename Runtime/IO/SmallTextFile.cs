using System;
using System.IO;
using System.Text;

namespace RnaLm.IO;

/// <summary>
/// Reads the small text files of a model folder (config.json, tokenizer_config.json, vocab.txt): only regular files
/// (a FIFO or device would block or never end) and only up to a size no such file approaches.
/// </summary>
public static class SmallTextFile
{
    /// <summary>The largest file read (64 MB; a k-mer vocabulary of 8-mers is under 1 MB).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>Reads <paramref name="path"/> as UTF-8 (a byte-order mark is skipped).</summary>
    /// <param name="path">The file.</param>
    /// <param name="invalid">Makes the exception for a file that is not a regular file or is too large, from a description.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static string Read(string path, Func<string, Exception> invalid)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(invalid);
        var status = FileProbe.Stat(path);
        if (status.Kind == FileKind.Missing) throw new FileNotFoundException($"'{path}' does not exist.", path);
        if (status.Kind != FileKind.Regular) throw invalid($"{path}: not a regular file ({status.Kind}).");
        long length = new FileInfo(path).Length;
        if (length > MaxBytes) throw invalid($"{path}: {length:N0} bytes, more than the {MaxBytes / (1024 * 1024)} MB such a file may have.");
        return File.ReadAllText(path, Encoding.UTF8);
    }
}
