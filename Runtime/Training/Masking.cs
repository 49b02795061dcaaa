using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnaLm.Tokenization;
using TorchSharp;

namespace RnaLm.Training;

/// <summary>Which nucleotides a masking pass selects (RNAErnie's three levels; BERT uses only <see cref="Base"/>).</summary>
public enum MaskLevel
{
    /// <summary>Each nucleotide independently with the masking probability.</summary>
    Base,
    /// <summary>Contiguous spans of <see cref="MaskingOptions.SpanMin"/>–<see cref="MaskingOptions.SpanMax"/> nucleotides.</summary>
    Subsequence,
    /// <summary>Whole occurrences of known motifs (topped up with spans when a sequence has too few).</summary>
    Motif,
}

/// <summary>How the level of each batch is chosen.</summary>
public enum MaskingScheme
{
    /// <summary>BERT: every batch uses <see cref="MaskLevel.Base"/>.</summary>
    Bert,
    /// <summary>RNAErnie: each batch draws base, subsequence or motif with probability 1/3 each.</summary>
    Ernie,
}

/// <summary>Rates of masked-language-model corruption.</summary>
public sealed record MaskingOptions
{
    public static MaskingOptions Default { get; } = new();

    /// <summary>Fraction of nucleotides selected for prediction (0.15).</summary>
    public double Probability { get; init; } = 0.15;

    /// <summary>Of the selected tokens, the fraction replaced by <c>&lt;mask&gt;</c> (0.8).</summary>
    public double MaskTokenFraction { get; init; } = 0.8;

    /// <summary>Of the selected tokens, the fraction replaced by a random nucleotide token (0.1); the rest stay unchanged.</summary>
    public double RandomTokenFraction { get; init; } = 0.1;

    /// <summary>Shortest subsequence span in nucleotides (4).</summary>
    public int SpanMin { get; init; } = 4;

    /// <summary>Longest subsequence span in nucleotides (8).</summary>
    public int SpanMax { get; init; } = 8;

    public void Validate()
    {
        if (!(Probability > 0 && Probability < 1)) throw new ArgumentOutOfRangeException(nameof(Probability), Probability, "The masking probability must be in (0, 1).");
        if (MaskTokenFraction < 0 || RandomTokenFraction < 0 || MaskTokenFraction + RandomTokenFraction > 1)
        {
            throw new ArgumentException($"The <mask> fraction {MaskTokenFraction} and random fraction {RandomTokenFraction} must be non-negative and add up to at most 1.");
        }
        if (SpanMin < 1 || SpanMax < SpanMin) throw new ArgumentException($"Span lengths must satisfy 1 <= min ({SpanMin}) <= max ({SpanMax}).");
    }
}

/// <summary>
/// A set of RNA motifs (A, C, G, U; T is read as U, case is ignored) held in a trie, for motif-level masking.
/// </summary>
public sealed class MotifSet
{
    private readonly List<int[]> _children = new() { NewNode() };
    private readonly List<int> _terminalLength = new() { 0 };

    private MotifSet()
    {
    }

    /// <summary>Number of distinct motifs.</summary>
    public int Count { get; private set; }

    /// <summary>Length of the longest motif.</summary>
    public int MaxLength { get; private set; }

    /// <summary>Builds a set from motif strings; blank entries are skipped.</summary>
    /// <exception cref="FormatException">A motif has a character other than A, C, G, U or T.</exception>
    public static MotifSet FromMotifs(IEnumerable<string> motifs, string sourceName = "motifs")
    {
        ArgumentNullException.ThrowIfNull(motifs);
        var set = new MotifSet();
        int index = 0;
        foreach (string raw in motifs)
        {
            index++;
            string motif = raw.Trim();
            if (motif.Length == 0) continue;
            set.Add(motif, sourceName, index);
        }
        return set;
    }

