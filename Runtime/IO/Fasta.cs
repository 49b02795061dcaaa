using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RnaLm.IO;

/// <summary>One FASTA record.</summary>
/// <param name="Name">The first whitespace-separated word of the header (after <c>&gt;</c>).</param>
/// <param name="Description">The rest of the header, trimmed; empty when the header is only a name.</param>
/// <param name="Sequence">All sequence lines concatenated, with line breaks removed and nothing else changed
/// (case, <c>&lt;mask&gt;</c> and spaces inside a line are kept).</param>
/// <param name="Line">1-based line number of the header.</param>
public sealed record FastaRecord(string Name, string Description, string Sequence, int Line);

/// <summary>
/// Reads FASTA files. Blank lines and lines starting with <c>;</c> are skipped. Errors are
/// <see cref="FormatException"/>s whose message starts with <c>file:line:</c>: sequence text before the first
/// header, a header without a name, a record without sequence, and a record name used twice (the CLI writes
/// outputs keyed by record name, so names must be unique).
/// </summary>
public static class FastaReader
{
    /// <summary>Reads the records of a FASTA file lazily, in file order (<c>-</c>: standard input; gzip content is decompressed).</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="FileNotFoundException">The file does not exist (thrown immediately).</exception>
    public static IEnumerable<FastaRecord> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!TextInput.IsStandardStream(path) && !File.Exists(path))
        {
            throw new FileNotFoundException($"FASTA file '{path}' does not exist.", path);
        }
        return ReadFile(path);
    }

    /// <summary>Parses FASTA text lazily, in order.</summary>
    /// <param name="reader">The text to parse; it is read to the end but not disposed.</param>
    /// <param name="sourceName">The name used in error messages (usually the file path).</param>
    public static IEnumerable<FastaRecord> Parse(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        return ParseCore(reader, sourceName);
    }

    private static IEnumerable<FastaRecord> ReadFile(string path)
    {
        using var reader = TextInput.Open(path);
        foreach (var record in ParseCore(reader, TextInput.IsStandardStream(path) ? "<stdin>" : path))
        {
            yield return record;
        }
    }

    private static IEnumerable<FastaRecord> ParseCore(TextReader reader, string sourceName)
    {
        var firstLineOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        var sequence = new StringBuilder();
        string? name = null;
        string description = string.Empty;
        int headerLine = 0;
        int lineNumber = 0;

        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line[0] == ';')
            {
                continue;
            }

            if (line[0] == '>')
            {
                if (name is not null)
                {
                    yield return Complete(sourceName, name, description, sequence, headerLine);
                }

                (name, description) = SplitHeader(line, sourceName, lineNumber);
                if (firstLineOfName.TryGetValue(name, out int firstLine))
                {
                    throw new FormatException(
                        $"{sourceName}:{lineNumber}: duplicate record name '{name}' (first used at line {firstLine}); " +
                        "record names must be unique because outputs are keyed by name.");
                }
                firstLineOfName.Add(name, lineNumber);
                headerLine = lineNumber;
                sequence.Clear();
                continue;
            }

            if (name is null)
            {
                throw new FormatException(
                    $"{sourceName}:{lineNumber}: sequence text before the first '>' header line.");
            }
            sequence.Append(line);
        }

        if (name is not null)
        {
            yield return Complete(sourceName, name, description, sequence, headerLine);
        }
    }

    private static FastaRecord Complete(string sourceName, string name, string description, StringBuilder sequence, int headerLine)
    {
        if (sequence.Length == 0)
        {
            throw new FormatException($"{sourceName}:{headerLine}: record '{name}' has an empty sequence.");
        }
        return new FastaRecord(name, description, sequence.ToString(), headerLine);
    }

    internal static (string Name, string Description) SplitHeader(string line, string sourceName, int lineNumber)
    {
        var text = line.AsSpan(1).Trim();
        if (text.IsEmpty)
        {
            throw new FormatException($"{sourceName}:{lineNumber}: header line has no record name after '>'.");
        }
        int space = 0;
        while (space < text.Length && !char.IsWhiteSpace(text[space]))
        {
            space++;
        }
        return (text[..space].ToString(), text[space..].Trim().ToString());
    }
}

