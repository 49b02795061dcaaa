using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Tokenization;
using TorchSharp;
using Xunit;

namespace RnaLm.Tests.Runtime;

public sealed class TokenizerTests
{
    // ---- fixtures ----------------------------------------------------------------------------------------------

    private static readonly Lazy<Dictionary<string, string[]>> Vocabs = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Tokenizer, "vocabs.json")));
        return document.RootElement.EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(t => t.GetString()!).ToArray());
    });

    private static readonly Lazy<Dictionary<string, JsonElement>> Cases = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Tokenizer, "cases.json")));
        return document.RootElement.EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());
    });

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Value.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    public static TheoryData<string> ModelVariants() => new()
    {
        "ernierna", "ernierna-legacy", "ernierna-ss", "ncrnabert", "ncrnabert-3mer", "rnaernie", "splicebert", "splicebert.510",
    };

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static string? NullableString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? NullableInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    private static RnaTokenizer Standard(TokenizerOptions? options = null) =>
        new(Vocabulary.RnaStandard28(), options ?? new TokenizerOptions());

    // ---- vocabularies ------------------------------------------------------------------------------------------

    [Fact]
    public void BuiltInVocabulariesEqualTheFixtureLists()
    {
        Assert.Equal(Vocabs.Value["standard28"], Vocabulary.RnaStandard28().Tokens);
        Assert.Equal(Vocabs.Value["legacy26"], Vocabulary.RnaLegacy26().Tokens);
        Assert.Equal(Vocabs.Value["kmer3"], Vocabulary.RnaKmer(3).Tokens);
        Assert.Equal(131, Vocabulary.RnaKmer(3).Count);
        Assert.Equal(11, Vocabulary.RnaKmer(1).Count);
        Assert.Equal(Vocabs.Value["standard28"].Take(6), Vocabulary.SpecialTokens);
    }

    [Fact]
    public void KmerIdsFollowTheProductFormula()
    {
        var vocabulary = Vocabulary.RnaKmer(3);
        const string alphabet = "ACGUN";
        foreach (var token in new[] { "AAA", "AAC", "UAG", "NNN", "GCU", "CNA" })
        {
            int expected = 6 + 25 * alphabet.IndexOf(token[0]) + 5 * alphabet.IndexOf(token[1]) + alphabet.IndexOf(token[2]);
            Assert.True(vocabulary.TryGetId(token, out int id));
            Assert.Equal(expected, id);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.RnaKmer(0));
    }

    [Fact]
    public void WellKnownIdsAreFoundOrNull()
    {
        var standard = Vocabulary.RnaStandard28();
        Assert.Equal((0, 1, 2, 3, 4, 5), (standard.PadId, standard.BosId, standard.EosId, standard.UnkId, standard.MaskId, standard.NullId));
        var bare = new Vocabulary(["A", "C", "<unk>"]);
        Assert.Null(bare.PadId);
        Assert.Null(bare.BosId);
        Assert.Equal(2, bare.UnkId);
        Assert.Equal("C", bare[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => bare[3]);
        Assert.True(bare.TryGetId("A".AsSpan(), out int a));
        Assert.Equal(0, a);
        Assert.False(bare.TryGetId("G", out int missing));
        Assert.Equal(-1, missing);
    }

    [Fact]
    public void VocabularyRejectsDuplicatesNamingTokenAndBothIds()
    {
        var e = Assert.Throws<ArgumentException>(() => new Vocabulary(["<pad>", "A", "C", "A"]));
        Assert.Contains("'A'", e.Message);
        Assert.Contains("ids 1 and 3", e.Message);
    }

    [Fact]
    public void VocabularyLoadReadsFixtureFiles()
    {
        Assert.Equal(Vocabs.Value["standard28"], Vocabulary.Load(Path.Combine(Fixtures.Models("splicebert"), "vocab.txt")).Tokens);
        Assert.Equal(Vocabs.Value["legacy26"], Vocabulary.Load(Path.Combine(Fixtures.Models("ncrnabert"), "vocab.txt")).Tokens);
        Assert.Equal(Vocabs.Value["kmer3"], Vocabulary.Load(Path.Combine(Fixtures.Models("ncrnabert-3mer"), "vocab.txt")).Tokens);
    }

    [Fact]
    public void VocabularyLoadAcceptsCrLfAndNoFinalNewlineAndReportsBadLines()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnalm-vocab-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "vocab.txt");
            File.WriteAllText(path, "<pad>\r\nA\r\nC");
            Assert.Equal(["<pad>", "A", "C"], Vocabulary.Load(path).Tokens);

            File.WriteAllText(path, "<pad>\nA\n\nC\n");
            var e = Assert.Throws<FormatException>(() => Vocabulary.Load(path));
            Assert.StartsWith(path + ":3:", e.Message);
            Assert.Contains("empty line", e.Message);

            File.WriteAllText(path, "<pad>\nA\nC\nA\n");
            e = Assert.Throws<FormatException>(() => Vocabulary.Load(path));
            Assert.StartsWith(path + ":4:", e.Message);
            Assert.Contains("'A' already appears at line 2", e.Message);

            File.WriteAllText(path, "");
            e = Assert.Throws<FormatException>(() => Vocabulary.Load(path));
            Assert.Contains("empty", e.Message);

            Assert.Throws<FileNotFoundException>(() => Vocabulary.Load(Path.Combine(dir, "missing.txt")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- every fixture case ------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesFixtureCase(string name)
    {
        var c = Cases.Value[name];
        var o = c.GetProperty("options");
        var tokenizer = new RnaTokenizer(
            new Vocabulary(Vocabs.Value[c.GetProperty("vocab").GetString()!]),
            new TokenizerOptions
            {
                Nmers = o.GetProperty("nmers").GetInt32(),
                UpperCase = o.GetProperty("do_upper_case").GetBoolean(),
                ReplaceTWithU = o.GetProperty("replace_T_with_U").GetBoolean(),
                AddBos = NullableString(o, "bos_token") is not null,
                AddEos = NullableString(o, "eos_token") is not null,
            });
        var encodeOptions = new EncodeOptions
        {
            AddSpecialTokens = o.GetProperty("add_special_tokens").GetBoolean(),
            MaxLength = NullableInt(o, "max_length"),
            Truncation = o.GetProperty("truncation").GetBoolean(),
            Padding = NullableString(o, "padding") switch
            {
                null => PaddingStrategy.None,
                "max_length" => PaddingStrategy.MaxLength,
                "longest" => PaddingStrategy.Longest,
                var other => throw new InvalidOperationException($"unknown padding '{other}' in case {name}"),
            },
        };
        string text = c.GetProperty("text").GetString()!;
        string? pair = NullableString(c, "text_pair");

        var expectedTokens = c.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        int separator = expectedTokens.IndexOf("|pair|");
        if (separator >= 0)
        {
            Assert.Equal(expectedTokens.Take(separator), tokenizer.Tokenize(text));
            Assert.Equal(expectedTokens.Skip(separator + 1), tokenizer.Tokenize(pair!));
        }
        else
        {
            Assert.Equal(expectedTokens, tokenizer.Tokenize(text));
        }

        var encoded = tokenizer.Encode(text, pair, encodeOptions);
        Assert.Equal(Ints(c.GetProperty("input_ids")), encoded.InputIds);
        Assert.Equal(Ints(c.GetProperty("attention_mask")), encoded.AttentionMask);
        Assert.Equal(encoded.InputIds.Length, encoded.Length);

        if (pair is null)
        {
            var batch = tokenizer.EncodeBatch([text], encodeOptions);
            Assert.Equal(encoded.InputIds, batch.InputIds[0]);
            Assert.Equal(encoded.AttentionMask, batch.AttentionMask[0]);
        }
    }

    [Fact]
    public void LibraryDocstringExample()
    {
        var tokenizer = new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
        Assert.Equal([1, 83, 17, 64, 49, 96, 84, 22, 2], tokenizer.Encode("uagcuuauc").InputIds);
        Assert.Equal([1, 6, 7, 8, 9, 10, 2], Standard().Encode("ACGUN").InputIds);
    }

    // ---- model directories -------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(ModelVariants))]
    public void FromDirectoryReproducesTheModelCases(string variant)
    {
        string dir = Fixtures.Models(variant);
        var tokenizer = RnaTokenizer.FromDirectory(dir);
        Assert.Equal(variant == "ncrnabert-3mer" ? 3 : 1, tokenizer.Options.Nmers);

        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "cases.json")));
        int checkedCases = 0;
        foreach (var c in document.RootElement.EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var sequences = c.GetProperty("sequences").EnumerateArray().Select(s => s.GetString()!).ToArray();
            var expectedIds = c.GetProperty("input_ids").EnumerateArray().Select(Ints).ToArray();
            var expectedMask = c.GetProperty("attention_mask").EnumerateArray().Select(Ints).ToArray();

            var batch = tokenizer.EncodeBatch(sequences);
            Assert.True(expectedIds.Length == batch.BatchSize, $"{variant}/{name}: batch size");
            for (int i = 0; i < sequences.Length; i++)
            {
                Assert.True(expectedIds[i].SequenceEqual(batch.InputIds[i]),
                    $"{variant}/{name}[{i}]: expected [{string.Join(", ", expectedIds[i])}], got [{string.Join(", ", batch.InputIds[i])}]");
                Assert.True(expectedMask[i].SequenceEqual(batch.AttentionMask[i]), $"{variant}/{name}[{i}]: attention mask");

                var single = tokenizer.Encode(sequences[i]);
                Assert.Equal(batch.Lengths[i], single.Length);
                Assert.Equal(expectedIds[i].Take(single.Length), single.InputIds);
            }
            checkedCases++;
        }
        Assert.True(checkedCases > 0);
    }

    [Fact]
    public void FromDirectoryReadsModelMaxLengthAndSpecialTokens()
    {
        Assert.Null(RnaTokenizer.FromDirectory(Fixtures.Models("ernierna")).Options.ModelMaxLength);
        var splice = RnaTokenizer.FromDirectory(Fixtures.Models("splicebert.510")).Options;
        Assert.Equal(36, splice.ModelMaxLength);
        Assert.True(splice.AddBos && splice.AddEos && splice.UpperCase && splice.ReplaceTWithU);
    }

    [Fact]
    public void FromDirectoryHandlesNullSpecialsAndHugeMaxLengthAndReportsErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnalm-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string config = Path.Combine(dir, "tokenizer_config.json");
            string vocab = Path.Combine(dir, "vocab.txt");

            var e1 = Assert.Throws<FileNotFoundException>(() => RnaTokenizer.FromDirectory(dir));
            Assert.Contains("vocab.txt", e1.Message);

            File.Copy(Path.Combine(Fixtures.Models("ncrnabert"), "vocab.txt"), vocab);
            var e2 = Assert.Throws<FileNotFoundException>(() => RnaTokenizer.FromDirectory(dir));
            Assert.Contains("tokenizer_config.json", e2.Message);

            File.WriteAllText(config, """{"nmers": 1, "bos_token": null, "eos_token": null, "model_max_length": 1000000000000000019884624838656}""");
            var tokenizer = RnaTokenizer.FromDirectory(dir);
            Assert.Null(tokenizer.Options.ModelMaxLength);
            Assert.Equal([9, 6, 8, 7], tokenizer.Encode("UAGC").InputIds);

            File.WriteAllText(config, """{"bos_token": {"content": "<cls>", "lstrip": false}, "do_upper_case": false}""");
            tokenizer = RnaTokenizer.FromDirectory(dir);
            Assert.True(tokenizer.Options.AddBos);
            Assert.False(tokenizer.Options.UpperCase);

            File.WriteAllText(config, "{\"nmers\": 1,");
            var e3 = Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir));
            Assert.Contains(config, e3.Message);
            Assert.Contains("not valid JSON", e3.Message);

            File.WriteAllText(config, """{"nmers": "3"}""");
            var e4 = Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir));
            Assert.Contains(config, e4.Message);
            Assert.Contains("'nmers'", e4.Message);

            File.WriteAllText(config, """{"do_upper_case": "yes"}""");
            Assert.Contains("'do_upper_case'", Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir)).Message);

            File.WriteAllText(config, """{"padding_side": "left"}""");
            Assert.Contains("'padding_side'", Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir)).Message);

            File.WriteAllText(config, """{"eos_token": "<sep>"}""");
            Assert.Contains("'eos_token'", Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir)).Message);

            Assert.Throws<DirectoryNotFoundException>(() => RnaTokenizer.FromDirectory(Path.Combine(dir, "nope")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- behaviour beyond the fixtures ------------------------------------------------------------------------

    [Fact]
    public void PairTruncationIsLongestFirst()
    {
        var tokenizer = Standard();
        var truncate = new EncodeOptions { Truncation = true, MaxLength = 8 };

        // 8 + 2 tokens, budget 8 - 3 specials = 5: all 5 removals come from the longer first text.
        Assert.Equal([1, 6, 7, 8, 2, 6, 7, 2], tokenizer.Encode("ACGUACGU", "AC", truncate).InputIds);
        // 4 + 4 tokens, budget 5: equal lengths lose from the second text first, then alternate.
        Assert.Equal([1, 6, 7, 8, 2, 8, 8, 2], tokenizer.Encode("ACGU", "GGGG", truncate).InputIds);
        // 2 + 6 tokens, budget 5: the longer second text gives up 3.
        Assert.Equal([1, 6, 7, 2, 9, 9, 9, 2], tokenizer.Encode("AC", "UUUUUU", truncate).InputIds);
    }

    [Fact]
    public void TruncationDefaultsToModelMaxLength()
    {
        var tokenizer = Standard(new TokenizerOptions { ModelMaxLength = 5 });
        Assert.Equal([1, 6, 7, 8, 2], tokenizer.Encode("ACGUACGU", options: new EncodeOptions { Truncation = true }).InputIds);
    }

    [Fact]
    public void TooLongInputIsFlaggedNotRejected()
    {
        var tokenizer = Standard(new TokenizerOptions { ModelMaxLength = 5 });
        var encoded = tokenizer.Encode("ACGUACGU");
        Assert.Equal(10, encoded.Length);
        Assert.True(encoded.ExceedsModelMaxLength);
        Assert.False(tokenizer.Encode("ACG").ExceedsModelMaxLength);

        var batch = tokenizer.EncodeBatch(["ACG", "ACGUACGU"]);
        Assert.True(batch.ExceedsModelMaxLength);
        Assert.Equal([1], batch.SequencesExceedingModelMaxLength);
    }

    [Fact]
    public void ImpossibleOptionsAreRejected()
    {
        var tokenizer = Standard();
        var e = Assert.Throws<ArgumentException>(() => tokenizer.Encode("ACGU", options: new EncodeOptions { Padding = PaddingStrategy.MaxLength }));
        Assert.Contains("MaxLength", e.Message);
        e = Assert.Throws<ArgumentException>(() => tokenizer.Encode("ACGU", "GG", new EncodeOptions { Truncation = true, MaxLength = 2 }));
        Assert.Contains("special tokens alone take 3", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Encode("ACGU", options: new EncodeOptions { MaxLength = 0 }));
        e = Assert.Throws<ArgumentException>(() => tokenizer.EncodeBatch(["AC", null!]));
        Assert.Contains("index 1", e.Message);
        Assert.Throws<ArgumentException>(() => new RnaTokenizer(new Vocabulary(["A", "<unk>"]), new TokenizerOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => Standard(new TokenizerOptions { Nmers = 0 }));
    }

    [Fact]
    public void BatchPaddingStrategies()
    {
        var tokenizer = Standard();
        string[] texts = ["ACGU", "A", "ACGUAC"];

        foreach (var strategy in new[] { PaddingStrategy.None, PaddingStrategy.Longest })
        {
            var batch = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = strategy });
            Assert.Equal(3, batch.BatchSize);
            Assert.Equal(8, batch.SequenceLength);
            Assert.Equal([1, 6, 2, 0, 0, 0, 0, 0], batch.InputIds[1]);
            Assert.Equal([1, 1, 1, 0, 0, 0, 0, 0], batch.AttentionMask[1]);
            Assert.Equal([6, 3, 8], batch.Lengths);
        }

        var toTen = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 10 });
        Assert.Equal(10, toTen.SequenceLength);
        Assert.All(toTen.InputIds, row => Assert.Equal(10, row.Length));

        // A row longer than max_length without truncation keeps its length; the batch stays rectangular.
        var toFive = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 5 });
        Assert.Equal(8, toFive.SequenceLength);

        var truncated = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 5, Truncation = true });
        Assert.Equal(5, truncated.SequenceLength);
        Assert.Equal([1, 6, 7, 8, 2], truncated.InputIds[2]);

        var empty = tokenizer.EncodeBatch([]);
        Assert.Equal(0, empty.BatchSize);
        Assert.Equal(0, empty.SequenceLength);
    }

    [Fact]
    public void ToTensorsMakesInt64Matrices()
    {
        var batch = Standard().EncodeBatch(["ACGU", "A"]);
        var (ids, mask) = batch.ToTensors();
        using (ids)
        using (mask)
        {
            Assert.Equal(torch.ScalarType.Int64, ids.dtype);
            Assert.Equal(torch.ScalarType.Int64, mask.dtype);
            Assert.Equal(new long[] { 2, 6 }, ids.shape);
            Assert.Equal(new long[] { 2, 6 }, mask.shape);
            Assert.Equal(new long[] { 1, 6, 7, 8, 9, 2, 1, 6, 2, 0, 0, 0 }, ids.data<long>().ToArray());
            Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, mask.data<long>().ToArray());
        }

        var (single, singleMask) = Standard().Encode("GU").ToTensors();
        using (single)
        using (singleMask)
        {
            Assert.Equal(new long[] { 1, 4 }, single.shape);
            Assert.Equal(new long[] { 1, 8, 9, 2 }, single.data<long>().ToArray());
        }
    }

    [Fact]
    public void DecodeInvertsEncoding()
    {
        var standard = Standard();
        var ids = standard.Encode("acgu<mask>n").InputIds;
        Assert.Equal("<cls>ACGU<mask>N<eos>", standard.Decode(ids));
        Assert.Equal("ACGUN", standard.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("A", standard.IdToToken(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => standard.IdToToken(28));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => standard.Decode([6, 99]));
        Assert.Contains("position 1", e.Message);

        var kmer = new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
        var kmerIds = kmer.Encode("UAGCUUAUC").InputIds;
        Assert.Equal("UAGCUUAUC", kmer.Decode(kmerIds, skipSpecialTokens: true));
        Assert.Equal("<cls>UAGCUUAUC<eos>", kmer.Decode(kmerIds));
        Assert.Equal("<cls>UAGC<mask>GUA<eos>", kmer.Decode(kmer.Encode("UAGC<mask>GUA").InputIds));
    }

    [Fact]
    public void EncodedTokensAreVocabularyTokens()
    {
        var encoded = Standard().Encode("AC Z", options: new EncodeOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 8 });
        Assert.Equal(["<cls>", "A", "C", "<unk>", "<unk>", "<eos>", "<pad>", "<pad>"], encoded.Tokens);
        Assert.Equal(6, encoded.RealLength);
        Assert.Equal(8, encoded.Length);
    }

    [Fact]
    public void SurrogatePairsCountAsOneCharacter()
    {
        var tokenizer = Standard();
        Assert.Equal(["A", "\U0001F600", "C"], tokenizer.Tokenize("a\U0001F600c"));
        Assert.Equal([1, 6, 3, 7, 2], tokenizer.Encode("a\U0001F600c").InputIds);

        var kmer = new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
        Assert.Equal(["A\U0001F600C", "\U0001F600CG"], kmer.Tokenize("a\U0001F600cg"));
        Assert.Equal([1, 3, 3, 2], kmer.Encode("a\U0001F600cg").InputIds);
    }

    [Fact]
    public void WithKeepsTheVocabulary()
    {
        var tokenizer = Standard();
        var noSpecials = tokenizer.With(tokenizer.Options with { AddBos = false, AddEos = false });
        Assert.Same(tokenizer.Vocabulary, noSpecials.Vocabulary);
        Assert.Equal([6, 7], noSpecials.Encode("AC").InputIds);
        Assert.True(tokenizer.IsSpecialToken(4));
        Assert.False(tokenizer.IsSpecialToken(6));
    }

    [Fact]
    public void LongInputsEncodeLikeShortOnes()
    {
        var tokenizer = Standard();
        string unit = "ACGUNacgtn";
        string text = string.Concat(Enumerable.Repeat(unit, 10_000));
        var ids = tokenizer.Encode(text).InputIds;
        Assert.Equal(100_002, ids.Length);
        Assert.Equal([1, 6, 7, 8, 9, 10, 6, 7, 8, 9, 10, 6], ids.Take(12));

        var kmer = new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
        Assert.Equal(100_000 - 2 + 2, kmer.Encode(text).InputIds.Length);
    }
}
