using System.Collections.Generic;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"learned"</c>: BERT's absolute table, positions 0..L−1 counted from the first token.</summary>
internal sealed class LearnedPositionKind : PositionKind
{
    public override string Name => "learned";

    public override string Summary =>
        "A learned table `embeddings.position_embeddings` [max_positions, H] added to the word embeddings; token t uses row t (0..L−1), padding included.";

    public override string PositionEmbeddingType => "absolute";

    public override bool NeedsMaxPositions => true;

    public override Expr? UsableTokens(KindSpec spec) => Vars.P;

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        yield return ParamDecl.Backbone("embeddings.position_embeddings.weight", Vars.P, Vars.H);
    }
}
