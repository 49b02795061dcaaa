using System.Collections.Generic;
using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// <c>"offset_learned"</c>: a learned table indexed fairseq-style (RNA-FM): real tokens count up from
/// <c>pad_token_id + offset + 1</c>, pad tokens use row <c>pad_token_id + offset</c>.
/// </summary>
internal sealed class OffsetLearnedPositionKind : PositionKind
{
    public static readonly FieldDef Offset = new("offset", FieldType.Int(0), 1,
        "Added to `pad_token_id` and the running count of real tokens: with 1 (fairseq's convention), `<cls>` uses row `pad_token_id + 2` and pad tokens row `pad_token_id + 1`.");

    public override string Name => "offset_learned";

    public override string Summary =>
        "A learned table `embeddings.position_embeddings` [max_positions, H] indexed padding-aware: a real token's row is its count among the real tokens plus `pad_token_id + offset`; pad tokens use row `pad_token_id + offset`. The table needs L + offset + 1 rows.";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Offset);

    public override string PositionEmbeddingType => "absolute";

    public override bool NeedsMaxPositions => true;

    /// <summary>Rows 0..offset are never read by a real token (pad_token_id 0): the sequence gets max − offset − 1 rows.</summary>
    public override Expr? UsableTokens(KindSpec spec) => Vars.P - Expr.C(spec.Get<int>("offset") + 1);

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        yield return ParamDecl.Backbone("embeddings.position_embeddings.weight", Vars.P, Vars.H);
    }

    public override void Check(KindRules rules, KindSpec spec)
    {
        if (rules.Value("dims.max_positions") is int max && max <= spec.Get<int>("offset") + 1)
        {
            rules.Report(Diagnostics.DiagnosticDescriptors.ValueOutOfRange, new[] { "dims.max_positions", "position.offset" },
                "dims.max_positions", "larger than position.offset + 1 (" + (spec.Get<int>("offset") + 2).ToString(System.Globalization.CultureInfo.InvariantCulture) + " or more), so a real token has a row",
                max.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
