using System.Collections.Immutable;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"pretraining_heads"</c>: heads that published pre-training checkpoints hold besides the MLM head, keyed by
/// their module name (<c>ss_head</c>, <c>structure_head</c>, ...). The masked-LM model builds them so its checkpoints load
/// strictly and save back whole; a head with an <c>output</c> is computed when the caller asks for
/// <c>OutputRequest.PretrainingHeads</c> and returned under that name. Template fragments: <c>fields</c>, <c>ctor</c>,
/// <c>init</c> (weight initialisation of a model built from scratch), <c>forward</c> (locals: <c>key</c>, the module name; <c>property</c>, its config property when optional).
/// </summary>
internal abstract class PretrainingHeadKind : Kind
{
    public static readonly FieldDef NumLabels = new("num_labels", FieldType.Int(1), 1, "Outputs of the decoder (a config.json object at the head's key may give its own `num_labels`).");

    public static readonly FieldDef Output = new("output", FieldType.KeyOrNull, null,
        "The name the computed logits are returned under (the fixtures' `<case>.<output>`), or `null`: loaded and saved, never computed.");

    public static readonly FieldDef Optional = new("optional", FieldType.Bool, false,
        "The head exists only when config.json holds an object at the head's key (`structure_head: {...}` vs `null`); its `num_labels` is read from there.");

    public static readonly FieldDef Present = new("present", FieldType.Bool, true,
        "With `optional`: whether a new config of this variant has the head (variants may change it).", ConfigKey: "<head key>");

    /// <summary>The head needs every layer's attention probabilities.</summary>
    public virtual bool NeedsAttentions => false;

    /// <summary>The head reads the pooler output (the masked-LM model then keeps the pooler).</summary>
    public virtual bool NeedsPooler => false;

    protected static ImmutableArray<FieldDef> With(params FieldDef[] extra) =>
        ImmutableArray.Create(NumLabels, Output, Optional, Present).AddRange(extra);
}
