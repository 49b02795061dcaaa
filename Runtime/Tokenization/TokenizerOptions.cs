namespace RnaLm.Tokenization;

/// <summary>Settings of an <see cref="RnaTokenizer"/> (what MultiMolecule stores in <c>tokenizer_config.json</c>).</summary>
public sealed record TokenizerOptions
{
    /// <summary>The defaults: 1-mers, upper-casing, T→U, <c>&lt;cls&gt;</c> and <c>&lt;eos&gt;</c> added, no length limit.</summary>
    public static TokenizerOptions Default { get; } = new();

    /// <summary>
    /// k of the overlapping k-mers (stride 1); 1 = one token per nucleotide. With <see cref="Codon"/> it is the codon
    /// length 3 (1, the default, is read as 3; other values are rejected).
    /// </summary>
    public int Nmers { get; init; } = 1;

    /// <summary>
    /// Codon segmentation (<c>codon</c>; mRNA-FM and CaLM, families-esm.md §1.2, §3.2): each text chunk between
    /// special-token strings is cut into non-overlapping triplets from its start, against a 3-mer vocabulary. A chunk
    /// whose length is not a multiple of 3 is an error (<see cref="TokenizationException"/>).
    /// </summary>
    public bool Codon { get; init; }

    /// <summary>Upper-case each text chunk before lookup (<c>do_upper_case</c>).</summary>
    public bool UpperCase { get; init; } = true;

    /// <summary>Replace <c>T</c> with <c>U</c> after upper-casing (<c>replace_T_with_U</c>).</summary>
    public bool ReplaceTWithU { get; init; } = true;

    /// <summary>
    /// Replace <c>U</c> with <c>T</c> after upper-casing (<c>replace_U_with_T</c>), for DNA vocabularies such as CaLM's
    /// (<c>DnaTokenizer</c>, families-esm.md §3.2). It cannot be combined with <see cref="ReplaceTWithU"/>, which must then
    /// be set to false.
    /// </summary>
    public bool ReplaceUWithT { get; init; }

    /// <summary>Prepend <c>&lt;cls&gt;</c> when special tokens are added (false when <c>bos_token</c> is null).</summary>
    public bool AddBos { get; init; } = true;

    /// <summary>Append <c>&lt;eos&gt;</c> when special tokens are added (false when <c>eos_token</c> is null).</summary>
    public bool AddEos { get; init; } = true;

    /// <summary>
    /// The model's maximum number of tokens per sequence, special tokens included (<c>model_max_length</c>), or null
    /// when unbounded. Used as the default truncation/padding length; longer encodings are flagged, not rejected.
    /// </summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>
    /// Coarse RNA type tokens (an indicator and one token per type) that the vocabulary holds as extra special tokens, or
    /// null. They are split out of text and skipped by <see cref="RnaTokenizer.Decode"/> like the other special tokens.
    /// </summary>
    public RnaTypeTokens? RnaTypes { get; init; }
}

/// <summary>How <see cref="RnaTokenizer"/> pads encodings.</summary>
public enum PaddingStrategy
{
    /// <summary>No padding requested. A batch is still padded to its longest sequence, because tensors must be rectangular.</summary>
    None,

    /// <summary>Pad every sequence of a batch to the longest one.</summary>
    Longest,

    /// <summary>Pad to <see cref="EncodeOptions.MaxLength"/> (or the tokenizer's model maximum length).</summary>
    MaxLength,
}

/// <summary>Per-call encoding options (the Hugging Face <c>__call__</c> arguments).</summary>
public sealed record EncodeOptions
{
    /// <summary>The defaults: special tokens added, no truncation, no padding.</summary>
    public static EncodeOptions Default { get; } = new();

    /// <summary>Add <c>&lt;cls&gt;</c>/<c>&lt;eos&gt;</c> as configured by <see cref="TokenizerOptions"/>.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Length limit for truncation and <see cref="PaddingStrategy.MaxLength"/> padding, special tokens
    /// included; null means the tokenizer's <see cref="TokenizerOptions.ModelMaxLength"/>.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Truncate sequence tokens so the result (special tokens included) fits the length limit. Pairs are
    /// truncated longest-first, one token at a time from the longer text (the second text on ties).</summary>
    public bool Truncation { get; init; }

    /// <summary>Padding strategy; padding is on the right with <c>&lt;pad&gt;</c> and attention mask 0.</summary>
    public PaddingStrategy Padding { get; init; } = PaddingStrategy.None;
}