    /// <summary>Reads one motif a line from every <c>*.txt</c> file of a folder (or from one file).</summary>
    public static MotifSet Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*.txt").OrderBy(f => f, StringComparer.Ordinal).ToArray()
            : File.Exists(path) ? new[] { path } : throw new FileNotFoundException($"Motif file or folder '{path}' does not exist.", path);
        if (files.Length == 0) throw new FileNotFoundException($"Motif folder '{path}' has no *.txt files.", path);
        var set = new MotifSet();
        foreach (string file in files)
        {
            int line = 0;
            foreach (string raw in File.ReadLines(file))
            {
                line++;
                string motif = raw.Trim();
                if (motif.Length == 0 || motif[0] == '#') continue;
                set.Add(motif, file, line);
            }
        }
        if (set.Count == 0) throw new FormatException($"'{path}' holds no motifs.");
        return set;
    }

    private static int[] NewNode() => new[] { -1, -1, -1, -1 };

    private static int Code(char c) => char.ToUpperInvariant(c) switch
    {
        'A' => 0,
        'C' => 1,
        'G' => 2,
        'U' or 'T' => 3,
        _ => -1,
    };

    private void Add(string motif, string source, int line)
    {
        int node = 0;
        foreach (char c in motif)
        {
            int code = Code(c);
            if (code < 0) throw new FormatException($"{source}:{line}: motif '{motif}' has '{c}'; motifs may only use A, C, G, U and T.");
            if (_children[node][code] < 0)
            {
                _children[node][code] = _children.Count;
                _children.Add(NewNode());
                _terminalLength.Add(0);
            }
            node = _children[node][code];
        }
        if (_terminalLength[node] == 0)
        {
            _terminalLength[node] = motif.Length;
            Count++;
            MaxLength = Math.Max(MaxLength, motif.Length);
        }
    }

    /// <summary>Every occurrence (start, length) of every motif in <paramref name="nucleotides"/> (overlaps included).</summary>
    public List<(int Start, int Length)> FindOccurrences(ReadOnlySpan<char> nucleotides)
    {
        var found = new List<(int, int)>();
        for (int start = 0; start < nucleotides.Length; start++)
        {
            int node = 0;
            for (int i = start; i < nucleotides.Length; i++)
            {
                int code = Code(nucleotides[i]);
                if (code < 0) break;
                node = _children[node][code];
                if (node < 0) break;
                if (_terminalLength[node] > 0) found.Add((start, i - start + 1));
            }
        }
        return found;
    }
}

/// <summary>A batch prepared for masked-language modelling.</summary>
public sealed class MaskedBatch
{
    internal MaskedBatch(int[][] inputIds, int[][] attentionMask, long[][] labels, MaskLevel level)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Labels = labels;
        Level = level;
        int selected = 0, real = 0;
        for (int b = 0; b < labels.Length; b++)
        {
            foreach (long l in labels[b]) if (l != MlmMasker.IgnoreIndex) selected++;
            foreach (int m in attentionMask[b]) real += m;
        }
        SelectedTokens = selected;
        RealTokens = real;
    }

    /// <summary>Corrupted token ids [B][L].</summary>
    public int[][] InputIds { get; }

    /// <summary>1 = real token, 0 = padding [B][L].</summary>
    public int[][] AttentionMask { get; }

    /// <summary>The original id at every selected position, <see cref="MlmMasker.IgnoreIndex"/> (-100) elsewhere [B][L].</summary>
    public long[][] Labels { get; }

    /// <summary>The level this batch was masked at.</summary>
    public MaskLevel Level { get; }

    /// <summary>Number of positions with a label.</summary>
    public int SelectedTokens { get; }

    /// <summary>Number of non-padding positions (special tokens included).</summary>
    public int RealTokens { get; }

    public int BatchSize => InputIds.Length;

    public int SequenceLength => InputIds.Length == 0 ? 0 : InputIds[0].Length;

    /// <summary>int64 tensors [B, L]: input ids, attention mask, labels.</summary>
    public (torch.Tensor InputIds, torch.Tensor AttentionMask, torch.Tensor Labels) ToTensors(torch.Device? device = null)
    {
        int batch = BatchSize, length = SequenceLength;
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var labels = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < length; i++)
            {
                ids[b * length + i] = InputIds[b][i];
                mask[b * length + i] = AttentionMask[b][i];
                labels[b * length + i] = Labels[b][i];
            }
        }
        long[] shape = { batch, length };
        var target = device ?? torch.CPU;
        return (torch.tensor(ids, shape, torch.int64, target), torch.tensor(mask, shape, torch.int64, target), torch.tensor(labels, shape, torch.int64, target));
    }
}

