using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"sequence"</c>: a linear head on the pooler output (RNABERT <c>sa_head</c>, UTR-LM <c>mfe_head</c>).</summary>
internal sealed class SequenceHeadKind : PretrainingHeadKind
{
    public override string Name => "sequence";

    public override string Summary => "`decoder` Linear(H → labels) on the pooler output; [B, labels]. Keys `<key>.decoder.*`. Computing it needs a pooler in the checkpoint (`pooler.in_checkpoint`).";

    public override ImmutableArray<FieldDef> Fields => With();

    public override bool NeedsPooler => true;
}
