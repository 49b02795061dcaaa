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
        Prediction(w, spec, "Sequence", "SequencePredictionHead", "sequence_head", pooler: true,
            "[B, labels] from the pooler output");
        Prediction(w, spec, "Token", "TokenPredictionHead", "token_head", pooler: false,
            "[B, L', labels] with &lt;cls&gt;/&lt;eos&gt; removed");
        Prediction(w, spec, "Contact", "ContactPredictionHead", "contact_head", pooler: false,
            "[B, L', L', labels], symmetric, special tokens removed");
        return w.ToString();
    }

    private static void MaskedLM(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        string prefix = spec.Checkpoint.Prefix;
        w.Line($"/// <summary>");
        w.Line($"/// {Code.Xml(spec.Name)} with its masked-language-model head (keys <c>{prefix}.*</c>, <c>lm_head.*</c>). With");
        w.Line($"/// <c>addPoolingLayer</c> it is the class published checkpoints are saved from{(spec.Pooler.InCheckpoint ? " (they hold the pooler)" : "")}.");
        w.Line($"/// </summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}ForMaskedLM : nn.Module, global::RnaLm.Models.IRnaMaskedLM");
        w.Line($"private readonly {t}Model {prefix};");
        w.Line("private readonly global::RnaLm.Heads.MaskedLMHead lm_head;");
        w.Line();
        w.Open($"public {t}ForMaskedLM({t}Config config, bool addPoolingLayer = {Code.Bool(spec.Pooler.InCheckpoint)}) : base(\"{t}ForMaskedLM\")");
        w.Line($"{prefix} = new {t}Model(config, addPoolingLayer);");
        if (spec.MlmHead.Tied)
        {
            w.Line($"var tied = config.TieWordEmbeddings ? {prefix}.WordEmbeddingWeight : null; // lm_head.decoder.weight = word embeddings");
            w.Line("lm_head = new global::RnaLm.Heads.MaskedLMHead(config.HiddenSize, config.VocabSize, config.LmHeadTransformAct, config.LmHeadLayerNormEps, tied);");
        }
        else
        {
            w.Line("lm_head = new global::RnaLm.Heads.MaskedLMHead(config.HiddenSize, config.VocabSize, config.LmHeadTransformAct, config.LmHeadLayerNormEps, null);");
        }
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line($"public {t}Model Model => {prefix};");
        w.Line();
        w.Line("global::RnaLm.Models.IRnaBackbone global::RnaLm.Models.IRnaMaskedLM.Backbone => " + prefix + ";");
        w.Line();
        w.Line("nn.Module global::RnaLm.Models.IRnaMaskedLM.Module => this;");
        w.Line();
        w.Line("/// <summary>Runs the backbone and the MLM head; logits are [B, L, V] over the full vocabulary.</summary>");
        w.Open("public global::RnaLm.Models.MaskedLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var backbone = {prefix}.Forward(inputIds, attentionMask, request);");
        w.Line("var logits = lm_head.call(backbone.LastHiddenState); // [B, L, V]");
        w.Line("return new global::RnaLm.Models.MaskedLMOutput(logits, backbone).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void Prediction(SourceWriter w, ModelSpec spec, string task, string headType, string field, bool pooler, string shape)
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
        if (pooler) w.Line($"{field} = new global::RnaLm.Heads.{headType}(config.HiddenSize, numLabels);");
        else w.Line($"{field} = new global::RnaLm.Heads.{headType}(config.HiddenSize, numLabels, config.BosTokenId, config.EosTokenId);");
        w.Line("RegisterComponents();");
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
}
