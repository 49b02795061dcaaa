using System.Collections.Generic;
using System.Linq;
using RnaLm.Generator.Model;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Emits <c>{Type}Family</c> (the registry entry: variants with their default configs, tokenizers, compile-time
/// parameter counts, checkpoint naming) and <c>{Type}Variants</c> (the variants' configs and constants).
/// </summary>
internal static class FamilyEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace);
        string t = spec.TypeName;
        var b = spec.Variants[0];

        // Variants: configs, tokenizers and constants.
        w.Line($"/// <summary>The named variants of {Code.Xml(spec.Name)}: default configs, tokenizers and compile-time facts.</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public static partial class {t}Variants");
        var vocabFields = new Dictionary<string, string>();
        foreach (var v in spec.Variants)
        {
            string key = string.Join("\n", v.Tokenizer.Vocabulary);
            if (!vocabFields.ContainsKey(key))
            {
                string field = v.MemberName + "Vocabulary";
                vocabFields[key] = field;
                w.Line($"/// <summary>Vocabulary of {Code.Xml(v.Name)} ({v.Tokenizer.Vocabulary.Count} tokens, id = index).</summary>");
                w.Line($"public static readonly IReadOnlyList<string> {field} = {Code.StringArray(v.Tokenizer.Vocabulary)};");
                w.Line();
            }
        }
        foreach (var v in spec.Variants)
        {
            w.Line($"/// <summary>Name of the variant {Code.Xml(v.Name)}.</summary>");
            w.Line($"public const string {v.MemberName}Name = {Code.String(v.Name)};");
            w.Line();
            w.Line($"/// <summary>Parameters of the {Code.Xml(v.Name)} backbone including a pooler (as on the model card).</summary>");
            w.Line($"public const long {v.MemberName}Parameters = {t}Config.{v.MemberName}Parameters;");
            w.Line();
            w.Line($"/// <summary>FLOPs of one forward pass of {Code.Xml(v.Name)} at <paramref name=\"length\"/> tokens (see <see cref=\"{t}Config.ForwardFlops(int)\"/>).</summary>");
            w.Line($"public static long {v.MemberName}ForwardFlops(int length) => {t}Config.{v.MemberName}ForwardFlops(length);");
            w.Line();
            int? maxLength = v.MaxTokens;
            w.Line($"/// <summary>Maximum tokens per sequence of {Code.Xml(v.Name)}, special tokens included{(maxLength is null ? " (null: unbounded)" : "")}.</summary>");
            w.Line($"public static readonly int? {v.MemberName}MaxTokens = {(maxLength is int m ? Code.Int(m) : "null")};");
            w.Line();
            w.Line($"/// <summary>Default configuration of {Code.Xml(v.Name)}.</summary>");
            var overrides = Overrides(spec, t, b, v);
            if (overrides.Count == 0)
            {
                w.Line($"public static {t}Config {v.MemberName} => new();");
            }
            else
            {
                w.Line($"public static {t}Config {v.MemberName} => new()");
                w.Line("{");
                foreach (var o in overrides) w.Line("    " + o + ",");
                w.Line("};");
            }
            w.Line();
            w.Line($"/// <summary>The tokenizer {Code.Xml(v.Name)} ships with.</summary>");
            w.Line($"public static global::RnaLm.Tokenization.RnaTokenizer Create{v.MemberName}Tokenizer() => new(");
            w.Line($"    new global::RnaLm.Tokenization.Vocabulary({vocabFields[string.Join("\n", v.Tokenizer.Vocabulary)]}),");
            w.Line("    new global::RnaLm.Tokenization.TokenizerOptions");
            w.Line("    {");
            foreach (var line in SegmentationOptions(spec, v)) w.Line("        " + line);
            w.Line($"        UpperCase = {Code.Bool(v.Tokenizer.UpperCase)},");
            w.Line($"        ReplaceTWithU = {Code.Bool(v.Tokenizer.TToU)},");
            if (v.Tokenizer.UToT) w.Line("        ReplaceUWithT = true,");
            w.Line($"        AddBos = {Code.Bool(v.Tokenizer.AddBos)},");
            w.Line($"        AddEos = {Code.Bool(v.Tokenizer.AddEos)},");
            w.Line($"        ModelMaxLength = {v.MemberName}MaxTokens,");
            if (v.Tokenizer.RnaTypes is { } types)
            {
                w.Line($"        RnaTypes = new global::RnaLm.Tokenization.RnaTypeTokens({Code.String(types.Indicator)}, {Code.StringArray(types.Types)}),");
            }
            w.Line("    });");
            w.Line();
        }
        w.Close();
        w.Line();

        // Family.
        w.Line($"/// <summary>The {Code.Xml(spec.Name)} family as the registry sees it (generated from {Code.Xml(spec.SourceFile)}).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Family : global::RnaLm.Models.IModelFamily");
        w.Line($"/// <summary>The one instance.</summary>");
        w.Line($"public static {t}Family Instance {{ get; }} = new();");
        w.Line();
        w.Open($"private {t}Family()");
        w.Line("Variants = new global::RnaLm.Models.IModelVariant[]");
        w.Line("{");
        foreach (var v in spec.Variants)
        {
            w.Line($"    new global::RnaLm.Models.ModelVariant({t}Variants.{v.MemberName}Name, this, {t}Variants.{v.MemberName}, {t}Variants.{v.MemberName}MaxTokens, {t}Variants.{v.MemberName}Parameters, {t}Variants.Create{v.MemberName}Tokenizer),");
        }
        w.Line("};");
        w.Close();
        w.Line();
        w.Line($"public string Name => {t}Config.ModelTypeName;");
        w.Line();
        w.Line($"public string Description => {Code.String(spec.Description)};");
        w.Line();
        w.Line("/// <summary>This family's rows of the model-card table (<c>ModelCatalog.ModelCardTable</c>), one per variant in spec order.</summary>");
        w.Line("public const string ModelCardRows =");
        for (int k = 0; k < spec.Variants.Count; k++)
        {
            w.Line("    " + Code.String(Facts.ModelCardRow(spec, spec.Variants[k])) + (k == spec.Variants.Count - 1 ? ";" : " +"));
        }
        w.Line();
        w.Line("public IReadOnlyList<global::RnaLm.Models.IModelVariant> Variants { get; }");
        w.Line();
        var c = spec.Checkpoint;
        w.Line("/// <summary>Checkpoint key naming from the spec's \"checkpoint\" section.</summary>");
        w.Line("public global::RnaLm.Checkpoints.CheckpointNaming Naming { get; } = new(");
        w.Line($"    Prefix: {Code.String(c.Prefix)},");
        w.Line($"    LegacyPrefixes: {Code.StringArray(c.LegacyPrefixes)},");
        w.Line($"    Aliases: new global::RnaLm.Checkpoints.KeyAlias[] {{ {string.Join(", ", c.Aliases.Select(a => $"new({Code.String(a.Pattern)}, {Code.String(a.Replacement)})"))} }},");
        w.Line($"    Tied: new global::RnaLm.Checkpoints.TiedKey[] {{ {string.Join(", ", c.Tied.Select(a => $"new({Code.String(a.Key)}, {Code.String(a.Source)})"))} }},");
        w.Line($"    Ignore: {Code.StringArray(c.Ignore)});");
        w.Line();
        w.Line($"public global::RnaLm.Models.IModelConfig ReadConfig(string json, string sourceName) => {t}Config.FromJson(json, sourceName);");
        w.Line();
        if (spec.SecondaryStructure is not null)
        {
            w.Line("/// <summary>The secondary-structure model when the config's <c>architectures</c> names it, else the masked LM.</summary>");
            w.Line("public global::RnaLm.Models.IRnaMaskedLM CreatePreTrainingModel(global::RnaLm.Models.IModelConfig config) =>");
            w.Line($"    global::RnaLm.Models.ConfigArchitectures.Contains(Cast(config).ExtensionData, {t}ForSecondaryStructurePrediction.ArchitectureName)");
            w.Line($"        ? new {t}ForSecondaryStructurePrediction(Cast(config))");
            w.Line($"        : new {t}ForMaskedLM(Cast(config), addPoolingLayer: {Code.Bool(spec.Pooler.InCheckpoint)});");
        }
        else
        {
            w.Line("public global::RnaLm.Models.IRnaMaskedLM CreatePreTrainingModel(global::RnaLm.Models.IModelConfig config) =>");
            w.Line($"    new {t}ForMaskedLM(Cast(config), addPoolingLayer: {Code.Bool(spec.Pooler.InCheckpoint)});");
        }
        w.Line();
        w.Line("public global::RnaLm.Models.IRnaPredictionModel CreatePredictionModel(global::RnaLm.Models.IModelConfig config, global::RnaLm.Models.PredictionTask task, int numLabels) => task switch");
        w.Line("{");
        if (spec.SequenceHead is not null) w.Line($"    global::RnaLm.Models.PredictionTask.Sequence => new {t}ForSequencePrediction(Cast(config), numLabels),");
        if (spec.TokenHead is not null) w.Line($"    global::RnaLm.Models.PredictionTask.Token => new {t}ForTokenPrediction(Cast(config), numLabels),");
        if (spec.ContactHead is not null) w.Line($"    global::RnaLm.Models.PredictionTask.Contact => new {t}ForContactPrediction(Cast(config), numLabels),");
        w.Line($"    _ => throw new NotSupportedException($\"{Code.Xml(spec.Name)} declares no {{task.ToString().ToLowerInvariant()}} head; declare heads.{{task.ToString().ToLowerInvariant()}} in its spec.\"),");
        w.Line("};");
        w.Line();
        w.Line($"private static {t}Config Cast(global::RnaLm.Models.IModelConfig config) =>");
        w.Line($"    config as {t}Config ?? throw new ArgumentException($\"A {{config.ModelType}} config cannot build a {Code.Xml(spec.Name)} model.\", nameof(config));");
        w.Line();
        w.Line("public override string ToString() => Name;");
        w.Close();
        return w.ToString();
    }

    /// <summary>
    /// The default <c>LmHead</c> of the config class: with <c>mlm_head.new_config_activation</c>, an object with that
    /// activation resolved against the default variant <paramref name="b"/>; otherwise null.
    /// </summary>
    internal static string? ClassLmHead(ModelSpec spec, VariantSpec b) =>
        spec.MlmHead.NewConfigActivation is { } n ? LmHeadObject(ResolveActivation(n, b), null) : null;

    /// <summary>
    /// The <c>LmHead</c> a variant's config needs, or null when the class default serves. The class falls back to the
    /// default variant's MLM activation and epsilon, so a variant that overrides either carries its values in
    /// <c>lm_head</c>; so does one for which <c>new_config_activation: "hidden_act"</c> resolves differently.
    /// </summary>
    private static string? VariantLmHead(ModelSpec spec, VariantSpec b, VariantSpec v)
    {
        string? newConfig = spec.MlmHead.NewConfigActivation;
        bool actOverridden = v.MlmTransformActivation != b.MlmTransformActivation;
        string? act = actOverridden ? ResolveActivation(v.MlmTransformActivation, v) : newConfig is null ? null : ResolveActivation(newConfig, v);
        string? classAct = newConfig is null ? null : ResolveActivation(newConfig, b);
        bool epsOverridden = !Equals(v.MlmLayerNormEps, b.MlmLayerNormEps);
        if (!actOverridden && act == classAct && !epsOverridden) return null;
        return LmHeadObject(act, epsOverridden ? v.MlmLayerNormEps ?? v.LayerNormEps : null);
    }

    private static string ResolveActivation(string activation, VariantSpec variant) => activation == "hidden_act" ? variant.HiddenAct : activation;

    private static string LmHeadObject(string? activation, double? eps)
    {
        var entries = new List<string>();
        if (activation is not null) entries.Add($"[\"transform_act\"] = {Code.String(activation)}");
        if (eps is double e) entries.Add($"[\"layer_norm_eps\"] = {Code.Double(e)}");
        return "new global::System.Text.Json.Nodes.JsonObject { " + string.Join(", ", entries) + " }";
    }

    /// <summary>The tokenizer options the variant's segmentation kind writes (its template's <c>tokenizer.options</c>).</summary>
    private static IEnumerable<string> SegmentationOptions(ModelSpec spec, VariantSpec v)
    {
        var renderer = KindTemplates.Renderer(spec);
        var kind = v.Tokenizer.Segmentation;
        var locals = KindTemplates.Locals(("kind", KindTemplates.Locals(kind.Values.Select(x => (x.Name, x.Value)).ToArray())));
        string text = renderer.Render(TemplateLibrary.Get(kind.Kind.TemplatePath), "tokenizer.options", locals);
        return text.Split('\n').Where(line => line.Trim().Length > 0);
    }

    /// <summary>Config initialisers that differ between the base variant and <paramref name="v"/>: every field of the config table, then the architecture and MLM head.</summary>
    private static List<string> Overrides(ModelSpec spec, string t, VariantSpec b, VariantSpec v)
    {
        var list = new List<string>();
        foreach (var field in ConfigTable.For(spec))
        {
            if (field.Key == "lm_head") continue;
            string value = field.Default(v);
            if (value != field.Default(b)) list.Add($"{field.Property} = {value}");
        }
        if (v.Architecture == "secondary_structure") list.Add($"ExtensionData = global::RnaLm.Models.ConfigArchitectures.Of({t}ForSecondaryStructurePrediction.ArchitectureName)");
        if (!ReferenceEquals(b, v) && VariantLmHead(spec, b, v) is { } lmHead) list.Add("LmHead = " + lmHead);
        return list;
    }
}
