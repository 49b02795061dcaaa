using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"mlp"</c>: BERT's two-layer MLP.</summary>
internal sealed class MlpFeedForwardKind : FeedForwardKind
{
    public override string Name => "mlp";

    public override string Summary => "`output.dense(act(intermediate.dense(x)))`, inner width `intermediate_size`.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Activation, Bias);

    public override Expr Width(KindSpec spec) => Vars.I;

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        bool bias = spec.Get<bool>("bias");
        return Linear("intermediate.dense", Vars.I, Vars.H, bias).Concat(Linear("output.dense", Vars.H, Vars.I, bias));
    }

    public override Expr FlopsPerToken(KindSpec spec) => Expr.C(2) * Vars.H * Vars.I;
}
