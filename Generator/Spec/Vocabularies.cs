using System.Collections.Generic;
using System.Collections.Immutable;

namespace RnaLm.Generator.Spec;

/// <summary>The built-in alphabets and how a tokenizer vocabulary is laid out (models.md §1.1).</summary>
internal static class Vocabularies
{
    public const string Standard28 = "rna-standard-28";
    public const string Legacy26 = "rna-legacy-26";
    public const string Streamline = "rna-streamline";
    public const string DnaStreamline = "dna-streamline";
    public const string Custom = "custom";

    /// <summary>Vocabularies larger than this are rejected (RNA3006): they would bloat the generated code.</summary>
    public const int MaxVocabularySize = 65536;

    /// <summary>The six special tokens, ids 0..5, in every vocabulary.</summary>
    public static readonly ImmutableArray<string> SpecialTokens = ImmutableArray.Create("<pad>", "<cls>", "<eos>", "<unk>", "<mask>", "<null>");

    public static readonly ImmutableDictionary<string, ImmutableArray<string>> Alphabets =
        new Dictionary<string, ImmutableArray<string>>
        {
            [Standard28] = Letters("ACGUNRYSWKMBDHVIX|.*-?"),
            [Legacy26] = Letters("ACGUNRYSWKMBDHV.X*-I"),
            [Streamline] = Letters("ACGUN"),
            [DnaStreamline] = Letters("ACGTN"),
        }.ToImmutableDictionary();

    /// <summary>
    /// The default alphabet: the current standard one for single nucleotides, "ACGUN" for k-mers; "ACGTN" when the
    /// tokenizer writes U as T (a DNA vocabulary).
    /// </summary>
    public static string DefaultAlphabet(int nmers, bool uToT = false) => uToT ? DnaStreamline : nmers > 1 ? Streamline : Standard28;

    /// <summary>6 + letters^nmers, or -1 when it exceeds <see cref="MaxVocabularySize"/>.</summary>
    public static long Size(int letters, int nmers)
    {
        long size = 1;
        for (int i = 0; i < nmers; i++)
        {
            size *= letters;
            if (size > MaxVocabularySize) return -1;
        }
        size += SpecialTokens.Length;
        return size > MaxVocabularySize ? -1 : size;
    }

    /// <summary>
    /// The special tokens, then every k-mer over <paramref name="letters"/> in lexicographic product
    /// order of the alphabet (itertools.product order): AAA, AAC, ..., for k = 1 just the letters.
    /// </summary>
    public static ImmutableArray<string> Build(ImmutableArray<string> letters, int nmers)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        result.AddRange(SpecialTokens);
        var kmers = new List<string> { "" };
        for (int k = 0; k < nmers; k++)
        {
            var next = new List<string>(kmers.Count * letters.Length);
            foreach (var prefix in kmers)
            {
                foreach (var letter in letters) next.Add(prefix + letter);
            }
            kmers = next;
        }
        result.AddRange(kmers);
        return result.ToImmutable();
    }

    private static ImmutableArray<string> Letters(string letters)
    {
        var builder = ImmutableArray.CreateBuilder<string>(letters.Length);
        foreach (char c in letters) builder.Add(c.ToString());
        return builder.MoveToImmutable();
    }
}
