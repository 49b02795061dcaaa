using System.Collections.Generic;
using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"norm"</c>: the normalisation every layer (and the embeddings and the final norm) uses. Its template gives the
/// module type (fragment <c>type</c>) and its construction (fragment <c>new</c>, with the locals <c>size</c> and <c>eps</c>).
/// </summary>
internal abstract class NormKind : Kind
{
    public static readonly FieldDef Eps = new("eps", FieldType.Eps, null,
        "Default `layer_norm_eps` of every norm (a checkpoint's `config.json` overrides it). Outside [1e-15, 1e-2] is the warning RNA3101.",
        Required: true, ConfigKey: "layer_norm_eps");

    public static readonly FieldDef Final = new("final", FieldType.KeyOrNull, null,
        "A norm after the last layer, and its key under `encoder.` (`\"layer_norm\"` for `encoder.layer_norm`, `\"emb_layer_norm_after\"` for ESM's name); `null` = none.");

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Eps, Final);

    /// <summary>Keys under <c>encoder.</c> that the encoder itself uses: the final norm cannot take them.</summary>
    private static readonly string[] EncoderMembers = { "layer" };

    public override void Check(KindRules rules, KindSpec spec)
    {
        if (spec.GetOrNull("final") is string final && System.Array.IndexOf(EncoderMembers, final) >= 0)
        {
            rules.Report(Diagnostics.DiagnosticDescriptors.ValueOutOfRange, new[] { "norm.final" },
                "norm.final", "a key the encoder does not use (\"" + final + "\" holds the layers: encoder." + final + ".0, ...)", Emit.Code.String(final));
        }
    }

    /// <summary>The state-dict entries of one norm over <paramref name="size"/> features at <paramref name="key"/>.</summary>
    public abstract IEnumerable<ParamDecl> Params(ParamScope scope, string key, Expr size);
}
