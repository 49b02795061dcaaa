using System.Collections.Generic;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"rms_norm"</c>: RMSNorm with a weight only (RnaLm.Modules.RmsNorm).</summary>
internal sealed class RmsNormKind : NormKind
{
    public override string Name => "rms_norm";

    public override string Summary => "RMSNorm: `x / sqrt(mean(x²) + eps) · weight` over the hidden features (key `weight`, no bias).";

    public override IEnumerable<ParamDecl> Params(ParamScope scope, string key, Expr size)
    {
        yield return new ParamDecl(scope, key + ".weight", new[] { size });
    }
}