/// <summary>
/// Masked-language-model corruption for any <see cref="RnaTokenizer"/>, 1-mer or k-mer. Selection happens on
/// nucleotides: the maskable tokens of a row (every token that is not special — <c>&lt;pad&gt; &lt;cls&gt; &lt;eos&gt;
/// &lt;unk&gt; &lt;mask&gt; &lt;null&gt;</c>) form runs of consecutive k-mers, a run of r k-mers covers r + k − 1 nucleotides, and
/// token t of a run covers nucleotides t … t + k − 1. A level selects nucleotides; every token covering a selected
/// nucleotide gets its original id as label; each labelled token becomes <c>&lt;mask&gt;</c> (80%), a random token over
/// A/C/G/U (10%: a random nucleotide, or a random k-mer over ACGU) or stays unchanged (10%). All other labels are −100.
/// </summary>
/// <remarks>
/// Subsequence and motif levels aim at the same expected rate as base: they add spans (or occurrences) until the
/// target count round(p·n) is reached, and the one that would overshoot is taken with probability remaining/size, so
/// the expected number of selected nucleotides is the target. With k-mers the fraction of labelled tokens is higher
/// than p, because each selected nucleotide labels up to k tokens.
/// </remarks>
public sealed class MlmMasker
{
    /// <summary>The label of positions that are not predicted (PyTorch's cross-entropy default).</summary>
    public const int IgnoreIndex = -100;

    private readonly RnaTokenizer _tokenizer;
    private readonly int _k;
    private readonly int _maskId;
    private readonly int[] _nucleotideIds;       // 1-mer: ids of A, C, G, U
    private readonly Dictionary<string, int>? _kmerIds;
    private readonly char[][] _letters;           // per id: its letters (k of them), or null for specials

