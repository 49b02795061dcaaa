using System;
using System.Collections.Generic;
using System.Linq;
using RnaLm.Tokenization;

namespace RnaLm.Training;

/// <summary>Where a pretraining corpus carries the coarse RNA type of each record.</summary>
public enum RnaTypeSource
{
    /// <summary>No types: nothing is appended.</summary>
    None,

    /// <summary>
    /// The source database in a bpRNA-1m record name (<c>bpRNA_&lt;database&gt;_&lt;number&gt;</c>), mapped to a coarse type by
    /// <see cref="RnaTypeLabels.BprnaDatabases"/>; records from the PDB (mixed types) get none.
    /// </summary>
    Bprna,

    /// <summary>The last word of the FASTA header, which must be one of the model's types.</summary>
    Header,
}

/// <summary>The coarse RNA type of a record, from a <see cref="RnaTypeSource"/>.</summary>
public static class RnaTypeLabels
{
    /// <summary>
    /// bpRNA-1m's source databases and the RNA type each holds (Danaee et al. 2018, bpRNA): the Comparative RNA Web
    /// site (CRW) rRNAs, the Sprinzl tRNA database (SPR), tmRDB (tmRNA), SRPDB (signal recognition particle RNA), the
    /// RNase P database (RNP), and Rfam (RFAM: every other family, so the type "other").
    /// </summary>
    public static IReadOnlyDictionary<string, string> BprnaDatabases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CRW"] = "rRNA",
        ["SPR"] = "tRNA",
        ["tmRNA"] = "tmRNA",
        ["SRP"] = "SRP",
        ["RNP"] = "RNaseP",
        ["RFAM"] = "other",
    };

    /// <summary>bpRNA databases whose records hold several RNA types: they get no type.</summary>
    public static IReadOnlyCollection<string> UntypedBprnaDatabases { get; } = new[] { "PDB" };

    /// <summary>
    /// The type index (into <paramref name="types"/>) of every record, or null for a record without a type.
    /// </summary>
    /// <exception cref="FormatException">A record's name or header does not give a type the model has (the message names the record).</exception>
    public static int?[] Of(IReadOnlyList<SequenceRecord> records, RnaTypeSource source, RnaTypeTokens types)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(types);
        var result = new int?[records.Count];
        if (source == RnaTypeSource.None) return result;
        string known = string.Join(", ", types.Types);
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            string? type;
            if (source == RnaTypeSource.Bprna)
            {
                var parts = r.Name.Split('_');
                if (parts.Length < 3 || parts[0] != "bpRNA")
                {
                    throw new FormatException($"{r.Source}: record '{r.Name}' is not named like a bpRNA-1m record (bpRNA_<database>_<number>), so --types bprna cannot tell its type.");
                }
                string database = parts[1];
                if (UntypedBprnaDatabases.Contains(database))
                {
                    type = null;
                }
                else if (!BprnaDatabases.TryGetValue(database, out type))
                {
                    throw new FormatException($"{r.Source}: record '{r.Name}' comes from the bpRNA database '{database}', which has no type (known: {string.Join(", ", BprnaDatabases.Keys)}).");
                }
            }
            else
            {
                type = r.Label ?? throw new FormatException($"{r.Source}: record '{r.Name}' has no type (the last word of its header).");
            }
            if (type is null) continue;
            int index = types.IndexOf(type);
            if (index < 0)
            {
                throw new FormatException($"{r.Source}: record '{r.Name}' has the type '{type}', which is not one of the model's RNA types ({known}).");
            }
            result[i] = index;
        }
        return result;
    }

    /// <summary>The text of a typed input: the sequence, the indicator, then the type token (or <c>&lt;mask&gt;</c> when <paramref name="typeIndex"/> is null).</summary>
    public static string Typed(string sequence, RnaTypeTokens types, int? typeIndex) =>
        sequence + types.Indicator + (typeIndex is int k ? types.Token(k) : Vocabulary.MaskToken);
}
