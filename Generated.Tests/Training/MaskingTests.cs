using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RnaLm.Models;
using RnaLm.Tokenization;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

/// <summary>
/// Masked-language-model masking: the 15% / 80-10-10 rates, special tokens and padding never touched, RNAErnie's
/// subsequence and motif levels, k-mer coverage and determinism per seed.
/// </summary>
public sealed class MaskingTests
{
    private static readonly RnaTokenizer OneMer = RnaLmMiniVariants.CreateRnaLmMiniTokenizer();

    private static readonly RnaTokenizer ThreeMer = new(Vocabulary.RnaKmer(3), new TokenizerOptions { Nmers = 3 });

    private const int MaskId = 4;

    private static string RandomRna(TrainingRandom random, int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++) text.Append("ACGU"[random.Next(4)]);
        return text.ToString();
    }

    private static List<string> Corpus(int count, int minLength, int maxLength, ulong seed = 7)
    {
        var random = new TrainingRandom(seed);
        return Enumerable.Range(0, count).Select(_ => RandomRna(random, random.NextInclusive(minLength, maxLength))).ToList();
    }

    private static IEnumerable<(int[] Original, int[] Masked, long[] Labels, int[] Attention)> Rows(RnaTokenizer tokenizer, IReadOnlyList<string> texts, MaskedBatch batch)
    {
        var original = tokenizer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
        for (int b = 0; b < batch.BatchSize; b++) yield return (original.InputIds[b], batch.InputIds[b], batch.Labels[b], batch.AttentionMask[b]);
    }

    [Fact]
    public void BertSelectsFifteenPercentAndCorrupts80_10_10()
    {
        var masker = new MlmMasker(OneMer);
        var texts = Corpus(400, 80, 160);
        long maskable = 0, selected = 0, masked = 0, changed = 0, kept = 0;
        for (int round = 0; round < 10; round++)
        {
            var batch = masker.Mask(texts, MaskLevel.Base, new TrainingRandom((ulong)round));
            foreach (var (original, ids, labels, attention) in Rows(OneMer, texts, batch))
            {
                for (int i = 0; i < ids.Length; i++)
                {
                    if (attention[i] == 0 || OneMer.IsSpecialToken(original[i])) continue;
                    maskable++;
                    if (labels[i] == MlmMasker.IgnoreIndex)
                    {
                        Assert.Equal(original[i], ids[i]); // unselected tokens are never changed
                        continue;
                    }
                    selected++;
                    Assert.Equal(original[i], labels[i]);
                    if (ids[i] == MaskId) masked++;
                    else if (ids[i] != original[i])
                    {
                        changed++;
                        Assert.Contains(OneMer.IdToToken(ids[i]), new[] { "A", "C", "G", "U" });
                    }
                    else kept++;
                }
            }
        }
        Assert.True(maskable > 400_000, $"only {maskable} maskable tokens");
        Assert.InRange((double)selected / maskable, 0.145, 0.155);
        Assert.InRange((double)masked / selected, 0.79, 0.81);
        // 10% random: a random nucleotide equals the original one time in four, so 7.5% change and 12.5% look unchanged.
        Assert.InRange((double)changed / selected, 0.068, 0.082);
        Assert.InRange((double)kept / selected, 0.117, 0.133);
    }

    [Fact]
    public void SpecialTokensAndPaddingAreNeverSelected()
    {
        var motifs = MotifSet.FromMotifs(new[] { "ACGU", "GGAC" });
        var masker = new MlmMasker(OneMer, new MaskingOptions { Probability = 0.9 }, motifs);
        // Different lengths (padding), special tokens inside the text and characters that become <unk>.
        var texts = new List<string> { "ACGU<mask>ACGUACGU", "AC", "GGACUU<null>GGAC<unk>AAAA", "acgu xyz ACGU", "U", new string('G', 60) };
        var encoded = OneMer.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
        foreach (MaskLevel level in Enum.GetValues<MaskLevel>())
        {
            for (ulong seed = 0; seed < 200; seed++)
            {
                var batch = masker.Mask(texts, level, new TrainingRandom(seed));
                for (int b = 0; b < texts.Count; b++)
                {
                    for (int i = 0; i < batch.SequenceLength; i++)
                    {
                        int original = encoded.InputIds[b][i];
                        if (encoded.AttentionMask[b][i] == 0 || OneMer.IsSpecialToken(original))
                        {
                            Assert.Equal(MlmMasker.IgnoreIndex, batch.Labels[b][i]);
                            Assert.Equal(original, batch.InputIds[b][i]);
                        }
                        Assert.Equal(encoded.AttentionMask[b][i], batch.AttentionMask[b][i]);
                    }
                }
            }
        }
    }

    [Fact]
    public void SameSeedSameMasksOtherSeedOtherMasks()
    {
        var motifs = MotifSet.FromMotifs(new[] { "GGAC", "UUUA" });
        var masker = new MlmMasker(OneMer, MaskingOptions.Default, motifs);
        var texts = Corpus(16, 50, 120);
        foreach (MaskLevel level in Enum.GetValues<MaskLevel>())
        {
            var a = masker.Mask(texts, level, TrainingRandom.For(42, TrainingRandom.Streams.Masking, 3));
            var b = masker.Mask(texts, level, TrainingRandom.For(42, TrainingRandom.Streams.Masking, 3));
            var c = masker.Mask(texts, level, TrainingRandom.For(43, TrainingRandom.Streams.Masking, 3));
            var d = masker.Mask(texts, level, TrainingRandom.For(42, TrainingRandom.Streams.Masking, 4));
            for (int row = 0; row < texts.Count; row++)
            {
                Assert.Equal(a.InputIds[row], b.InputIds[row]);
                Assert.Equal(a.Labels[row], b.Labels[row]);
            }
            Assert.False(Enumerable.Range(0, texts.Count).All(row => a.Labels[row].SequenceEqual(c.Labels[row])), "another seed gave the same masks");
            Assert.False(Enumerable.Range(0, texts.Count).All(row => a.Labels[row].SequenceEqual(d.Labels[row])), "another micro-batch gave the same masks");
        }
    }

    [Fact]
    public void RandomStateRoundTripsThroughText()
    {
        var random = new TrainingRandom(123);
        for (int i = 0; i < 10; i++) random.NextUInt64();
        var copy = TrainingRandom.FromState(random.State);
        for (int i = 0; i < 100; i++) Assert.Equal(random.NextUInt64(), copy.NextUInt64());
        Assert.Throws<FormatException>(() => TrainingRandom.FromState("12-34"));
    }

    [Fact]
    public void ErnieLevelsAreChosenOneToOneToOne()
    {
        var masker = new MlmMasker(OneMer, MaskingOptions.Default, MotifSet.FromMotifs(new[] { "ACGU" }));
        var random = new TrainingRandom(5);
        var counts = new int[3];
        for (int i = 0; i < 6000; i++) counts[(int)masker.ChooseLevel(MaskingScheme.Ernie, random)]++;
        foreach (int c in counts) Assert.InRange(c / 6000.0, 0.31, 0.356);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(MaskLevel.Base, masker.ChooseLevel(MaskingScheme.Bert, random)));
    }

    /// <summary>Maximal runs of labelled positions (start, length) of one row.</summary>
    private static List<(int Start, int Length)> LabelledRuns(long[] labels)
    {
        var runs = new List<(int, int)>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == MlmMasker.IgnoreIndex) continue;
            int start = i;
            while (i < labels.Length && labels[i] != MlmMasker.IgnoreIndex) i++;
            runs.Add((start, i - start));
        }
        return runs;
    }

    [Fact]
    public void SubsequenceLevelMasksSpansOfFourToEightAtTheSameRate()
    {
        var masker = new MlmMasker(OneMer);
        var texts = Corpus(300, 150, 250);
        long maskable = 0, selected = 0;
        int spansUpToEight = 0, runs = 0;
        for (ulong seed = 0; seed < 10; seed++)
        {
            var batch = masker.Mask(texts, MaskLevel.Subsequence, new TrainingRandom(seed));
            for (int b = 0; b < texts.Count; b++)
            {
                maskable += texts[b].Length;
                selected += batch.Labels[b].Count(l => l != MlmMasker.IgnoreIndex);
                foreach (var (_, length) in LabelledRuns(batch.Labels[b]))
                {
                    Assert.True(length >= 4, $"a labelled run of {length} < 4 nucleotides");
                    runs++;
                    if (length <= 8) spansUpToEight++;
                }
            }
        }
        Assert.InRange((double)selected / maskable, 0.14, 0.16);
        Assert.True(spansUpToEight > 0.8 * runs, "most runs should be single spans of 4-8 (only overlaps merge them)");
    }

    [Fact]
    public void MotifLevelMasksWholeOccurrences()
    {
        const string motif = "GGACU";
        var motifs = MotifSet.FromMotifs(new[] { motif });
        var masker = new MlmMasker(OneMer, MaskingOptions.Default, motifs);
        // Occurrences separated by "CC" (which cannot start or end the motif); they cover 5/7 of every sequence,
        // far more than 15%, so the span top-up never runs and every labelled position must be a whole occurrence.
        var texts = Enumerable.Range(4, 30).Select(n => string.Concat(Enumerable.Repeat(motif + "CC", n))).ToList();
        long nucleotides = 0, selected = 0;
        for (ulong seed = 0; seed < 40; seed++)
        {
            var batch = masker.Mask(texts, MaskLevel.Motif, new TrainingRandom(seed));
            for (int b = 0; b < texts.Count; b++)
            {
                var labels = batch.Labels[b];
                nucleotides += texts[b].Length;
                for (int occurrence = 0; occurrence * 7 < texts[b].Length; occurrence++)
                {
                    int start = 1 + occurrence * 7; // after <cls>
                    int labelled = Enumerable.Range(start, motif.Length).Count(i => labels[i] != MlmMasker.IgnoreIndex);
                    Assert.True(labelled == 0 || labelled == motif.Length, $"occurrence {occurrence} of row {b} is partly masked ({labelled}/5)");
                    selected += labelled;
                    Assert.Equal(MlmMasker.IgnoreIndex, labels[start + 5]);
                    Assert.Equal(MlmMasker.IgnoreIndex, labels[start + 6]);
                }
            }
        }
        Assert.InRange((double)selected / nucleotides, 0.13, 0.17);
    }

    [Fact]
    public void MotifsAreReadWithTAsUAndFoundWithOverlaps()
    {
        var motifs = MotifSet.FromMotifs(new[] { "acgt", "CGUA", "", "GUAC" });
        Assert.Equal(3, motifs.Count);
        var found = motifs.FindOccurrences("ACGUACGU").OrderBy(o => o.Start).ToList();
        Assert.Equal(new[] { (0, 4), (1, 4), (2, 4), (4, 4) }, found);
        Assert.Throws<FormatException>(() => MotifSet.FromMotifs(new[] { "ACGN" }));

        var shared = MotifSet.Load(Fixtures.Data("motifs"));
        Assert.True(shared.Count > 12_000, $"{shared.Count} distinct motifs");
        Assert.True(shared.MaxLength >= 8, $"longest motif {shared.MaxLength}");
    }

    [Fact]
    public void KmerVocabulariesMaskEveryKmerCoveringAMaskedNucleotide()
    {
        var masker = new MlmMasker(ThreeMer, MaskingOptions.Default, MotifSet.FromMotifs(new[] { "GGACU", "AUUUA" }));
        var texts = Corpus(60, 40, 90, seed: 11);
        const int k = 3;
        long tokens = 0, labelled = 0;
        foreach (MaskLevel level in Enum.GetValues<MaskLevel>())
        {
            for (ulong seed = 0; seed < 20; seed++)
            {
                var batch = masker.Mask(texts, level, new TrainingRandom(seed));
                foreach (var (original, ids, labels, attention) in Rows(ThreeMer, texts, batch))
                {
                    int count = attention.Sum() - 2; // k-mers between <cls> and <eos>
                    int nucleotides = count + k - 1;
                    bool IsLabelled(int token) => labels[1 + token] != MlmMasker.IgnoreIndex;
                    // Nucleotides all of whose covering k-mers are labelled: the masked nucleotides.
                    var masked = Enumerable.Range(0, nucleotides)
                        .Where(j => Enumerable.Range(Math.Max(0, j - k + 1), Math.Min(j, count - 1) - Math.Max(0, j - k + 1) + 1).All(IsLabelled))
                        .ToHashSet();
                    for (int t = 0; t < count; t++)
                    {
                        bool covers = Enumerable.Range(t, k).Any(masked.Contains);
                        Assert.True(covers == IsLabelled(t), $"k-mer {t} labelled={IsLabelled(t)} but covers a masked nucleotide={covers} ({level}, seed {seed})");
                        if (IsLabelled(t))
                        {
                            Assert.Equal(original[1 + t], labels[1 + t]);
                            int id = ids[1 + t];
                            Assert.True(id == MaskId || (ThreeMer.IdToToken(id).Length == 3 && ThreeMer.IdToToken(id).All(c => "ACGU".Contains(c))));
                        }
                        else
                        {
                            Assert.Equal(original[1 + t], ids[1 + t]);
                        }
                        if (level == MaskLevel.Base)
                        {
                            tokens++;
                            if (IsLabelled(t)) labelled++;
                        }
                    }
                }
            }
        }
        // An interior 3-mer is labelled when any of its 3 nucleotides is selected: 1 - 0.85^3 = 38.6%.
        Assert.InRange((double)labelled / tokens, 0.36, 0.40);
    }
}
