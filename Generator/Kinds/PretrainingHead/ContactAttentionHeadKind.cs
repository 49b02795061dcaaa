using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"contact_attention"</c>: ESM's contact head over every layer's attention maps (RNA-FM, UTR-LM <c>ss_head</c>).</summary>
internal sealed class ContactAttentionHeadKind : PretrainingHeadKind
{
    public override string Name => "contact_attention";

    public override string Summary =>
        "Every layer's attention maps stacked as N·h channels, special tokens removed in 2-D, symmetrised, `decoder` Linear(N·h → labels), symmetrised again (no APC, no sigmoid); [B, L', L', labels]. Keys `<key>.decoder.*`.";

    public override ImmutableArray<FieldDef> Fields => With();

    public override bool NeedsAttentions => true;
}
