using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"token"</c>: a linear head per token, special tokens removed (UTR-LM <c>structure_head</c>).</summary>
internal sealed class TokenHeadKind : PretrainingHeadKind
{
    public override string Name => "token";

    public override string Summary => "`decoder` Linear(H → labels) on the last hidden states with `<cls>`/`<eos>` removed; [B, L', labels]. Keys `<key>.decoder.*`.";

    public override ImmutableArray<FieldDef> Fields => With();
}
