using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using RnaLm.IO;
using RnaLm.Tokenization;
using RnaLm.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnaLm.Tests.Reliability;

/// <summary>
/// Seeded hostile FASTA and dot-bracket files and tokenizer text: every file reads to records or fails with a
/// <see cref="FormatException"/> naming it, every text encodes to ids inside the vocabulary, and managed allocation
/// stays within a small multiple of the input.
/// </summary>
public sealed class TextFuzzTests : IDisposable
{
    private static readonly string[] Pieces =
    {
        "ACGU", "acgu", "T", "N", "RYSWKM", "<mask>", "<mask", "mask>", "<<mask>>", "<pad>", "<cls>", "<eos>", "<unk>", "<null>",
        "-", ".", "*", "?", "|", "I", "X", "Z", "0", "9", " ", "\t", "\u00df", "\u0130", "\u212a", "\ud83e\uddec", "\ud800", "\udfff",
        "\u0000", "\u200b", "\ufeff", "\u0301", ">", ";", "\r", "\n",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("rnalm-fuzz-text-").FullName;
    private readonly ITestOutputHelper _output;

    public TextFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Text(Random rng, int maxPieces)
    {
        var text = new StringBuilder();
        int count = rng.Next(maxPieces + 1);
        for (int i = 0; i < count; i++) text.Append(Pieces[rng.Next(Pieces.Length)]);
        return text.ToString();
    }

    private static byte[] HostileFile(Random rng, bool dotBracket)
    {
        var lines = new List<string>();
        int records = rng.Next(0, 6);
        for (int r = 0; r < records; r++)
        {
            lines.Add(rng.Next(8) switch
            {
                0 => ">",
                1 => "> ",
                2 => ">" + new string('n', rng.Next(1, 3000)),
                3 => $">r{rng.Next(3)} {Text(rng, 4)}",
                4 => ">" + Text(rng, 3),
                _ => $">rec{r} desc",
            });
            if (rng.Next(10) == 0) lines.Add(";" + Text(rng, 3));
            if (rng.Next(10) == 0) lines.Add("");
            int sequenceLines = dotBracket ? 1 : rng.Next(0, 3);
            string sequence = "";
            for (int s = 0; s < sequenceLines; s++)
            {
                string line = rng.Next(6) == 0 ? new string('A', rng.Next(1, 20000)) : Text(rng, 12);
                sequence += line;
                lines.Add(line);
            }
            if (dotBracket)
            {
                int length = rng.Next(4) == 0 ? sequence.Length + rng.Next(-2, 3) : sequence.Length;
                lines.Add(new string(Enumerable.Range(0, Math.Max(0, length)).Select(_ => "().[]{}<>Aa."[rng.Next(12)]).ToArray()));
            }
        }
        string newline = new[] { "\n", "\r\n", "\r" }[rng.Next(3)];
        byte[] bytes = Encoding.UTF8.GetBytes(string.Join(newline, lines) + (rng.Next(2) == 0 ? newline : ""));
        switch (rng.Next(6))
        {
            case 0: return Encoding.UTF8.GetPreamble().Concat(bytes).ToArray();
            case 1:
                if (bytes.Length > 0) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(0x80, 0x100); // invalid UTF-8
                return bytes;
            case 2:
                var noise = new byte[rng.Next(1, 64)];
                rng.NextBytes(noise);
                return bytes.Concat(noise).ToArray();
            default:
                return bytes;
        }
    }

    [Fact]
    public void HostileSequenceFilesReadToRecordsOrFailNamingTheFile()
    {
        int cases = FuzzSettings.Cases(600);
        int seed = FuzzSettings.Seed(23);
        var rng = new Random(seed);
        var failures = new List<string>();
        int read = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            bool dotBracket = rng.Next(3) == 0;
            byte[] bytes = HostileFile(rng, dotBracket);
            string path = Path.Combine(_dir, $"case-{i}.{(dotBracket ? "dbn" : "fasta")}");
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var records = SequenceFiles.Read(path);
                read++;
                if (records.Any(r => r.Name.Length == 0 || r.Sequence.Length == 0)) failures.Add($"case {i}: a record without a name or sequence");
                if (records.Select(r => r.Name).Distinct(StringComparer.Ordinal).Count() != records.Count) failures.Add($"case {i}: duplicate names accepted");
            }
            catch (FormatException e)
            {
                refused++;
                if (!e.Message.Contains(path, StringComparison.Ordinal)) failures.Add($"case {i}: the message does not name the file: {e.Message}");
            }
            catch (Exception e)
            {
                failures.Add($"case {i}: {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > 32L * bytes.Length + 256 * 1024) failures.Add($"case {i}: {allocated:N0} bytes allocated for a {bytes.Length:N0}-byte file");
            File.Delete(path);
        }
        _output.WriteLine($"{cases} files (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {read} read, {refused} refused");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        Assert.True(read > cases / 10 && refused > cases / 10, $"{read} read, {refused} refused: the cases do not exercise both paths");
    }

    [Fact]
    public void HostileTextEncodesToIdsInsideTheVocabulary()
    {
        int cases = FuzzSettings.Cases(1500);
        int seed = FuzzSettings.Seed(29);
        var rng = new Random(seed);
        var tokenizers = new[]
        {
            new RnaTokenizer(Vocabulary.RnaStandard28(), new TokenizerOptions { ModelMaxLength = 64 }),
            new RnaTokenizer(Vocabulary.RnaLegacy26(), new TokenizerOptions { UpperCase = false, ReplaceTWithU = false }),
            new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3, ModelMaxLength = 32 }),
            new RnaTokenizer(Vocabulary.RnaKmer(4), new TokenizerOptions { Nmers = 4, AddBos = false }),
        };
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var tokenizer = tokenizers[rng.Next(tokenizers.Length)];
            string text = rng.Next(20) == 0 ? new string('G', rng.Next(1, 50000)) : Text(rng, 20);
            string? pair = rng.Next(4) == 0 ? Text(rng, 6) : null;
            var options = new EncodeOptions
            {
                Truncation = rng.Next(3) == 0,
                MaxLength = rng.Next(3) == 0 ? rng.Next(4, 40) : null,
                Padding = rng.Next(3) == 0 ? PaddingStrategy.Longest : PaddingStrategy.None,
            };
            if (options.Truncation && options.MaxLength is null && tokenizer.Options.ModelMaxLength is null) options = options with { Truncation = false };
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var encoding = tokenizer.Encode(text, pair, options);
                if (encoding.InputIds.Length != encoding.AttentionMask.Length) failures.Add($"case {i}: ids and mask differ in length");
                if (encoding.InputIds.Any(id => id < 0 || id >= tokenizer.Vocabulary.Count)) failures.Add($"case {i}: an id outside the vocabulary");
                if (options.Truncation && encoding.Length > (options.MaxLength ?? tokenizer.Options.ModelMaxLength)) failures.Add($"case {i}: truncation left {encoding.Length} tokens");
                var batch = tokenizer.EncodeBatch(new[] { text, Text(rng, 5) }, options with { Padding = PaddingStrategy.Longest });
                if (batch.InputIds.Select(r => r.Length).Distinct().Count() != 1) failures.Add($"case {i}: a padded batch has rows of different lengths");
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({Escape(text)}, pair {Escape(pair)}): {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long input = 2L * (text.Length + (pair?.Length ?? 0));
            if (allocated > 64 * input + 64 * 1024) failures.Add($"case {i}: {allocated:N0} bytes allocated for {input:N0} bytes of text");
        }
        _output.WriteLine($"{cases} texts (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    private static string Escape(string? text) =>
        text is null ? "null" : string.Concat(text.Take(40).Select(c => c < ' ' || c > '~' ? $"\\u{(int)c:x4}" : c.ToString()));
}
