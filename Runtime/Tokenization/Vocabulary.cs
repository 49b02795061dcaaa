using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Text;

namespace RnaLm.Tokenization;

/// <summary>
/// A token vocabulary: the id of a token is its index. MultiMolecule RNA vocabularies start with the six special
/// tokens <see cref="SpecialTokens"/> (ids 0-5), followed by the (k-mer) alphabet.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The padding token (id 0 in MultiMolecule vocabularies).</summary>
    public const string PadToken = "<pad>";

    /// <summary>The class / begin-of-sequence token (id 1).</summary>
    public const string ClsToken = "<cls>";

    /// <summary>The end-of-sequence token, also used as separator (id 2).</summary>
    public const string EosToken = "<eos>";

    /// <summary>The unknown token (id 3).</summary>
    public const string UnkToken = "<unk>";

    /// <summary>The mask token (id 4).</summary>
    public const string MaskToken = "<mask>";

    /// <summary>The null token (id 5), an additional special token.</summary>
    public const string NullToken = "<null>";

    /// <summary>The current 22-symbol standard RNA alphabet (vocabulary size 28).</summary>
    public const string StandardAlphabet = "ACGUNRYSWKMBDHVIX|.*-?";

    /// <summary>The legacy 20-symbol standard RNA alphabet (vocabulary size 26; also ncRNABert's).</summary>
    public const string LegacyAlphabet = "ACGUNRYSWKMBDHV.X*-I";

    /// <summary>The "streamline" alphabet used for k-mer vocabularies.</summary>
    public const string StreamlineAlphabet = "ACGUN";

    /// <summary>Largest k accepted by <see cref="RnaKmer"/> (5^8 = 390,625 k-mers).</summary>
    public const int MaxKmer = 8;

    private static readonly string[] SpecialTokenArray = [PadToken, ClsToken, EosToken, UnkToken, MaskToken, NullToken];
    private static readonly ReadOnlyCollection<string> SpecialTokenView = Array.AsReadOnly(SpecialTokenArray);

    private readonly string[] _tokens;
    private readonly ReadOnlyCollection<string> _tokenView;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    private readonly int[] _asciiIds;

    /// <summary>Creates a vocabulary; the id of each token is its index in <paramref name="tokens"/>.</summary>
    /// <param name="tokens">The tokens in id order.</param>
    /// <exception cref="ArgumentException">A token is null or empty, or appears twice (the message names it and both ids).</exception>
    public Vocabulary(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = new string[tokens.Count];
        _ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
        {
            string token = tokens[id];
            if (string.IsNullOrEmpty(token))
            {
                throw new ArgumentException($"Vocabulary token with id {id} is {(token is null ? "null" : "empty")}.", nameof(tokens));
            }
            if (!_ids.TryAdd(token, id))
            {
                throw new ArgumentException(
                    $"Vocabulary token '{token}' appears twice: ids {_ids[token]} and {id}.", nameof(tokens));
            }
            _tokens[id] = token;
        }
        _tokenView = Array.AsReadOnly(_tokens);
        _spanLookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

        _asciiIds = new int[128];
        Array.Fill(_asciiIds, -1);
        for (int id = 0; id < _tokens.Length; id++)
        {
            if (_tokens[id].Length == 1 && _tokens[id][0] < 128)
            {
                _asciiIds[_tokens[id][0]] = id;
            }
        }

        PadId = Find(PadToken);
        BosId = Find(ClsToken);
        EosId = Find(EosToken);
        UnkId = Find(UnkToken);
        MaskId = Find(MaskToken);
        NullId = Find(NullToken);
    }

    /// <summary>The six MultiMolecule special tokens in id order: <c>&lt;pad&gt; &lt;cls&gt; &lt;eos&gt; &lt;unk&gt; &lt;mask&gt; &lt;null&gt;</c>.</summary>
    public static IReadOnlyList<string> SpecialTokens => SpecialTokenView;

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>All tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokenView;

    /// <summary>The token with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in [0, <see cref="Count"/>).</exception>
    public string this[int id] =>
        (uint)id < (uint)_tokens.Length
            ? _tokens[id]
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary (size {_tokens.Length}).");

    /// <summary>Id of <c>&lt;pad&gt;</c>, or null when absent.</summary>
    public int? PadId { get; }

    /// <summary>Id of <c>&lt;cls&gt;</c> (the begin-of-sequence token), or null when absent.</summary>
    public int? BosId { get; }

    /// <summary>Id of <c>&lt;eos&gt;</c>, or null when absent.</summary>
    public int? EosId { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>, or null when absent.</summary>
    public int? UnkId { get; }

    /// <summary>Id of <c>&lt;mask&gt;</c>, or null when absent.</summary>
    public int? MaskId { get; }

    /// <summary>Id of <c>&lt;null&gt;</c>, or null when absent.</summary>
    public int? NullId { get; }

    /// <summary>Looks up a token.</summary>
    /// <param name="token">The exact token text (case-sensitive).</param>
    /// <param name="id">The id, or -1 when absent.</param>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out id))
        {
            return true;
        }
        id = -1;
        return false;
    }

    /// <summary>Looks up a token given as characters, without allocating a string.</summary>
    /// <param name="token">The exact token text (case-sensitive).</param>
    /// <param name="id">The id, or -1 when absent.</param>
    public bool TryGetId(ReadOnlySpan<char> token, out int id)
    {
        if (token.Length == 1 && token[0] < 128)
        {
            id = _asciiIds[token[0]];
            return id >= 0;
        }
        if (_spanLookup.TryGetValue(token, out id))
        {
            return true;
        }
        id = -1;
        return false;
    }

    /// <summary>Id of a one-character token, or -1 when absent (table lookup for ASCII).</summary>
    internal int LookupChar(char c)
    {
        if (c < 128)
        {
            return _asciiIds[c];
        }
        return _spanLookup.TryGetValue(new ReadOnlySpan<char>(in c), out int id) ? id : -1;
    }

    /// <summary>
    /// Reads a <c>vocab.txt</c>: one token per line, the 0-based line index is the id. A final newline is allowed;
    /// <c>\r\n</c> line ends are accepted.
    /// </summary>
    /// <param name="vocabTxtPath">Path of the file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty, has an empty line, or a token twice (message gives <c>file:line</c>).</exception>
    public static Vocabulary Load(string vocabTxtPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabTxtPath);
        if (RnaLm.IO.FileProbe.Stat(vocabTxtPath).Kind == RnaLm.IO.FileKind.Missing)
        {
            throw new FileNotFoundException($"Vocabulary file '{vocabTxtPath}' does not exist.", vocabTxtPath);
        }
        string text = RnaLm.IO.SmallTextFile.Read(vocabTxtPath, message => new FormatException(message));
        var lines = text.Split('\n');
        int count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
        {
            count--; // the newline that ends the last line
        }
        if (count == 0)
        {
            throw new FormatException($"{vocabTxtPath}: the vocabulary file is empty.");
        }

        var tokens = new string[count];
        var firstLine = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string token = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (token.Length == 0)
            {
                throw new FormatException(
                    $"{vocabTxtPath}:{i + 1}: empty line in the vocabulary (every line is one token; its 0-based line index is the id).");
            }
            if (!firstLine.TryAdd(token, i + 1))
            {
                throw new FormatException(
                    $"{vocabTxtPath}:{i + 1}: token '{token}' already appears at line {firstLine[token]} " +
                    $"(ids {firstLine[token] - 1} and {i}).");
            }
            tokens[i] = token;
        }
        return new Vocabulary(tokens);
    }

    /// <summary>The current MultiMolecule 1-mer RNA vocabulary (28 tokens: specials, then <see cref="StandardAlphabet"/>).</summary>
    public static Vocabulary RnaStandard28() => FromAlphabet(StandardAlphabet);

    /// <summary>The legacy MultiMolecule 1-mer RNA vocabulary (26 tokens: specials, then <see cref="LegacyAlphabet"/>).</summary>
    public static Vocabulary RnaLegacy26() => FromAlphabet(LegacyAlphabet);

    /// <summary>
    /// The k-mer vocabulary: the six specials followed by every k-mer over <see cref="StreamlineAlphabet"/>
    /// (A C G U N) in lexicographic product order (first letter most significant). k = 3 gives 131 tokens.
    /// </summary>
    /// <param name="k">k-mer length, 1 to <see cref="MaxKmer"/>.</param>
    public static Vocabulary RnaKmer(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxKmer);
        const string alphabet = StreamlineAlphabet;
        int total = 1;
        for (int i = 0; i < k; i++)
        {
            total *= alphabet.Length;
        }
        var tokens = new List<string>(SpecialTokenArray.Length + total);
        tokens.AddRange(SpecialTokenArray);
        Span<char> buffer = stackalloc char[k];
        for (int index = 0; index < total; index++)
        {
            int rest = index;
            for (int position = k - 1; position >= 0; position--)
            {
                buffer[position] = alphabet[rest % alphabet.Length];
                rest /= alphabet.Length;
            }
            tokens.Add(new string(buffer));
        }
        return new Vocabulary(tokens);
    }

    /// <summary>A 1-mer vocabulary: the six specials followed by each character of <paramref name="alphabet"/>.</summary>
    /// <param name="alphabet">The symbols in id order (ids 6, 7, ...).</param>
    public static Vocabulary FromAlphabet(string alphabet)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        var tokens = new List<string>(SpecialTokenArray.Length + alphabet.Length);
        tokens.AddRange(SpecialTokenArray);
        foreach (char c in alphabet)
        {
            tokens.Add(c.ToString());
        }
        return new Vocabulary(tokens);
    }

    private int? Find(string token) => _ids.TryGetValue(token, out int id) ? id : null;
}
