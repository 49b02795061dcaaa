using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"fused_gated"</c>: a gated linear unit whose two input projections are one stored matrix.</summary>
internal sealed class FusedGatedFeedForwardKind : FeedForwardKind
{
    public override string Name => "fused_gated";

    public override string Summary =>
        "`output.dense(hidden_act(a) ⊙ b)` where `[a, b]` are the two halves of `intermediate.dense(x)` (one stored [2F, H] matrix, F = `intermediate_size`).";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Activation, Bias);

    public override string WidthDoc(KindSpec spec) => "F = intermediate";

    public override Expr Width(KindSpec spec) => Vars.I;

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        bool bias = spec.Get<bool>("bias");
        return Linear("intermediate.dense", Expr.C(2) * Vars.I, Vars.H, bias).Concat(Linear("output.dense", Vars.H, Vars.I, bias));
    }

    public override Expr FlopsPerToken(KindSpec spec) => Expr.C(3) * Vars.H * Vars.I;
}
