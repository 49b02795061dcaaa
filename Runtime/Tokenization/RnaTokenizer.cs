using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace RnaLm.Tokenization;

/// <summary>
/// The MultiMolecule RNA tokenizer (models.md §1.2), and its DNA sibling (families-esm.md §3.2). Text is first split
/// on exact, case-sensitive occurrences of the special-token strings present in the vocabulary
/// (<c>&lt;pad&gt; &lt;cls&gt; &lt;eos&gt; &lt;unk&gt; &lt;mask&gt; &lt;null&gt;</c>). Every other chunk is upper-cased and has
/// T replaced by U (or, for DNA vocabularies, U by T; per <see cref="Options"/>), then gives one token per character
/// (nmers = 1), its overlapping k-mers with stride 1 (nmers = k; a chunk shorter than k gives none), or with
/// <see cref="TokenizerOptions.Codon"/> its non-overlapping triplets from the start (the chunk length must be a
/// multiple of 3; families-esm.md §1.2). Tokens missing from the vocabulary become <c>&lt;unk&gt;</c>. Special tokens are added as
/// <c>[&lt;cls&gt;] a [&lt;eos&gt;]</c>, or for a pair <c>[&lt;cls&gt;] a [&lt;eos&gt;] b [&lt;eos&gt;]</c>.
/// </summary>
/// <remarks>
/// Characters are counted like Python strings: a surrogate pair is one character. Upper-casing uses the simple
/// (one-to-one) Unicode case mapping, which differs from Python's <c>str.upper</c> only for the few non-ASCII
/// characters whose upper case has several characters (such as ß); none of them occurs in nucleotide text.
/// </remarks>
public sealed class RnaTokenizer
{
    private readonly (string Text, int Id)[] _specials;
    private readonly bool[] _isSpecialId;
    private readonly int _unkId;
    private readonly bool _upperCase;
    private readonly bool _tToU;
    private readonly bool _uToT;

