using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using RnaLm.Generator.Diagnostics;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"rotary"</c>: rotary embeddings of the queries and keys inside every attention layer.</summary>
internal sealed class RotaryPositionKind : PositionKind
{
    public static readonly FieldDef Dim = new("dim", FieldType.IntOr(2, "head_size"), "head_size",
        "Features of each head that rotate: even, at most the head size, or `\"head_size\"` (the whole head). A number is given at the spec's own head size; a config with another head size rotates the same fraction.");

    public static readonly FieldDef Base = new("base", FieldType.PositiveNumber, 10000.0,
        "Frequency base: `inv_freq_k = base^(−2k/dim)`. Outside [1000, 1e7] is the warning RNA3105.");

    public static readonly FieldDef Interleaved = new("interleaved", FieldType.Bool, true,
        "Rotate pairs (2k, 2k+1) (`true`) or halves (k, k + dim/2) (`false`).");

    public static readonly FieldDef StoredFrequencies = new("stored_frequencies", FieldType.Bool, true,
        "Checkpoints hold `attention.self.rotary_embeddings.freqs` per layer (used as stored); `false`: computed, never stored.");

    public override string Name => "rotary";

    public override string Summary =>
        "Rotary position embedding of Q and K in every layer, positions 0..L−1 from the first token; nothing is added to the input.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Dim, Base, Interleaved, StoredFrequencies);

    public override string PositionEmbeddingType => "rotary";

    public override IEnumerable<(string Name, object? Value)> TemplateValues(KindSpec spec, KindContext context)
    {
        yield return ("rotary_dim", spec.GetOrNull("dim"));
        yield return ("spec_head_size", context.Model.Dims.HeadSize);
        yield return ("base", Emit.Code.Double(spec.Get<double>("base")));
        yield return ("layout", (spec.Get<bool>("interleaved") ? "" : ", interleaved: false") + (spec.Get<bool>("stored_frequencies") ? "" : ", storedFrequencies: false"));
    }

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        if (spec.Get<bool>("stored_frequencies"))
        {
            yield return new ParamDecl(ParamScope.Layer, "attention.self.rotary_embeddings.freqs", new[] { RotaryDim(spec, context.Model.Dims.HeadSize) / 2 }, Counted: false);
        }
    }

    /// <summary>The rotating features per head as a formula of the config (scaled when the spec gave a number).</summary>
    public static Expr RotaryDim(KindSpec spec, int specHeadSize = 0)
    {
        var headSize = Vars.H / Vars.Heads;
        return spec.GetOrNull("dim") is int dim && specHeadSize > 0 ? headSize * dim / specHeadSize : headSize;
    }

    public override void Check(KindRules rules, KindSpec spec)
    {
        if (spec.GetOrNull("dim") is int dim)
        {
            if (dim % 2 != 0)
            {
                rules.Report(DiagnosticDescriptors.InvalidRotaryDim, new[] { "position.dim" }, Str(dim), "it must be even (features rotate in pairs)");
            }
            else if (rules.Value("dims.hidden") is int hidden && rules.Value("dims.heads") is int heads && heads > 0 && hidden % heads == 0 && dim > hidden / heads)
            {
                rules.Report(DiagnosticDescriptors.InvalidRotaryDim, new[] { "position.dim", "dims.heads", "dims.hidden" }, Str(dim),
                    "it is larger than the head size " + Str(hidden / heads) + " (hidden size " + Str(hidden) + " / " + Str(heads) + " heads)");
            }
        }
        if (!rules.IsVariant && spec.GetOrNull("base") is double b && (b < 1e3 || b > 1e7))
        {
            rules.Report(DiagnosticDescriptors.UnusualRotaryBase, new[] { "position.base" }, b.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
