using System.Linq;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>Emits the models built on the backbone: masked LM and the sequence, token and contact predictors.</summary>
internal static class ModelsEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace);
        MaskedLM(w, spec);
        if (spec.SecondaryStructure is { } ss) SecondaryStructure(w, spec, ss);
        if (spec.SequenceHead is { } sequence)
        {
            Prediction(w, spec, sequence, "Sequence", "SequencePredictionHead", "sequence_head", pooler: true, "[B, labels] from the pooler output");
        }
        if (spec.TokenHead is { UnfoldKmers: true } kmerToken)
        {
            Prediction(w, spec, kmerToken, "Token", "TokenKmerPredictionHead", "token_head", pooler: false,
                "[B, L' + k − 1, labels]: &lt;cls&gt;/&lt;eos&gt; removed, one row per nucleotide (the mean of the k-mers covering it)");
        }
        else if (spec.TokenHead is { } token)
        {
            Prediction(w, spec, token, "Token", "TokenPredictionHead", "token_head", pooler: false, "[B, L', labels] with &lt;cls&gt;/&lt;eos&gt; removed");
        }
        if (spec.ContactHead is { } contact)
        {
            Prediction(w, spec, contact, "Contact", "ContactPredictionHead", "contact_head", pooler: false, "[B, L', L', labels], symmetric, special tokens removed");
        }
        return w.ToString();
    }

    private static void MaskedLM(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        string prefix = spec.Checkpoint.Prefix;
        var heads = spec.PretrainingHeads;
        var renderer = heads.IsEmpty ? null : KindTemplates.Renderer(spec);
        w.Line($"/// <summary>");
        w.Line($"/// {Code.Xml(spec.Name)} with its masked-language-model head (keys <c>{prefix}.*</c>, <c>lm_head.*</c>"
            + string.Concat(heads.Select(h => $", <c>{h.Key}.*</c>")) + "). With");
        w.Line($"/// <c>addPoolingLayer</c> it is the class published checkpoints are saved from{(spec.Pooler.InCheckpoint ? " (they hold the pooler)" : "")}.");
        if (!heads.IsEmpty)
        {
            w.Line("/// The other pre-training heads are loaded and saved with it; those with an output are computed when the request asks");
            w.Line("/// for <see cref=\"global::RnaLm.Models.OutputRequest.PretrainingHeads\"/>.");
        }
        w.Line($"/// </summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}ForMaskedLM : nn.Module, global::RnaLm.Models.IRnaMaskedLM");
        w.Line($"private readonly {t}Model {prefix};");
        w.Line("private readonly global::RnaLm.Heads.MaskedLMHead lm_head;");
        if (renderer is not null) w.Lines(renderer.Slot("pretraining_heads", "fields"));
        w.Line();
        w.Open($"public {t}ForMaskedLM({t}Config config, bool addPoolingLayer = {Code.Bool(spec.Pooler.InCheckpoint)}) : base(\"{t}ForMaskedLM\")");
        w.Line($"{prefix} = new {t}Model(config, addPoolingLayer);");
        w.Line($"var tied = config.TieWordEmbeddings ? {prefix}.WordEmbeddingWeight : null; // lm_head.decoder.weight = word embeddings{(spec.MlmHead.Tied ? "" : " (this family stores its own)")}");
        w.Line($"lm_head = new global::RnaLm.Heads.MaskedLMHead(config.HiddenSize, config.VocabSize, config.LmHeadTransformAct, config.LmHeadLayerNormEps, tied{MlmBiasArgument(spec)});");
        if (renderer is not null) w.Lines(renderer.Slot("pretraining_heads", "ctor"));
        w.Line("RegisterComponents();");
        w.Line("lm_head.InitializeWeights(config.InitializerRange);");
        if (renderer is not null) w.Lines(renderer.Slot("pretraining_heads", "init"));
        w.Close();
        w.Line();
        w.Line($"public {t}Model Model => {prefix};");
        w.Line();
        w.Line("global::RnaLm.Models.IRnaBackbone global::RnaLm.Models.IRnaMaskedLM.Backbone => " + prefix + ";");
        w.Line();
        w.Line("nn.Module global::RnaLm.Models.IRnaMaskedLM.Module => this;");
        w.Line();
        if (heads.IsEmpty)
        {
            w.Line("/// <summary>Runs the backbone and the MLM head; logits are [B, L, V] over the full vocabulary.</summary>");
            w.Open("public global::RnaLm.Models.MaskedLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
            w.Line("using var scope = NewDisposeScope();");
            w.Line($"var backbone = {prefix}.Forward(inputIds, attentionMask, request);");
            w.Line("var logits = lm_head.call(backbone.LastHiddenState); // [B, L, V]");
            w.Line("return new global::RnaLm.Models.MaskedLMOutput(logits, backbone).MoveToOuterDisposeScope();");
            w.Close();
        }
        else
        {
            bool attentions = heads.Any(h => h.Kind.NeedsAttentions && h.Output is not null);
            w.Line("/// <summary>");
            w.Line("/// Runs the backbone and the MLM head (logits [B, L, V] over the full vocabulary) and, with");
            w.Line("/// <see cref=\"global::RnaLm.Models.OutputRequest.PretrainingHeads\"/>, the pre-training heads: "
                + string.Join(", ", heads.Where(h => h.Output is not null).Select(h => $"<c>{h.Output}</c> ({h.Key})")) + ".");
            w.Line("/// </summary>");
            w.Open("public global::RnaLm.Models.MaskedLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
            w.Line("using var scope = NewDisposeScope();");
            w.Line("bool withHeads = (request & global::RnaLm.Models.OutputRequest.PretrainingHeads) != 0;");
            w.Line($"var mask = attentionMask ?? global::RnaLm.Modules.AttentionMasks.FromInputIds(inputIds, {prefix}.Config.PadTokenId); // [B, L]");
            if (attentions)
            {
                w.Line("// The contact head reads every layer's attention maps.");
                w.Line($"var backbone = {prefix}.Forward(inputIds, mask, withHeads ? request | global::RnaLm.Models.OutputRequest.Attentions : request);");
            }
            else
            {
                w.Line($"var backbone = {prefix}.Forward(inputIds, mask, request);");
            }
            w.Line("var logits = lm_head.call(backbone.LastHiddenState); // [B, L, V]");
            w.Line("Dictionary<string, Tensor>? heads = null;");
            w.Open("if (withHeads)");
            w.Line("heads = new Dictionary<string, Tensor>(global::System.StringComparer.Ordinal);");
            w.Lines(renderer!.Slot("pretraining_heads", "forward"));
            w.Close();
            w.Line("return new global::RnaLm.Models.MaskedLMOutput(logits, backbone, heads).MoveToOuterDisposeScope();");
            w.Close();
        }
        w.Close();
        w.Line();
    }

    private static void SecondaryStructure(SourceWriter w, ModelSpec spec, SecondaryStructureSpec ss)
    {
        string t = spec.TypeName;
        string prefix = spec.Checkpoint.Prefix;
        var v = spec.Variants[0].Tokenizer.Vocabulary;
        int Id(string token)
        {
            for (int i = 0; i < v.Count; i++) if (v[i] == token) return i;
            return -1;
        }
        w.Line("/// <summary>");
        w.Line($"/// {Code.Xml(spec.Name)} with its MLM head and secondary-structure head (keys <c>{prefix}.*</c>, <c>lm_head.*</c>, <c>ss_head.*</c>).");
        w.Line($"/// The SS head reads attention head {Code.Int(ss.AttentionHead)} of the last layer's carried logits.");
        w.Line("/// </summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}ForSecondaryStructurePrediction : nn.Module, global::RnaLm.Models.IRnaStructureModel");
        w.Line("/// <summary>The class name checkpoints of this model carry in <c>architectures</c>.</summary>");
        w.Line($"public const string ArchitectureName = \"{t}ForSecondaryStructurePrediction\";");
        w.Line();
        w.Line($"private readonly {t}Model {prefix};");
        w.Line("private readonly global::RnaLm.Heads.MaskedLMHead lm_head;");
        w.Line("private readonly global::RnaLm.Heads.SecondaryStructureHead ss_head;");
        w.Line();
        w.Open($"public {t}ForSecondaryStructurePrediction({t}Config config) : base(ArchitectureName)");
        w.Open($"if (config.NumAttentionHeads <= {Code.Int(ss.AttentionHead)})");
        w.Line($"throw new ArgumentException($\"The secondary-structure head reads attention head {Code.Int(ss.AttentionHead)}, but the config has {{config.NumAttentionHeads}} heads.\", nameof(config));");
        w.Close();
        w.Line($"{prefix} = new {t}Model(config, addPoolingLayer: {Code.Bool(spec.Pooler.InCheckpoint)});");
        w.Line($"var tied = config.TieWordEmbeddings ? {prefix}.WordEmbeddingWeight : null;");
        w.Line($"lm_head = new global::RnaLm.Heads.MaskedLMHead(config.HiddenSize, config.VocabSize, config.LmHeadTransformAct, config.LmHeadLayerNormEps, tied{MlmBiasArgument(spec)});");
        w.Line($"ss_head = new global::RnaLm.Heads.SecondaryStructureHead(attentionHead: {Code.Int(ss.AttentionHead)}, channels: {Code.Int(ss.Channels)}, numBlocks: {Code.Int(ss.Blocks)}, kernelSize: {Code.Int(ss.KernelSize)},");
        w.Line($"    config.BosTokenId, config.EosTokenId, bases: (A: {Id("A")}, C: {Id("C")}, G: {Id("G")}, U: {Id("U")}));");
        w.Line("RegisterComponents();");
        w.Line("lm_head.InitializeWeights(config.InitializerRange);");
        w.Close();
        w.Line();
        w.Line($"public {t}Model Model => {prefix};");
        w.Line();
        w.Line("global::RnaLm.Models.IRnaBackbone global::RnaLm.Models.IRnaMaskedLM.Backbone => " + prefix + ";");
        w.Line();
        w.Line("nn.Module global::RnaLm.Models.IRnaMaskedLM.Module => this;");
        w.Line();
        w.Line("/// <summary>Backbone and MLM head only (the SS head is not run).</summary>");
        w.Open("public global::RnaLm.Models.MaskedLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var backbone = {prefix}.Forward(inputIds, attentionMask, request);");
        w.Line("var logits = lm_head.call(backbone.LastHiddenState); // [B, L, V]");
        w.Line("return new global::RnaLm.Models.MaskedLMOutput(logits, backbone).MoveToOuterDisposeScope();");
        w.Close();
        w.Line();
        w.Line("/// <summary>Pairing probabilities [B, L', L', 1] from the SS head, plus MLM logits.</summary>");
        w.Open("public global::RnaLm.Models.StructureOutput Predict(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var mask = attentionMask ?? global::RnaLm.Modules.AttentionMasks.FromInputIds(inputIds, {prefix}.Config.PadTokenId);");
        w.Line($"var backbone = {prefix}.Forward(inputIds, mask, request | global::RnaLm.Models.OutputRequest.AttentionBiases);");
        w.Line("var logits = lm_head.call(backbone.LastHiddenState); // [B, L, V]");
        w.Line("var contacts = ss_head.call(backbone.AttentionBiases![^1], inputIds, mask); // [B, L', L', 1]");
        w.Line("return new global::RnaLm.Models.StructureOutput(contacts, logits, backbone).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void Prediction(SourceWriter w, ModelSpec spec, TaskHeadSpec head, string task, string headType, string field, bool pooler, string shape)
    {
        string t = spec.TypeName;
        string prefix = spec.Checkpoint.Prefix;
        w.Line($"/// <summary>{Code.Xml(spec.Name)} with a {task.ToLowerInvariant()} prediction head (keys <c>{prefix}.*</c>, <c>{field}.*</c>); logits {shape}.</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}For{task}Prediction : nn.Module, global::RnaLm.Models.IRnaPredictionModel");
        w.Line($"private readonly {t}Model {prefix};");
        w.Line($"private readonly global::RnaLm.Heads.{headType} {field};");
        w.Line();
        w.Open($"public {t}For{task}Prediction({t}Config config, int numLabels) : base(\"{t}For{task}Prediction\")");
        w.Line($"{prefix} = new {t}Model(config, addPoolingLayer: {Code.Bool(pooler)});");
        string transform = head.Transform == "none"
            ? ""
            : $", global::RnaLm.Heads.HeadTransform.Create({Code.String(head.Transform)}, config.HiddenSize, {Code.String(head.TransformActivation)}, {Code.Double(head.LayerNormEps)})";
        if (pooler) w.Line($"{field} = new global::RnaLm.Heads.{headType}(config.HiddenSize, numLabels{transform});");
        else if (head.UnfoldKmers) w.Line($"{field} = new global::RnaLm.Heads.{headType}(config.HiddenSize, numLabels, config.BosTokenId, config.EosTokenId, config.Nmers ?? 1{transform});");
        else w.Line($"{field} = new global::RnaLm.Heads.{headType}(config.HiddenSize, numLabels, config.BosTokenId, config.EosTokenId{transform});");
        w.Line("RegisterComponents();");
        w.Line($"global::RnaLm.Modules.WeightInit.Apply({field}, config.InitializerRange);");
        w.Close();
        w.Line();
        w.Line($"public global::RnaLm.Models.PredictionTask Task => global::RnaLm.Models.PredictionTask.{task};");
        w.Line();
        w.Line($"public {t}Model Model => {prefix};");
        w.Line();
        w.Line("global::RnaLm.Models.IRnaBackbone global::RnaLm.Models.IRnaPredictionModel.Backbone => " + prefix + ";");
        w.Line();
        w.Line("nn.Module global::RnaLm.Models.IRnaPredictionModel.Module => this;");
        w.Line();
        w.Open("public global::RnaLm.Models.PredictionOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
        w.Line("using var scope = NewDisposeScope();");
        if (pooler)
        {
            w.Line($"var backbone = {prefix}.Forward(inputIds, attentionMask, request);");
            w.Line($"var logits = {field}.call(backbone.PoolerOutput!);");
        }
        else
        {
            w.Line($"var mask = attentionMask ?? global::RnaLm.Modules.AttentionMasks.FromInputIds(inputIds, {prefix}.Config.PadTokenId);");
            w.Line($"var backbone = {prefix}.Forward(inputIds, mask, request);");
            w.Line($"var logits = {field}.call(backbone.LastHiddenState, inputIds, mask);");
        }
        w.Line("return new global::RnaLm.Models.PredictionOutput(logits, backbone).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static string MlmBiasArgument(ModelSpec spec) => spec.MlmHead.Bias ? "" : ", bias: false";
}