/// <summary>One record of a dot-bracket (<c>.dbn</c>) file.</summary>
/// <param name="Name">The first whitespace-separated word of the header (after <c>&gt;</c>).</param>
/// <param name="Sequence">The sequence line, exactly as written.</param>
/// <param name="Structure">The dot-bracket structure line (<c>.()[]{}&lt;&gt;</c>), as long as the sequence.</param>
/// <param name="Line">1-based line number of the header.</param>
public sealed record DotBracketRecord(string Name, string Sequence, string Structure, int Line);

/// <summary>
/// Reads dot-bracket files with three lines a record: <c>&gt;name</c>, the sequence, the structure (as in
/// bpRNA and ArchiveII <c>.dbn</c> files). Blank lines and <c>;</c> comment lines between records are skipped.
/// Errors are <see cref="FormatException"/>s whose message starts with <c>file:line:</c>.
/// </summary>
public static class DotBracketReader
{
    /// <summary>Reads the records of a dot-bracket file lazily, in file order (<c>-</c>: standard input; gzip content is decompressed).</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="FileNotFoundException">The file does not exist (thrown immediately).</exception>
    public static IEnumerable<DotBracketRecord> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!TextInput.IsStandardStream(path) && !File.Exists(path))
        {
            throw new FileNotFoundException($"Dot-bracket file '{path}' does not exist.", path);
        }
        return ReadFile(path);
    }

    /// <summary>Parses dot-bracket text lazily, in order.</summary>
    /// <param name="reader">The text to parse; it is read to the end but not disposed.</param>
    /// <param name="sourceName">The name used in error messages (usually the file path).</param>
    public static IEnumerable<DotBracketRecord> Parse(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        return ParseCore(reader, sourceName);
    }

    private static IEnumerable<DotBracketRecord> ReadFile(string path)
    {
        using var reader = TextInput.Open(path);
        foreach (var record in ParseCore(reader, TextInput.IsStandardStream(path) ? "<stdin>" : path))
        {
            yield return record;
        }
    }

    private static IEnumerable<DotBracketRecord> ParseCore(TextReader reader, string sourceName)
    {
        var firstLineOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line[0] == ';')
            {
                continue;
            }
            if (line[0] != '>')
            {
                throw new FormatException(
                    $"{sourceName}:{lineNumber}: expected a '>' header line starting a record, found \"{Preview(line)}\".");
            }
            int headerLine = lineNumber;
            var (name, _) = FastaReader.SplitHeader(line, sourceName, lineNumber);
            if (firstLineOfName.TryGetValue(name, out int firstLine))
            {
                throw new FormatException(
                    $"{sourceName}:{lineNumber}: duplicate record name '{name}' (first used at line {firstLine}).");
            }
            firstLineOfName.Add(name, lineNumber);

            string sequence = NextLine(reader, ref lineNumber, sourceName, name, "sequence");
            int sequenceLine = lineNumber;
            string structure = NextLine(reader, ref lineNumber, sourceName, name, "structure");
            if (structure.Length != sequence.Length)
            {
                throw new FormatException(
                    $"{sourceName}:{lineNumber}: record '{name}' has a structure of length {structure.Length} but its " +
                    $"sequence (line {sequenceLine}) has length {sequence.Length}.");
            }
            yield return new DotBracketRecord(name, sequence, structure, headerLine);
        }
    }

    private static string NextLine(TextReader reader, ref int lineNumber, string sourceName, string name, string what)
    {
        string? line = reader.ReadLine();
        if (line is null)
        {
            throw new FormatException(
                $"{sourceName}:{lineNumber}: record '{name}' ends before its {what} line (3 lines a record: header, sequence, structure).");
        }
        lineNumber++;
        if (line.Length == 0 || line[0] == '>')
        {
            throw new FormatException(
                $"{sourceName}:{lineNumber}: record '{name}' has no {what} line (found {(line.Length == 0 ? "an empty line" : "a header")}; " +
                "3 lines a record: header, sequence, structure).");
        }
        return line;
    }

    private static string Preview(string line) => line.Length <= 40 ? line : line[..40] + "...";
}