    /// <summary>Creates a tokenizer.</summary>
    /// <param name="vocabulary">The vocabulary; it must contain <c>&lt;unk&gt;</c>, and <c>&lt;cls&gt;</c>/<c>&lt;eos&gt;</c> when they are added.</param>
    /// <param name="options">The settings. With <see cref="TokenizerOptions.Codon"/>, <see cref="TokenizerOptions.Nmers"/> 1
    /// (the default) becomes 3 in <see cref="Options"/>.</param>
    /// <exception cref="ArgumentException">The vocabulary lacks a token the options need, an option is out of range, or
    /// two options contradict each other (T→U with U→T, codons with nmers other than 3).</exception>
    public RnaTokenizer(Vocabulary vocabulary, TokenizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nmers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Nmers, $"Nmers must be at least 1 (got {options.Nmers}).");
        }
        if (options.Codon)
        {
            if (options.Nmers is not (1 or 3))
            {
                throw new ArgumentException($"Codon segmentation uses 3-mers; Nmers {options.Nmers} contradicts it (leave it at 1 or set 3).", nameof(options));
            }
            options = options with { Nmers = 3 };
        }
        if (options.ReplaceTWithU && options.ReplaceUWithT)
        {
            throw new ArgumentException(
                "ReplaceTWithU and ReplaceUWithT are both set; an RNA vocabulary wants T→U, a DNA vocabulary U→T, never both.", nameof(options));
        }
        if (options.ModelMaxLength is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ModelMaxLength,
                $"ModelMaxLength must be positive or null (got {options.ModelMaxLength}).");
        }
        _unkId = vocabulary.UnkId ?? throw new ArgumentException(
            $"The vocabulary has no '{Vocabulary.UnkToken}' token, which the tokenizer needs for unknown input.", nameof(vocabulary));
        if (options.AddBos && vocabulary.BosId is null)
        {
            throw new ArgumentException($"AddBos is set but the vocabulary has no '{Vocabulary.ClsToken}' token.", nameof(options));
        }
        if (options.AddEos && vocabulary.EosId is null)
        {
            throw new ArgumentException($"AddEos is set but the vocabulary has no '{Vocabulary.EosToken}' token.", nameof(options));
        }

        if (FirstTokenOfAnotherLength(vocabulary, options.Nmers) is { } misfit)
        {
            vocabulary.TryGetId(misfit, out int misfitId);
            throw new ArgumentException(
                $"nmers is {options.Nmers}, but the vocabulary's token '{misfit}' (id {misfitId}) is not a " +
                $"{options.Nmers}-mer: a {options.Nmers}-mer tokenizer needs a vocabulary of {options.Nmers}-character tokens " +
                "(besides <...> special tokens), or every text would become <unk>.", nameof(options));
        }

        Vocabulary = vocabulary;
        Options = options;
        _upperCase = options.UpperCase;
        _tToU = options.ReplaceTWithU;
        _uToT = options.ReplaceUWithT;

        var specials = new List<(string, int)>();
        _isSpecialId = new bool[vocabulary.Count];
        foreach (var token in Vocabulary.SpecialTokens)
        {
            if (vocabulary.TryGetId(token, out int id))
            {
                specials.Add((token, id));
                _isSpecialId[id] = true;
            }
        }
        _specials = specials.ToArray();
    }

    /// <summary>The first token that is neither a <c>&lt;...&gt;</c> special token nor <paramref name="k"/> characters (code points) long.</summary>
    private static string? FirstTokenOfAnotherLength(Vocabulary vocabulary, int k)
    {
        foreach (string token in vocabulary.Tokens)
        {
            if (token.Length > 2 && token[0] == '<' && token[^1] == '>') continue;
            int length = 0;
            foreach (var _ in token.EnumerateRunes()) length++;
            if (length != k) return token;
        }
        return null;
    }

    /// <summary>The vocabulary.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The settings.</summary>
    public TokenizerOptions Options { get; }

    /// <summary>A tokenizer with the same vocabulary and other settings.</summary>
    /// <param name="options">The new settings.</param>
    public RnaTokenizer With(TokenizerOptions options) => new(Vocabulary, options);

    /// <summary>
    /// Loads a tokenizer saved the MultiMolecule way: <c>vocab.txt</c> (one token per line, line index = id) and
    /// <c>tokenizer_config.json</c> (<c>tokenizer_class</c> <c>RnaTokenizer</c> (the default) or <c>DnaTokenizer</c>,
    /// <c>nmers</c>, <c>codon</c>, <c>do_upper_case</c>, <c>replace_T_with_U</c> (default true for RNA, false for DNA),
    /// <c>replace_U_with_T</c> (default true for DNA, false for RNA), <c>model_max_length</c> (null or absent =
    /// unbounded), <c>bos_token</c>/<c>eos_token</c> (null = not added)).
    /// </summary>
    /// <param name="dir">The directory holding both files.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="FormatException">A file is malformed or asks for something this tokenizer does not do (the message names the file).</exception>
    public static RnaTokenizer FromDirectory(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Tokenizer directory '{dir}' does not exist.");
        }
        string vocabPath = Path.Combine(dir, "vocab.txt");
        string configPath = Path.Combine(dir, "tokenizer_config.json");
        if (RnaLm.IO.FileProbe.Stat(vocabPath).Kind == RnaLm.IO.FileKind.Missing)
        {
            throw new FileNotFoundException($"Tokenizer directory '{dir}' has no vocab.txt.", vocabPath);
        }
        if (RnaLm.IO.FileProbe.Stat(configPath).Kind == RnaLm.IO.FileKind.Missing)
        {
            throw new FileNotFoundException($"Tokenizer directory '{dir}' has no tokenizer_config.json.", configPath);
        }

        var vocabulary = Vocabulary.Load(vocabPath);
        var options = ReadConfig(configPath);
        try
        {
            return new RnaTokenizer(vocabulary, options);
        }
        catch (ArgumentException e)
        {
            string reason = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
            throw new FormatException($"{configPath}: settings do not fit {vocabPath}: {reason}", e);
        }
    }

    private static TokenizerOptions ReadConfig(string configPath)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(RnaLm.IO.SmallTextFile.Read(configPath, message => new FormatException(message)));
        if (RnaLm.IO.StrictJson.FindProblem(bytes) is { } problem)
        {
            throw new FormatException($"{configPath}: {problem}.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{configPath}: not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{configPath}: expected a JSON object, found {root.ValueKind}.");
            }

            bool dna = false;
            if (TryGet(root, "tokenizer_class", out var element))
            {
                dna = element.ValueKind == JsonValueKind.String ? element.GetString() switch
                {
                    "RnaTokenizer" => false,
                    "DnaTokenizer" => true,
                    _ => throw new FormatException(
                        $"{configPath}: 'tokenizer_class' {element.GetRawText()} is not supported; only \"RnaTokenizer\" or \"DnaTokenizer\"."),
                } : throw new FormatException($"{configPath}: 'tokenizer_class' must be a string, found {element.GetRawText()}.");
            }

            int nmers = 1;
            if (TryGet(root, "nmers", out element))
            {
                if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out nmers) || nmers < 1)
                {
                    throw new FormatException($"{configPath}: 'nmers' must be a positive integer, found {element.GetRawText()}.");
                }
            }
            bool codon = ReadBool(root, "codon", false, configPath);
            if (codon && nmers is not (1 or 3))
            {
                throw new FormatException($"{configPath}: 'codon: true' cuts 3-mers, but 'nmers' is {nmers}.");
            }
            bool tToU = ReadBool(root, "replace_T_with_U", !dna, configPath);
            bool uToT = ReadBool(root, "replace_U_with_T", dna, configPath);
            if (tToU && uToT)
            {
                throw new FormatException($"{configPath}: 'replace_T_with_U' and 'replace_U_with_T' are both true; at most one of them may be.");
            }
            if (TryGet(root, "padding_side", out element) &&
                !(element.ValueKind == JsonValueKind.String && element.GetString() == "right"))
            {
                throw new FormatException($"{configPath}: 'padding_side' {element.GetRawText()} is not supported; only \"right\".");
            }

            int? maxLength = null;
            if (TryGet(root, "model_max_length", out element))
            {
                if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out double value) ||
                    value < 1 || value != Math.Floor(value))
                {
                    throw new FormatException(
                        $"{configPath}: 'model_max_length' must be a positive integer or null, found {element.GetRawText()}.");
                }
                // Hugging Face writes int(1e30) for "unbounded"; anything beyond int range means the same.
                maxLength = value <= int.MaxValue ? (int)value : null;
            }

            return new TokenizerOptions
            {
                Nmers = codon ? 3 : nmers,
                Codon = codon,
                UpperCase = ReadBool(root, "do_upper_case", true, configPath),
                ReplaceTWithU = tToU,
                ReplaceUWithT = uToT,
                AddBos = ReadSpecial(root, "bos_token", Vocabulary.ClsToken, configPath),
                AddEos = ReadSpecial(root, "eos_token", Vocabulary.EosToken, configPath),
                ModelMaxLength = maxLength,
            };
        }
    }

    private static bool TryGet(JsonElement root, string name, out JsonElement element)
    {
        if (root.TryGetProperty(name, out element) && element.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        element = default;
        return false;
    }

    private static bool ReadBool(JsonElement root, string name, bool fallback, string configPath)
    {
        if (!TryGet(root, name, out var element))
        {
            return fallback;
        }
        return element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"{configPath}: '{name}' must be true or false, found {element.GetRawText()}."),
        };
    }

    // bos_token / eos_token: absent = the default token, null = not added, a string (or an AddedToken object with
    // "content") must be the MultiMolecule token.
    private static bool ReadSpecial(JsonElement root, string name, string expected, string configPath)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            return true;
        }
        string? content = element.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Object when element.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => throw new FormatException($"{configPath}: '{name}' must be a string or null, found {element.GetRawText()}."),
        };
        if (content is null)
        {
            return false;
        }
        if (content != expected)
        {
            throw new FormatException($"{configPath}: '{name}' is \"{content}\"; only \"{expected}\" or null is supported.");
        }
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is one of the special tokens (pad, cls, eos, unk, mask, null).</summary>
    public bool IsSpecialToken(int id) => (uint)id < (uint)_isSpecialId.Length && _isSpecialId[id];

    /// <summary>The token of an id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string IdToToken(int id) => Vocabulary[id];

    /// <summary>
    /// The string tokens of <paramref name="text"/> before id lookup, without added special tokens: special-token
    /// strings found in the text, then per chunk the (transformed) characters or k-mers.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <exception cref="TokenizationException">Codon segmentation, and a chunk's length is not a multiple of 3.</exception>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>(text.Length);
        int position = 0;
        while (position < text.Length)
        {
            int next = FindSpecial(text, position, out int specialLength, out _);
            int chunkEnd = next < 0 ? text.Length : next;
            if (chunkEnd > position)
            {
                TokenizeChunk(text.AsSpan(position, chunkEnd - position), position, text.Length, tokens);
            }
            if (next < 0)
            {
                break;
            }
            tokens.Add(text.Substring(next, specialLength));
            position = next + specialLength;
        }
        return tokens;
    }

    /// <summary>Encodes one text or a pair of texts.</summary>
    /// <param name="text">The (first) text.</param>
    /// <param name="pair">The second text of a pair, or null.</param>
    /// <param name="options">Per-call options; null means <see cref="EncodeOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">The options cannot be satisfied (no length for max-length padding, or a
    /// truncation length shorter than the special tokens).</exception>
    /// <exception cref="TokenizationException">Codon segmentation, and a chunk's length is not a multiple of 3.</exception>
    public EncodedSequence Encode(string text, string? pair = null, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= EncodeOptions.Default;
        int? limit = ValidateOptions(options);
        int[] ids = EncodeUnpadded(text, pair, options, limit);
        int target = ids.Length;
        if (options.Padding == PaddingStrategy.MaxLength)
        {
            target = Math.Max(target, limit!.Value);
        }
        return Pad(ids, target);
    }

    /// <summary>
    /// Encodes a batch of texts into rows of equal length, right-padded with <c>&lt;pad&gt;</c> (mask 0).
    /// <see cref="PaddingStrategy.Longest"/> pads to the longest row. <see cref="PaddingStrategy.MaxLength"/> pads to
    /// the length limit, or to the longest row when a row is longer (no truncation requested).
    /// <see cref="PaddingStrategy.None"/> also pads to the longest row, because a batch must be rectangular to become
    /// tensors; use <see cref="Encode"/> per text for unpadded encodings.
    /// </summary>
    /// <param name="texts">The texts.</param>
    /// <param name="options">Per-call options; null means <see cref="EncodeOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">A text is null (the message gives its index), or the options cannot be satisfied.</exception>
    /// <exception cref="TokenizationException">Codon segmentation, and a chunk's length is not a multiple of 3
    /// (<see cref="TokenizationException.SequenceIndex"/> gives the text).</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= EncodeOptions.Default;
        int? limit = ValidateOptions(options);

        var rows = new int[texts.Count][];
        var lengths = new int[texts.Count];
        var exceeds = new bool[texts.Count];
        int longest = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentException($"Text at index {i} of the batch is null.", nameof(texts));
            try
            {
                rows[i] = EncodeUnpadded(text, null, options, limit);
            }
            catch (TokenizationException e)
            {
                throw e.InBatch(i);
            }
            lengths[i] = rows[i].Length;
            exceeds[i] = Options.ModelMaxLength is int max && rows[i].Length > max;
            longest = Math.Max(longest, rows[i].Length);
        }

        int target = longest;
        if (options.Padding == PaddingStrategy.MaxLength)
        {
            target = Math.Max(longest, limit!.Value);
        }
        bool needsPadding = false;
        foreach (int length in lengths)
        {
            needsPadding |= length != target;
        }
        int pad = needsPadding ? PadIdOrThrow() : 0;

        var ids = new int[rows.Length][];
        var masks = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            var row = new int[target];
            var mask = new int[target];
            rows[i].AsSpan().CopyTo(row);
            row.AsSpan(lengths[i]).Fill(pad);
            mask.AsSpan(0, lengths[i]).Fill(1);
            ids[i] = row;
            masks[i] = mask;
        }
        return new BatchEncoding(ids, masks, target, lengths, exceeds);
    }

    /// <summary>
    /// Turns ids back into text. Tokens are concatenated without separators; with overlapping k-mers (nmers &gt; 1,
    /// not codons) each run of consecutive k-mers is collapsed back into the nucleotides it covers (the first k-mer,
    /// then the last letter of each following one). Codons are written out whole. Special tokens are written as
    /// themselves unless <paramref name="skipSpecialTokens"/>.
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens (padding, <c>&lt;cls&gt;</c>, <c>&lt;eos&gt;</c>, <c>&lt;unk&gt;</c>, <c>&lt;mask&gt;</c>, <c>&lt;null&gt;</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary (the message gives its position).</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int k = Options.Codon ? 1 : Options.Nmers; // codons do not overlap: every token is written whole
        var builder = new StringBuilder();
        bool inKmerRun = false;
        int position = 0;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)Vocabulary.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id,
                    $"Token id {id} at position {position} is outside the vocabulary (size {Vocabulary.Count}).");
            }
            position++;
            string token = Vocabulary[id];
            if (_isSpecialId[id])
            {
                inKmerRun = false;
                if (!skipSpecialTokens)
                {
                    builder.Append(token);
                }
                continue;
            }
            if (k > 1 && token.Length == k)
            {
                if (inKmerRun)
                {
                    builder.Append(token[^1]);
                }
                else
                {
                    builder.Append(token);
                    inKmerRun = true;
                }
                continue;
            }
            inKmerRun = false;
            builder.Append(token);
        }
        return builder.ToString();
    }

    private int? ValidateOptions(EncodeOptions options)
    {
        if (options.MaxLength is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLength,
                $"MaxLength must be positive or null (got {options.MaxLength}).");
        }
        int? limit = options.MaxLength ?? Options.ModelMaxLength;
        if (options.Padding == PaddingStrategy.MaxLength && limit is null)
        {
            throw new ArgumentException(
                "Padding to MaxLength needs a length: set EncodeOptions.MaxLength (the tokenizer has no model maximum length).",
                nameof(options));
        }
        if (options.Padding == PaddingStrategy.MaxLength && Vocabulary.PadId is null)
        {
            PadIdOrThrow();
        }
        return limit;
    }

    private int SpecialTokenCount(bool isPair, bool addSpecialTokens)
    {
        if (!addSpecialTokens)
        {
            return 0;
        }
        int eos = Options.AddEos ? 1 : 0;
        return (Options.AddBos ? 1 : 0) + eos + (isPair ? eos : 0);
    }

    private int[] EncodeUnpadded(string text, string? pair, EncodeOptions options, int? limit)
    {
        int[] bufferA = ArrayPool<int>.Shared.Rent(Math.Max(1, text.Length));
        int[]? bufferB = pair is null ? null : ArrayPool<int>.Shared.Rent(Math.Max(1, pair.Length));
        try
        {
            int lengthA = EncodeText(text, bufferA);
            int lengthB = pair is null ? 0 : EncodeText(pair, bufferB!);
            int specials = SpecialTokenCount(pair is not null, options.AddSpecialTokens);

            if (options.Truncation && limit is int max)
            {
                int budget = max - specials;
                if (budget < 0)
                {
                    throw new ArgumentException(
                        $"Truncation to {max} tokens is impossible: the special tokens alone take {specials}.", nameof(options));
                }
                int excess = lengthA + lengthB - budget;
                if (excess > 0)
                {
                    (int removeA, int removeB) = pair is null ? (excess, 0) : LongestFirst(lengthA, lengthB, excess);
                    lengthA -= removeA;
                    lengthB -= removeB;
                }
            }

            var result = new int[lengthA + lengthB + specials];
            int at = 0;
            bool addSpecial = options.AddSpecialTokens;
            if (addSpecial && Options.AddBos)
            {
                result[at++] = Vocabulary.BosId!.Value;
            }
            bufferA.AsSpan(0, lengthA).CopyTo(result.AsSpan(at));
            at += lengthA;
            if (addSpecial && Options.AddEos)
            {
                result[at++] = Vocabulary.EosId!.Value;
            }
            if (pair is not null)
            {
                bufferB.AsSpan(0, lengthB).CopyTo(result.AsSpan(at));
                at += lengthB;
                if (addSpecial && Options.AddEos)
                {
                    result[at++] = Vocabulary.EosId!.Value;
                }
            }
            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(bufferA);
            if (bufferB is not null)
            {
                ArrayPool<int>.Shared.Return(bufferB);
            }
        }
    }

    // Hugging Face "longest_first": remove one token at a time from the longer text, from the second text on ties.
    private static (int RemoveA, int RemoveB) LongestFirst(int lengthA, int lengthB, int excess)
    {
        int first = Math.Min(Math.Abs(lengthA - lengthB), excess);
        int rest = excess - first;
        return lengthA > lengthB
            ? (first + rest / 2, rest - rest / 2)
            : (rest / 2, first + rest - rest / 2);
    }

    private EncodedSequence Pad(int[] ids, int target)
    {
        int real = ids.Length;
        bool exceeds = Options.ModelMaxLength is int max && real > max;
        int[] padded = ids;
        if (target > real)
        {
            padded = new int[target];
            ids.AsSpan().CopyTo(padded);
            padded.AsSpan(real).Fill(PadIdOrThrow());
        }
        var mask = new int[target];
        mask.AsSpan(0, real).Fill(1);
        return new EncodedSequence(Vocabulary, padded, mask, real, exceeds);
    }

    private int PadIdOrThrow() =>
        Vocabulary.PadId ?? throw new InvalidOperationException(
            $"Padding needs a '{Vocabulary.PadToken}' token, and the vocabulary has none.");

    // Finds the next special-token string at or after `start` (longest match at the earliest position).
    private int FindSpecial(string text, int start, out int length, out int id)
    {
        length = 0;
        id = -1;
        if (_specials.Length == 0)
        {
            return -1;
        }
        var span = text.AsSpan();
        int position = start;
        while (position < span.Length)
        {
            int offset = span[position..].IndexOf('<');
            if (offset < 0)
            {
                return -1;
            }
            position += offset;
            var rest = span[position..];
            foreach (var (special, specialId) in _specials)
            {
                if (special.Length > length && rest.StartsWith(special, StringComparison.Ordinal))
                {
                    length = special.Length;
                    id = specialId;
                }
            }
            if (length > 0)
            {
                return position;
            }
            position++;
        }
        return -1;
    }

    // Writes the ids of `text` into `destination` (at least text.Length long); returns the count.
    private int EncodeText(string text, int[] destination)
    {
        int count = 0;
        int position = 0;
        while (position < text.Length)
        {
            int next = FindSpecial(text, position, out int specialLength, out int specialId);
            int chunkEnd = next < 0 ? text.Length : next;
            if (chunkEnd > position)
            {
                count += EncodeChunk(text.AsSpan(position, chunkEnd - position), position, text.Length, destination.AsSpan(count));
            }
            if (next < 0)
            {
                break;
            }
            destination[count++] = specialId;
            position = next + specialLength;
        }
        return count;
    }

    private char Transform(char c)
    {
        if (_upperCase)
        {
            if ((uint)(c - 'a') <= 'z' - 'a')
            {
                c = (char)(c - ('a' - 'A'));
            }
            else if (c >= 128 && !char.IsSurrogate(c))
            {
                c = char.ToUpperInvariant(c);
            }
        }
        if (_tToU && c == 'T')
        {
            c = 'U';
        }
        else if (_uToT && c == 'U')
        {
            c = 'T';
        }
        return c;
    }

    // Ids of one chunk (text between special-token strings) written to `destination`; returns the count. `offset` and
    // `textLength` only locate the chunk in an error message.
    private int EncodeChunk(ReadOnlySpan<char> chunk, int offset, int textLength, Span<int> destination)
    {
        int k = Options.Nmers;
        int step = Options.Codon ? k : 1;
        if (k == 1)
        {
            int count = 0;
            for (int i = 0; i < chunk.Length; i++)
            {
                char c = chunk[i];
                if (char.IsHighSurrogate(c) && i + 1 < chunk.Length && char.IsLowSurrogate(chunk[i + 1]))
                {
                    // One Python character; upper-casing supplementary characters never yields a nucleotide.
                    destination[count++] = Vocabulary.TryGetId(chunk.Slice(i, 2), out int pairId) ? pairId : _unkId;
                    i++;
                    continue;
                }
                int id = Vocabulary.LookupChar(Transform(c));
                destination[count++] = id >= 0 ? id : _unkId;
            }
            return count;
        }

        char[]? rented = null;
        Span<char> buffer = chunk.Length <= 512 ? stackalloc char[chunk.Length] : (rented = ArrayPool<char>.Shared.Rent(chunk.Length));
        try
        {
            var transformed = buffer[..chunk.Length];
            for (int i = 0; i < chunk.Length; i++)
            {
                transformed[i] = Transform(chunk[i]);
            }
            int produced = 0;
            if (!transformed.ContainsAnyInRange('\uD800', '\uDFFF'))
            {
                CheckCodonLength(transformed.Length, offset, textLength);
                for (int start = 0; start + k <= transformed.Length; start += step)
                {
                    destination[produced++] = Vocabulary.TryGetId(transformed.Slice(start, k), out int id) ? id : _unkId;
                }
                return produced;
            }

            var starts = CharacterStarts(transformed);
            CheckCodonLength(starts.Count - 1, offset, textLength);
            for (int first = 0; first + k < starts.Count; first += step)
            {
                int begin = starts[first];
                var window = transformed[begin..starts[first + k]];
                destination[produced++] = Vocabulary.TryGetId(window, out int id) ? id : _unkId;
            }
            return produced;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    // With codon segmentation a chunk must split into whole triplets.
    private void CheckCodonLength(int characters, int offset, int textLength)
    {
        if (Options.Codon && characters % Options.Nmers != 0)
        {
            throw new TokenizationException(characters, offset, textLength);
        }
    }

    private void TokenizeChunk(ReadOnlySpan<char> chunk, int offset, int textLength, List<string> tokens)
    {
        var transformed = new char[chunk.Length];
        for (int i = 0; i < chunk.Length; i++)
        {
            transformed[i] = Transform(chunk[i]);
        }
        var starts = CharacterStarts(transformed);
        int characters = starts.Count - 1;
        int k = Options.Nmers;
        int step = Options.Codon ? k : 1;
        CheckCodonLength(characters, offset, textLength);
        for (int first = 0; first + k <= characters; first += step)
        {
            int begin = starts[first];
            tokens.Add(new string(transformed, begin, starts[first + k] - begin));
        }
    }

    // Start index of every Python character (a surrogate pair counts once), plus the end index.
    private static List<int> CharacterStarts(ReadOnlySpan<char> text)
    {
        var starts = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
        }
        starts.Add(text.Length);
        return starts;
    }
}
