using System.Globalization;
using System.Text;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Facts derived from a spec that several emitters need: FLOPs and the model-card row, evaluated at generation time from
/// <see cref="ModelParameters"/> (the same formulas the config class prints). docs/model-facts.md documents them.
/// </summary>
internal static class Facts
{
    /// <summary>Parameters of the backbone with a pooler, as on the model cards (stored rotary frequencies excluded).</summary>
    public static long BackboneParameters(ModelSpec spec, VariantSpec variant) => ModelParameters.Count(spec, variant);

    /// <summary>FLOPs of one forward pass (×2 per multiply-add) as a polynomial in the length, at the variant's defaults.</summary>
    public static FlopsPolynomial ForwardFlops(ModelSpec spec, VariantSpec variant)
    {
        var (perSequence, perToken, perPair) = ModelParameters.Flops(spec);
        var values = ModelParameters.Values(spec, variant);
        return new FlopsPolynomial(2 * perSequence.Evaluate(values), 2 * perToken.Evaluate(values), 2 * perPair.Evaluate(values));
    }

    /// <summary>The header of the model-card table (<c>ModelCatalog.ModelCardTable</c>, docs/models.md).</summary>
    public const string ModelCardHeader =
        "| model | family | layers | hidden | heads | intermediate | vocab | parameters | max tokens |\n" +
        "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";

    /// <summary>One Markdown row of the model-card table for a variant (numbers with thousands separators).</summary>
    public static string ModelCardRow(ModelSpec spec, VariantSpec variant)
    {
        int? maxTokens = variant.MaxTokens;
        var row = new StringBuilder();
        row.Append("| `").Append(Cell(variant.Name)).Append("` | ").Append(Cell(spec.Name))
            .Append(" | ").Append(Number(variant.Dims.Layers))
            .Append(" | ").Append(Number(variant.Dims.Hidden))
            .Append(" | ").Append(Number(variant.Dims.Heads))
            .Append(" | ").Append(Number(variant.Dims.Intermediate))
            .Append(" | ").Append(Number(variant.Dims.VocabSize ?? 0))
            .Append(" | ").Append(Number(BackboneParameters(spec, variant)))
            .Append(" | ").Append(maxTokens is int m ? Number(m) : "unbounded")
            .Append(" |\n");
        return row.ToString();
    }

    private static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|").Replace("`", "'");
}

/// <summary>FLOPs of one forward pass as <c>PerSequence + PerToken·L + PerTokenPair·L²</c> (already ×2 per multiply-add).</summary>
internal readonly struct FlopsPolynomial
{
    public FlopsPolynomial(long perSequence, long perToken, long perTokenPair)
    {
        PerSequence = perSequence;
        PerToken = perToken;
        PerTokenPair = perTokenPair;
    }

    public long PerSequence { get; }

    public long PerToken { get; }

    public long PerTokenPair { get; }
}
