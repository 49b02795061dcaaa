using System.Collections.Generic;
using System.Linq;
using RnaLm.Tokenization;

namespace RnaLm.Cli;

/// <summary>How <c>fold</c> and <c>predict</c> print a sequence above its structure: as the model read it.</summary>
internal static class SequenceDisplay
{
    /// <summary>
    /// The tokens the structure positions correspond to, as one line: concatenated when every token is a single
    /// character (1-mer vocabularies: the upper-cased, T-to-U sequence, unknown letters as written), else separated by
    /// single spaces (k-mers, or special tokens such as &lt;mask&gt; in the text), so that token k stands for position k.
    /// </summary>
    public static string JoinTokens(IReadOnlyList<string> tokens) =>
        string.Join(tokens.All(t => t.Length == 1) ? "" : " ", tokens);

    /// <summary>
    /// A sequence with one character per nucleotide as the tokenizer reads it: upper-cased and T written U (U written T for
    /// a DNA vocabulary) when the tokenizer does so, other letters as written. With a 1-mer vocabulary this is the line <see cref="JoinTokens"/>
    /// gives for the tokens.
    /// </summary>
    public static string Nucleotides(RnaTokenizer tokenizer, string sequence)
    {
        var options = tokenizer.Options;
        var text = options.UpperCase ? sequence.ToUpperInvariant() : sequence;
        if (options.ReplaceTWithU) text = text.Replace('T', 'U');
        else if (options.ReplaceUWithT) text = text.Replace('U', 'T');
        return text;
    }
}
