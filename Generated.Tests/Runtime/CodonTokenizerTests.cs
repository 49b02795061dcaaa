using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Tokenization;
using Xunit;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// Codon segmentation and the DNA alphabet (families-esm.md §1.2, §3.2), and the tokenizers of the fixture folders of
/// the ESM and BERT-2 families read with <see cref="RnaTokenizer.FromDirectory"/> against their <c>cases.json</c>.
/// </summary>
public sealed class CodonTokenizerTests
{
    private static RnaTokenizer RnaCodons() => new(Vocabulary.RnaKmer(3), new TokenizerOptions { Codon = true });

    private static RnaTokenizer DnaCodons() => RnaTokenizer.FromDirectory(Fixtures.Models("calm"));

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static TheoryData<string> NewFamilyVariants() => new()
    {
        "mrnafm", "calm", "rnafm", "utrlm-te_el", "utrlm-mrl", "rinalmo", "rnabert", "utrbert-3mer", "utrbert-4mer",
    };

    [Theory]
    [MemberData(nameof(NewFamilyVariants))]
    public void FromDirectoryReproducesTheCases(string variant)
    {
        string dir = Fixtures.Models(variant);
        var tokenizer = RnaTokenizer.FromDirectory(dir);
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "cases.json")));
        int checkedCases = 0;
        foreach (var c in document.RootElement.EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var sequences = c.GetProperty("sequences").EnumerateArray().Select(s => s.GetString()!).ToArray();
            var expectedIds = c.GetProperty("input_ids").EnumerateArray().Select(Ints).ToArray();
            var expectedMask = c.GetProperty("attention_mask").EnumerateArray().Select(Ints).ToArray();

            var batch = tokenizer.EncodeBatch(sequences, new EncodeOptions { Padding = PaddingStrategy.Longest });
            Assert.Equal(expectedIds.Length, batch.BatchSize);
            for (int i = 0; i < sequences.Length; i++)
            {
                Assert.True(expectedIds[i].SequenceEqual(batch.InputIds[i]),
                    $"{variant}/{name}[{i}]: expected [{string.Join(", ", expectedIds[i])}], got [{string.Join(", ", batch.InputIds[i])}]");
                Assert.True(expectedMask[i].SequenceEqual(batch.AttentionMask[i]), $"{variant}/{name}[{i}]: attention mask");

                var single = tokenizer.Encode(sequences[i]);
                Assert.Equal(expectedMask[i].Sum(), single.Length);
                Assert.Equal(expectedIds[i].Take(single.Length), single.InputIds);
            }
            checkedCases++;
        }
        Assert.Equal(4, checkedCases);
    }

    [Theory]
    [InlineData("mrnafm", true, true, false)]
    [InlineData("calm", true, false, true)]
    [InlineData("utrbert-3mer", false, true, false)]
    [InlineData("rinalmo", false, true, false)]
    public void FromDirectoryReadsCodonAndTheReplacementDirection(string variant, bool codon, bool tToU, bool uToT)
    {
        var options = RnaTokenizer.FromDirectory(Fixtures.Models(variant)).Options;
        Assert.Equal(codon, options.Codon);
        Assert.Equal(tToU, options.ReplaceTWithU);
        Assert.Equal(uToT, options.ReplaceUWithT);
        Assert.Equal(variant is "rinalmo" ? 1 : 3, options.Nmers);
    }

    [Theory]
    [InlineData("utrbert-3mer", 3)]
    [InlineData("utrbert-4mer", 4)]
    public void UtrBertMaskedCaseCarriesKConsecutiveMasks(string variant, int k)
    {
        string dir = Fixtures.Models(variant);
        var tokenizer = RnaTokenizer.FromDirectory(dir);
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "cases.json")));
        var masked = document.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "masked");
        string text = masked.GetProperty("sequences")[0].GetString()!;
        var ids = tokenizer.Encode(text).InputIds;
        int maskId = tokenizer.Vocabulary.MaskId!.Value;
        int first = Array.IndexOf(ids, maskId);
        Assert.True(first > 0);
        Assert.Equal(Enumerable.Repeat(maskId, k), ids.Skip(first).Take(k));
        Assert.Equal(k, ids.Count(id => id == maskId));
        // Text before the masks is k-merised on its own: "GGUC" gives 4 − k + 1 k-mers.
        int before = text.IndexOf('<');
        Assert.Equal(Math.Max(0, before - k + 1), first - 1);
        Assert.Equal(Ints(masked.GetProperty("input_ids")[0]), ids);
    }

    [Fact]
    public void RnaCodonsMatchTheReferenceExample()
    {
        var tokenizer = RnaCodons();
        Assert.Equal(3, tokenizer.Options.Nmers); // codon implies 3-mers
        Assert.Equal(new[] { 1, 83, 49, 22, 2 }, tokenizer.Encode("uagcuuauc").InputIds);
        Assert.Equal(new[] { 1, 83, 49, 22, 2 }, tokenizer.Encode("TAGCTTATC").InputIds); // T→U
        Assert.Equal(new[] { "UAG", "CUU", "AUC" }, tokenizer.Tokenize("uagcuuauc"));
        // Overlapping 3-mers on the same vocabulary give every window instead.
        var overlapping = new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });
        Assert.Equal(9, overlapping.Encode("uagcuuauc").Length);
    }

    [Fact]
    public void DnaCodonsMatchTheReferenceExampleAndReplaceUWithT()
    {
        var tokenizer = DnaCodons();
        Assert.Equal(new[] { 1, 84, 6, 71, 2 }, tokenizer.Encode("tataaagta").InputIds);
        Assert.Equal(new[] { 1, 84, 6, 71, 2 }, tokenizer.Encode("UAUAAAGUA").InputIds);
        Assert.Equal(new[] { "TAT", "AAA", "GTA" }, tokenizer.Tokenize("uauaaagua"));
    }

    [Fact]
    public void SpecialTokenStringsSplitCodonChunks()
    {
        var tokenizer = RnaCodons();
        // AUG = 23, GCC = 62, AAA = 6; each chunk is cut from its own start.
        Assert.Equal(new[] { 1, 23, 62, 4, 6, 2 }, tokenizer.Encode("AUGGCC<mask>AAA").InputIds);
        Assert.Equal(new[] { 1, 4, 23, 4, 4, 2 }, tokenizer.Encode("<mask>AUG<mask><mask>").InputIds);
        Assert.Equal(new[] { 1, 23, 3, 2 }, tokenizer.Encode("AUGGAR").InputIds); // R is not in the alphabet
        Assert.Equal(new[] { 1, 3, 2 }, tokenizer.Encode("A-G").InputIds);
    }

    [Fact]
    public void ChunkLengthNotAMultipleOf3IsATypedError()
    {
        var tokenizer = RnaCodons();
        var error = Assert.Throws<TokenizationException>(() => tokenizer.Encode("AUGG"));
        Assert.IsAssignableFrom<FormatException>(error);
        Assert.Equal(4, error.ChunkLength);
        Assert.Equal(0, error.ChunkStart);
        Assert.Null(error.SequenceIndex);
        Assert.Contains("length 4", error.Message);
        Assert.Contains("multiple of 3", error.Message);

        var inner = Assert.Throws<TokenizationException>(() => tokenizer.Encode("AUG<mask>GC"));
        Assert.Equal(2, inner.ChunkLength);
        Assert.Equal(9, inner.ChunkStart);
        Assert.Contains("length 2", inner.Message);
        Assert.Contains("character 9", inner.Message);

        var inBatch = Assert.Throws<TokenizationException>(() => tokenizer.EncodeBatch(new[] { "AUG", "AUGGCCA" }));
        Assert.Equal(1, inBatch.SequenceIndex);
        Assert.Equal(7, inBatch.ChunkLength);
        Assert.Contains("Text 1", inBatch.Message);

        Assert.Throws<TokenizationException>(() => tokenizer.Tokenize("AU"));
        Assert.Throws<TokenizationException>(() => DnaCodons().Encode("ATGC"));
        Assert.Equal(new[] { 1, 2 }, tokenizer.Encode("").InputIds); // an empty chunk has length 0
    }

    [Fact]
    public void DecodeWritesCodonsWhole()
    {
        var rna = RnaCodons();
        var ids = rna.Encode("AUGGCC<mask>AAA").InputIds;
        Assert.Equal("<cls>AUGGCC<mask>AAA<eos>", rna.Decode(ids));
        Assert.Equal("AUGGCCAAA", rna.Decode(ids, skipSpecialTokens: true));
        var dna = DnaCodons();
        Assert.Equal("ATGGTGAGCTAA", dna.Decode(dna.Encode("augGUGagcTAA").InputIds, skipSpecialTokens: true));
    }

    [Fact]
    public void ContradictoryOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new RnaTokenizer(Vocabulary.RnaKmer(3), new TokenizerOptions { Codon = true, Nmers = 4 }));
        Assert.Throws<ArgumentException>(() => new RnaTokenizer(Vocabulary.RnaStandard28(), new TokenizerOptions { ReplaceUWithT = true }));
        var dna = new RnaTokenizer(Vocabulary.RnaStandard28(), new TokenizerOptions { ReplaceUWithT = true, ReplaceTWithU = false });
        Assert.Equal(new[] { 1, 3, 3, 2 }, dna.Encode("uT").InputIds); // both become T, which the RNA alphabet lacks
    }

    // ---- tokenizer_config.json -----------------------------------------------------------------------------------

    private static string TokenizerDir(string config, string vocabFrom = "calm")
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnalm-codon-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixtures.Models(vocabFrom), "vocab.txt"), Path.Combine(dir, "vocab.txt"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config);
        return dir;
    }

    [Theory]
    [InlineData("""{"tokenizer_class": "DnaTokenizer", "codon": true, "replace_T_with_U": true}""", "both true")]
    [InlineData("""{"tokenizer_class": "ProteinTokenizer"}""", "tokenizer_class")]
    [InlineData("""{"tokenizer_class": 3}""", "tokenizer_class")]
    [InlineData("""{"codon": true, "nmers": 4}""", "'nmers' is 4")]
    [InlineData("""{"codon": "yes"}""", "'codon'")]
    public void BadTokenizerConfigsAreFormatErrorsNamingTheFile(string config, string expected)
    {
        string dir = TokenizerDir(config);
        try
        {
            var error = Assert.Throws<FormatException>(() => RnaTokenizer.FromDirectory(dir));
            Assert.Contains("tokenizer_config.json", error.Message);
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DnaTokenizerClassDefaultsToUWithTAndCodonDefaultsToNmers3()
    {
        string dir = TokenizerDir("""{"tokenizer_class": "DnaTokenizer", "codon": true}""");
        try
        {
            var tokenizer = RnaTokenizer.FromDirectory(dir);
            Assert.True(tokenizer.Options.ReplaceUWithT);
            Assert.False(tokenizer.Options.ReplaceTWithU);
            Assert.Equal(3, tokenizer.Options.Nmers);
            Assert.Equal(new[] { 1, 84, 6, 71, 2 }, tokenizer.Encode("uauaaagua").InputIds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
