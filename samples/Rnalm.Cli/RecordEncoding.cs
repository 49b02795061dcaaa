using RnaLm.IO;
using RnaLm.Tokenization;

namespace RnaLm.Cli;

/// <summary>Tokenizing input records so that a sequence the tokenizer cannot segment is reported with its record.</summary>
internal static class RecordEncoding
{
    /// <summary>Encodes <paramref name="sequence"/>; a segmentation error (a codon stretch whose length is not a multiple of
    /// 3) names <paramref name="origin"/>, e.g. "in.fasta:12: record 'x'".</summary>
    public static EncodedSequence Encode(RnaTokenizer tokenizer, string sequence, string origin)
    {
        try
        {
            return tokenizer.Encode(sequence);
        }
        catch (TokenizationException e)
        {
            throw new CliException($"{origin}: {e.Message}", e);
        }
    }

    /// <summary>Where a FASTA record is, for messages: "file:line: record 'name'".</summary>
    public static string Origin(string path, FastaRecord record) => $"{path}:{record.Line}: record '{record.Name}'";
}
