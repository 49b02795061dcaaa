using System.Collections.Generic;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// Slot <c>"feed_forward"</c>: the block between the attention and the next layer. Its template writes the
/// <c>Intermediate</c> class (keys <c>intermediate.*</c>) and the width the output projection (<c>output.dense</c>,
/// written by the layer kind) reads.
/// </summary>
internal abstract class FeedForwardKind : Kind
{
    public static readonly FieldDef Activation = new("activation", FieldType.Activation, null,
        "Default `hidden_act`.", Required: true, ConfigKey: "hidden_act");

    public static readonly FieldDef Bias = new("bias", FieldType.Bool, true, "The projections have biases.");

    public override IEnumerable<(string Name, object? Value)> TemplateValues(KindSpec spec, KindContext context)
    {
        yield return ("width_expr", WidthCode(spec));
        yield return ("width_doc", WidthDoc(spec));
    }

    /// <summary>The inner width as C# over a config named <c>config</c>.</summary>
    public virtual string WidthCode(KindSpec spec) => "config.IntermediateSize";

    /// <summary>The inner width as shape comments name it.</summary>
    public virtual string WidthDoc(KindSpec spec) => "intermediate";

    /// <summary>The inner width F as a formula of the config.</summary>
    public abstract Expr Width(KindSpec spec);

    /// <summary>State-dict entries of one layer's block: <c>intermediate.*</c> and <c>output.dense.*</c>.</summary>
    public abstract IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context);

    /// <summary>Multiply-adds per token of one layer's block.</summary>
    public abstract Expr FlopsPerToken(KindSpec spec);

    protected static IEnumerable<ParamDecl> Linear(string key, Expr outFeatures, Expr inFeatures, bool bias)
    {
        yield return ParamDecl.Layer(key + ".weight", outFeatures, inFeatures);
        if (bias) yield return ParamDecl.Layer(key + ".bias", outFeatures);
    }
}