    public MlmMasker(RnaTokenizer tokenizer, MaskingOptions? options = null, MotifSet? motifs = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Options = options ?? MaskingOptions.Default;
        Options.Validate();
        Motifs = motifs;
        _tokenizer = tokenizer;
        var vocabulary = tokenizer.Vocabulary;
        _k = tokenizer.Options.Nmers;
        _maskId = vocabulary.MaskId ?? throw new ArgumentException($"The vocabulary has no '{Vocabulary.MaskToken}' token, so it cannot be used for masked-language modelling.", nameof(tokenizer));
        _letters = new char[vocabulary.Count][];
        for (int id = 0; id < vocabulary.Count; id++)
        {
            string token = vocabulary[id];
            if (!tokenizer.IsSpecialToken(id) && token.Length == _k) _letters[id] = token.ToCharArray();
        }
        if (_k == 1)
        {
            _nucleotideIds = "ACGU".Select(c => vocabulary.TryGetId(c.ToString(), out int id)
                ? id
                : throw new ArgumentException($"The vocabulary has no token '{c}', which random replacement needs.", nameof(tokenizer))).ToArray();
        }
        else
        {
            _nucleotideIds = Array.Empty<int>();
            _kmerIds = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int id = 0; id < vocabulary.Count; id++)
            {
                string token = vocabulary[id];
                if (token.Length == _k && token.All(c => c is 'A' or 'C' or 'G' or 'U')) _kmerIds[token] = id;
            }
            int expected = 1 << (2 * _k);
            if (_kmerIds.Count != expected)
            {
                throw new ArgumentException($"The {_k}-mer vocabulary has {_kmerIds.Count} k-mers over A, C, G, U; random replacement needs all {expected}.", nameof(tokenizer));
            }
        }
    }

    public MaskingOptions Options { get; }

    public MotifSet? Motifs { get; }

    /// <summary>k of the tokenizer's k-mers.</summary>
    public int Nmers => _k;

    /// <summary>Draws the level of one batch: always base for BERT, 1:1:1 for RNAErnie.</summary>
    public MaskLevel ChooseLevel(MaskingScheme scheme, TrainingRandom random) =>
        scheme == MaskingScheme.Bert ? MaskLevel.Base : (MaskLevel)random.Next(3);

    /// <summary>Encodes <paramref name="sequences"/> (padded to the longest) and masks them at one level.</summary>
    public MaskedBatch Mask(IReadOnlyList<string> sequences, MaskLevel level, TrainingRandom random)
    {
        var encoding = _tokenizer.EncodeBatch(sequences, new EncodeOptions { Padding = PaddingStrategy.Longest });
        return Mask(encoding.InputIds, encoding.AttentionMask, level, random);
    }

    /// <summary>Masks already encoded rows at one level. The inputs are not modified.</summary>
    /// <exception cref="InvalidOperationException">Motif level without motifs.</exception>
    public MaskedBatch Mask(int[][] inputIds, int[][] attentionMask, MaskLevel level, TrainingRandom random)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(random);
        if (level == MaskLevel.Motif && Motifs is null) throw new InvalidOperationException("Motif-level masking needs a motif set.");
        var ids = new int[inputIds.Length][];
        var labels = new long[inputIds.Length][];
        for (int b = 0; b < inputIds.Length; b++)
        {
            var row = inputIds[b];
            var mask = attentionMask[b];
            ids[b] = (int[])row.Clone();
            labels[b] = new long[row.Length];
            Array.Fill(labels[b], IgnoreIndex);
            foreach (var run in Runs(row, mask))
            {
                bool[] selected = SelectNucleotides(run, level, random);
                ApplyToTokens(row, run, selected, ids[b], labels[b], random);
            }
        }
        var masks = attentionMask.Select(m => (int[])m.Clone()).ToArray();
        return new MaskedBatch(ids, masks, labels, level);
    }

    /// <summary>
    /// Masks the RNA type token of the rows that carry one (the token after the indicator, see
    /// <see cref="TokenizerOptions.RnaTypes"/>): per such row, with probability <paramref name="probability"/>, the type
    /// token becomes <c>&lt;mask&gt;</c> and is labelled with its id, so the model learns to predict the type from the
    /// sequence; otherwise it stays as context for the nucleotides. Rows without a type are unchanged. Returns a new batch.
    /// </summary>
    public MaskedBatch MaskTypes(MaskedBatch batch, double probability, TrainingRandom random)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(random);
        if (_tokenizer.IndicatorId is not int indicator || _tokenizer.TypeIds is not { } typeIds) return batch;
        var ids = batch.InputIds.Select(r => (int[])r.Clone()).ToArray();
        var labels = batch.Labels.Select(r => (long[])r.Clone()).ToArray();
        for (int b = 0; b < ids.Length; b++)
        {
            int position = TypePosition(ids[b], indicator, typeIds);
            if (position < 0) continue;
            if (!random.Bernoulli(probability)) continue;
            labels[b][position] = ids[b][position];
            ids[b][position] = _maskId;
        }
        return new MaskedBatch(ids, batch.AttentionMask, labels, batch.Level);
    }

    /// <summary>The position of the type token (right after the indicator) in a row, or −1.</summary>
    internal static int TypePosition(int[] row, int indicatorId, IReadOnlyList<int> typeIds)
    {
        for (int i = 0; i + 1 < row.Length; i++)
        {
            if (row[i] == indicatorId && typeIds.Contains(row[i + 1])) return i + 1;
        }
        return -1;
    }

    /// <summary>A run of consecutive maskable tokens and the nucleotides they spell.</summary>
    internal sealed record Run(int TokenStart, int TokenCount, char[] Nucleotides);

    /// <summary>The runs of non-special, non-padding tokens of one row.</summary>
    internal IEnumerable<Run> Runs(int[] row, int[] mask)
    {
        int i = 0;
        while (i < row.Length)
        {
            if (!Maskable(row, mask, i)) { i++; continue; }
            int start = i;
            while (i < row.Length && Maskable(row, mask, i)) i++;
            int count = i - start;
            var nucleotides = new char[count + _k - 1];
            for (int t = 0; t < count; t++)
            {
                var letters = _letters[row[start + t]];
                if (t == 0) letters.CopyTo(nucleotides, 0);
                else nucleotides[t + _k - 1] = letters[_k - 1];
            }
            yield return new Run(start, count, nucleotides);
        }
    }

    private bool Maskable(int[] row, int[] mask, int i) =>
        mask[i] != 0 && (uint)row[i] < (uint)_letters.Length && _letters[row[i]] is not null;

    private bool[] SelectNucleotides(Run run, MaskLevel level, TrainingRandom random)
    {
        int n = run.Nucleotides.Length;
        var selected = new bool[n];
        double p = Options.Probability;
        if (level == MaskLevel.Base)
        {
            for (int i = 0; i < n; i++) selected[i] = random.Bernoulli(p);
            return selected;
        }

        // Target count with the right expectation: floor(p·n) plus one with probability frac(p·n).
        double exact = p * n;
        int target = (int)Math.Floor(exact);
        if (random.Bernoulli(exact - target)) target++;
        int covered = 0;
        if (target == 0) return selected;

        if (level == MaskLevel.Motif)
        {
            var occurrences = Motifs!.FindOccurrences(run.Nucleotides).ToArray();
            random.Shuffle(occurrences);
            foreach (var (start, length) in occurrences)
            {
                if (covered >= target) break;
                if (!TryAdd(selected, start, length, target, ref covered, random)) return selected;
            }
        }
        // Subsequence level, and the top-up of motif level: spans of SpanMin..SpanMax nucleotides.
        int attempts = 0;
        while (covered < target && attempts++ < 100 * (n + 1))
        {
            int length = Math.Min(n, random.NextInclusive(Options.SpanMin, Options.SpanMax));
            int start = random.Next(n - length + 1);
            if (!TryAdd(selected, start, length, target, ref covered, random)) break;
        }
        return selected;
    }

    /// <summary>
    /// Adds a span; when it would pass the target it is taken with probability remaining / new, which keeps the expected
    /// count at the target. Returns false when the span was declined (selection ends there).
    /// </summary>
    private static bool TryAdd(bool[] selected, int start, int length, int target, ref int covered, TrainingRandom random)
    {
        int fresh = 0;
        for (int i = start; i < start + length; i++) if (!selected[i]) fresh++;
        if (fresh == 0) return true;
        int remaining = target - covered;
        if (fresh > remaining && !random.Bernoulli((double)remaining / fresh)) return false;
        for (int i = start; i < start + length; i++) selected[i] = true;
        covered += fresh;
        return true;
    }

    private void ApplyToTokens(int[] original, Run run, bool[] selected, int[] ids, long[] labels, TrainingRandom random)
    {
        for (int t = 0; t < run.TokenCount; t++)
        {
            bool hit = false;
            for (int j = t; j < t + _k; j++) hit |= selected[j];
            if (!hit) continue;
            int position = run.TokenStart + t;
            labels[position] = original[position];
            double u = random.NextDouble();
            if (u < Options.MaskTokenFraction) ids[position] = _maskId;
            else if (u < Options.MaskTokenFraction + Options.RandomTokenFraction) ids[position] = RandomToken(random);
        }
    }

    private int RandomToken(TrainingRandom random)
    {
        if (_k == 1) return _nucleotideIds[random.Next(4)];
        Span<char> kmer = stackalloc char[_k];
        for (int i = 0; i < _k; i++) kmer[i] = "ACGU"[random.Next(4)];
        return _kmerIds![new string(kmer)];
    }
}
