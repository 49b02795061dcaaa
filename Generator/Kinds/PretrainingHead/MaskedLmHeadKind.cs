using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"masked_lm"</c>: a second MLM-style head with its own decoder (RNABERT <c>ss_head</c>).</summary>
internal sealed class MaskedLmHeadKind : PretrainingHeadKind
{
    public static readonly FieldDef TransformActivation = new("transform_activation", FieldType.Activation, "gelu", "Activation of the transform.");

    public static readonly FieldDef LayerNormEps = new("layer_norm_eps", FieldType.EpsOrModel, null,
        "Epsilon of the transform's LayerNorm; `\"layer_norm_eps\"` (the default) follows the model's.");

    public override string Name => "masked_lm";

    public override string Summary =>
        "dense → activation → LayerNorm → its own `decoder` + `bias` on every token; [B, L, labels]. Keys `<key>.transform.*`, `<key>.decoder.weight`, `<key>.bias` (= `<key>.decoder.bias`).";

    public override ImmutableArray<FieldDef> Fields => With(TransformActivation, LayerNormEps);

    public override System.Collections.Generic.IEnumerable<(string Name, object? Value)> TemplateValues(KindSpec spec, KindContext context)
    {
        yield return ("eps", spec.GetOrNull("layer_norm_eps") is double eps ? Emit.Code.Double(eps) : "config.LayerNormEps");
    }
}
