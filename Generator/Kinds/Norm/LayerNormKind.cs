using System.Collections.Generic;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"layer_norm"</c>: <c>nn.LayerNorm</c> with a weight and a bias.</summary>
internal sealed class LayerNormKind : NormKind
{
    public override string Name => "layer_norm";

    public override string Summary => "LayerNorm: `(x − mean) / sqrt(var + eps) · weight + bias` over the hidden features (keys `weight`, `bias`).";

    public override IEnumerable<ParamDecl> Params(ParamScope scope, string key, Expr size)
    {
        yield return new ParamDecl(scope, key + ".weight", new[] { size });
        yield return new ParamDecl(scope, key + ".bias", new[] { size });
    }
}
