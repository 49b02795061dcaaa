using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"gated"</c>: a gated linear unit (SwiGLU with a learnable β in RiNALMo).</summary>
internal sealed class GatedFeedForwardKind : FeedForwardKind
{
    public static readonly FieldDef Gate = new("gate", FieldType.Enum("swish_beta", "activation"), "swish_beta",
        "`\"swish_beta\"`: `u·sigmoid(β·u)` with the learnable scalar β (`intermediate.bias`, shape [1]; `hidden_act` is then unused); `\"activation\"`: `hidden_act(u)`.");

    public static readonly FieldDef WidthRule = new("width", FieldType.Enum("intermediate", "two_thirds"), "intermediate",
        "Inner width F: `intermediate_size`, or `int(2/3 · intermediate_size)` computed in double precision as Python does (RiNALMo: 5120 → 3413).");

    public override string Name => "gated";

    public override string Summary =>
        "`output.dense(gate(intermediate.linear(x)) ⊙ intermediate.linear_gate(x))`, inner width F.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Activation, Gate, WidthRule, Bias);

    public override string WidthCode(KindSpec spec) =>
        spec.Get<string>("width") == "two_thirds" ? "(int)(2.0 / 3.0 * config.IntermediateSize)" : "config.IntermediateSize";

    public override string WidthDoc(KindSpec spec) => spec.Get<string>("width") == "two_thirds" ? "F = int(2/3·intermediate)" : "F = intermediate";

    public override Expr Width(KindSpec spec) =>
        spec.Get<string>("width") == "two_thirds" ? Expr.TruncatedFraction(2, 3, Vars.I) : Vars.I;

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        bool bias = spec.Get<bool>("bias");
        var f = Width(spec);
        var beta = spec.Get<string>("gate") == "swish_beta" ? new[] { ParamDecl.Layer("intermediate.bias", Expr.One) } : new ParamDecl[0];
        return beta.Concat(Linear("intermediate.linear", f, Vars.H, bias))
            .Concat(Linear("intermediate.linear_gate", f, Vars.H, bias))
            .Concat(Linear("output.dense", Vars.H, f, bias));
    }

    public override Expr FlopsPerToken(KindSpec spec) => Expr.C(3) * Vars.H * Width(spec);
}
