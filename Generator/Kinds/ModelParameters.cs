using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// The backbone's state dict and FLOPs as the spec's kinds declare them: the one source of the parameter counts (constants
/// per variant and <c>CountBackboneParameters()</c>) and of <c>ForwardFlops</c>. docs/model-facts.md gives the formulas.
/// </summary>
internal static class ModelParameters
{
    /// <summary>Every tensor of the backbone with a pooler, in module order (layer entries once, for <c>encoder.layer.{i}</c>).</summary>
    public static IEnumerable<ParamDecl> Backbone(ModelSpec spec)
    {
        var context = new KindContext(spec);
        var h = Vars.H;
        yield return ParamDecl.Backbone("embeddings.word_embeddings.weight", Vars.V, h);
        foreach (var p in spec.PositionKind.Params(spec.Position, context).Where(p => p.Scope == ParamScope.Backbone)) yield return p;
        if (spec.Embeddings.TokenType is not null) yield return ParamDecl.Backbone("embeddings.token_type_embeddings.weight", Vars.T, h);
        var embedNorm = spec.Embeddings.LayerNorm;
        if (embedNorm.MayBeOn)
        {
            foreach (var p in spec.NormKind.Params(ParamScope.Backbone, "embeddings.layer_norm", h))
            {
                yield return embedNorm.IsConfig ? p with { Condition = embedNorm.Property } : p;
            }
        }
        foreach (var bias in spec.Attention.Biases)
        {
            foreach (var p in ((AttentionBiasKind)bias.Kind).Params(bias, context)) yield return p;
        }
        foreach (var p in Layer(spec)) yield return p;
        if (spec.FinalNorm is { } final)
        {
            foreach (var p in spec.NormKind.Params(ParamScope.Backbone, "encoder." + final, h)) yield return p;
        }
        yield return ParamDecl.Backbone("pooler.dense.weight", h, h);
        yield return ParamDecl.Backbone("pooler.dense.bias", h);
    }

    /// <summary>The tensors of one layer, relative to <c>encoder.layer.{i}</c>.</summary>
    public static IEnumerable<ParamDecl> Layer(ModelSpec spec)
    {
        var context = new KindContext(spec);
        var h = Vars.H;
        var (attentionNorm, feedForwardNorm) = spec.LayerKind.NormKeys;
        var layer = new List<ParamDecl>();
        if (attentionNorm.StartsWith("attention.layer_norm", System.StringComparison.Ordinal)) layer.AddRange(spec.NormKind.Params(ParamScope.Layer, attentionNorm, h));
        foreach (var name in new[] { "query", "key", "value" })
        {
            layer.Add(ParamDecl.Layer("attention.self." + name + ".weight", h, h));
            if (spec.Attention.QkvBias) layer.Add(ParamDecl.Layer("attention.self." + name + ".bias", h));
        }
        layer.AddRange(spec.PositionKind.Params(spec.Position, context).Where(p => p.Scope == ParamScope.Layer));
        layer.Add(ParamDecl.Layer("attention.output.dense.weight", h, h));
        if (spec.Attention.OutputBias) layer.Add(ParamDecl.Layer("attention.output.dense.bias", h));
        if (!attentionNorm.StartsWith("attention.layer_norm", System.StringComparison.Ordinal)) layer.AddRange(spec.NormKind.Params(ParamScope.Layer, attentionNorm, h));
        var feedForward = spec.FeedForwardKind.Params(spec.FeedForward, context).ToList();
        bool normFirst = feedForward.Count > 0 && !feedForwardNorm.StartsWith("output.", System.StringComparison.Ordinal);
        if (normFirst) layer.AddRange(spec.NormKind.Params(ParamScope.Layer, feedForwardNorm, h));
        layer.AddRange(feedForward);
        if (!normFirst) layer.AddRange(spec.NormKind.Params(ParamScope.Layer, feedForwardNorm, h));
        return layer;
    }

    /// <summary>Parameters of the backbone with a pooler, as model cards count them (stored rotary frequencies excluded).</summary>
    public static (Expr Backbone, Expr PerLayer) Count(ModelSpec spec)
    {
        var backbone = Expr.Sum(Backbone(spec).Where(p => p.Scope == ParamScope.Backbone && p.Counted).Select(p => p.Elements));
        var layer = Expr.Sum(Layer(spec).Where(p => p.Counted).Select(p => p.Elements));
        return (backbone, layer);
    }

    /// <summary>The count for a variant's default config, at compile time.</summary>
    public static long Count(ModelSpec spec, VariantSpec variant)
    {
        var (backbone, layer) = Count(spec);
        var values = Values(spec, variant);
        return backbone.Evaluate(values) + variant.Dims.Layers * layer.Evaluate(values);
    }

    /// <summary>
    /// Multiply-adds of one forward pass of the pretraining model (backbone, pooler, MLM head) over L tokens, as
    /// <c>PerSequence + PerToken·L + PerPair·L²</c>: per token N·(4H² + the feed-forward kind's) for the projections and the
    /// feed-forward block, plus H² + HV for the MLM head; per token pair N·2H for QKᵀ and PV plus the bias kinds'; per
    /// sequence H² for the pooler.
    /// </summary>
    public static (Expr PerSequence, Expr PerToken, Expr PerPair) Flops(ModelSpec spec)
    {
        var context = new KindContext(spec);
        Expr h = Vars.H, n = Vars.N;
        var perToken = n * (Expr.C(4) * h * h + spec.FeedForwardKind.FlopsPerToken(spec.FeedForward)) + (h * h + h * Vars.V);
        var perPair = n * (Expr.C(2) * h);
        Expr perSequence = h * h;
        foreach (var bias in spec.Attention.Biases)
        {
            var terms = ((AttentionBiasKind)bias.Kind).Flops(bias, context);
            perSequence += terms.PerSequence;
            perToken += terms.PerToken;
            perPair += terms.PerPair;
        }
        return (perSequence, perToken, perPair);
    }

    /// <summary>The formula variables of a variant's default config (switches as 0/1 under their property names).</summary>
    public static Dictionary<string, long> Values(ModelSpec spec, VariantSpec variant)
    {
        var values = new Dictionary<string, long>(System.StringComparer.Ordinal)
        {
            ["h"] = variant.Dims.Hidden,
            ["i"] = variant.Dims.Intermediate,
            ["v"] = variant.Dims.VocabSize ?? 0,
            ["n"] = variant.Dims.Layers,
            ["heads"] = variant.Dims.Heads,
            ["p"] = variant.Dims.MaxPositions,
            ["t"] = spec.Embeddings.TokenType?.Size ?? 0,
        };
        foreach (var s in new[] { spec.Embeddings.LayerNorm, spec.Embeddings.TokenDropout })
        {
            if (s.IsConfig) values[s.Property] = variant.Switch(s) ? 1 : 0;
        }
        return values;
    }
}
