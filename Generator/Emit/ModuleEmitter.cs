using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;
using Scriban.Runtime;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Emits the backbone modules of one family by rendering <c>Templates/model/modules.sbncs</c>: the skeleton asks each
/// slot's kind for its fragments, so only what the spec declares is written and the output has no branches on
/// architecture. Field names are the PyTorch/MultiMolecule state-dict names.
/// </summary>
internal static class ModuleEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace, modules: true);
        var renderer = KindTemplates.Renderer(spec);
        return w.ToString() + renderer.Render(TemplateLibrary.Get("model/modules.sbncs"), "file").TrimEnd('\n') + "\n";
    }
}

/// <summary>The template model of a spec: the globals every fragment sees and the locals of each slot's kind.</summary>
internal static class KindTemplates
{
    /// <summary>A renderer whose slots resolve to <paramref name="spec"/>'s kinds.</summary>
    public static TemplateRenderer Renderer(ModelSpec spec)
    {
        var context = new KindContext(spec);
        var slots = new Dictionary<string, IReadOnlyList<(TemplateFile, ScriptObject)>>(System.StringComparer.Ordinal)
        {
            ["norm"] = new[] { Target(spec.Norm, context) },
            ["layer"] = new[] { Target(spec.Layer, context) },
            ["position"] = new[] { Target(spec.Position, context) },
            ["attention.softmax"] = new[] { Target(spec.Attention.Softmax, context) },
            ["attention.biases"] = spec.Attention.Biases.Select(b => Target(b, context)).ToList(),
            ["feed_forward"] = new[] { Target(spec.FeedForward, context) },
            ["tokenizer.segmentation"] = new[] { Target(spec.Tokenizer.Segmentation, context) },
            ["pretraining_heads"] = spec.PretrainingHeads.Select(h => Target(h.Head, context, ("key", h.Key), ("property", h.Property))).ToList(),
        };
        var renderer = new TemplateRenderer(slot =>
            slots.TryGetValue(slot, out var targets) ? targets : throw new System.InvalidOperationException("no slot '" + slot + "' in the template model"));
        var g = renderer.Globals;
        g["t"] = spec.TypeName;
        g["name_xml"] = Code.Xml(spec.Name);
        g["prefix"] = spec.Checkpoint.Prefix;
        g["generated"] = Code.GeneratedCodeAttribute;
        var norm = TemplateLibrary.Get(spec.Norm.Kind.TemplatePath);
        g["norm_type"] = renderer.Render(norm, "type").Trim();
        g["norm_hidden"] = renderer.Render(norm, "new", Locals(("size", "config.HiddenSize"), ("eps", "config.LayerNormEps"))).Trim();
        g["token_type"] = spec.Embeddings.TokenType is { } tokenType ? Locals(("added", tokenType.Added)) : null;
        g["embed_norm"] = Switch(spec.Embeddings.LayerNorm);
        g["token_dropout"] = Switch(spec.Embeddings.TokenDropout);
        g["zero_pad"] = spec.Embeddings.ZeroPad;
        g["queries"] = spec.Attention.Softmax.KindName == "queries";
        g["carries"] = spec.CarriesLogits;
        // The fused kernel needs a softmax kind that has one, and no bias kind (a bias kind adds to or keeps the logits).
        g["fused"] = ((SoftmaxKind)spec.Attention.Softmax.Kind).HasFusedKernel && spec.Attention.Biases.Count == 0;
        g["qkv_bias_arg"] = spec.Attention.QkvBias ? "" : ", hasBias: false";
        g["qkv_note"] = spec.Attention.QkvBias ? "" : ", no bias";
        g["output_bias_arg"] = spec.Attention.OutputBias ? "" : ", hasBias: false";
        g["ffn_width_doc"] = spec.FeedForwardKind.WidthDoc(spec.FeedForward);
        g["final_norm"] = spec.FinalNorm;
        g["pooler_arg"] = spec.Pooler.Activation == "tanh" ? "" : ", activation: " + Code.String(spec.Pooler.Activation);
        return renderer;
    }

    private static (TemplateFile, ScriptObject) Target(KindSpec spec, KindContext context, params (string Name, object? Value)[] extra)
    {
        var kind = new ScriptObject();
        foreach (var value in spec.Values) kind[value.Name] = value.Value;
        kind["name"] = spec.KindName;
        var locals = new ScriptObject { ["kind"] = kind };
        foreach (var (name, value) in spec.Kind.TemplateValues(spec, context)) locals[name] = value;
        foreach (var (name, value) in extra) locals[name] = value;
        return (TemplateLibrary.Get(spec.Kind.TemplatePath), locals);
    }

    private static ScriptObject Switch(SwitchSpec spec) =>
        Locals(("on", spec.IsConfig ? "config" : spec.Default ? "always" : "never"), ("property", spec.Property));

    public static ScriptObject Locals(params (string Name, object? Value)[] values)
    {
        var obj = new ScriptObject();
        foreach (var (name, value) in values) obj[name] = value;
        return obj;
    }
}
