using System.Linq;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Emits <c>{Type}Config</c>: an immutable config with spec defaults that reads and writes <c>config.json</c>. Every
/// field comes from <see cref="ConfigTable"/>; the parameter count and FLOPs come from <see cref="ModelParameters"/>.
/// </summary>
internal static class ConfigEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace);
        var b = spec.Variants[0];
        string t = spec.TypeName;
        var fields = ConfigTable.For(spec);
        string mlmAct = b.MlmTransformActivation == "hidden_act" ? "HiddenAct" : Code.String(b.MlmTransformActivation);
        string mlmEps = b.MlmLayerNormEps is double eps ? Code.Double(eps) : "LayerNormEps";

        w.Line($"/// <summary>Configuration of {Code.Xml(spec.Name)} (<c>model_type</c> \"{Code.Xml(spec.Name)}\"), generated from {Code.Xml(spec.SourceFile)}.</summary>");
        w.Line("/// <remarks>");
        w.Line("/// Defaults are the spec's; <see cref=\"FromJson\"/> lets a checkpoint's <c>config.json</c> override them and keeps");
        w.Line("/// fields it does not know, which <see cref=\"ToJson\"/> writes back. Architecture choices fixed by the spec");
        w.Line("/// (the kinds of its slots) are validated, not configurable.");
        w.Line("/// </remarks>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial record {t}Config : global::RnaLm.Models.IModelConfig");
        w.Line($"/// <summary>The <c>model_type</c> of this family.</summary>");
        w.Line($"public const string ModelTypeName = {Code.String(spec.Name)};");
        w.Line();
        w.Line($"/// <summary>The <c>position_embedding_type</c> the spec fixes.</summary>");
        w.Line($"public const string PositionEmbeddingType = {Code.String(spec.PositionKind.PositionEmbeddingType)};");
        w.Line();
        w.Line("public string ModelType => ModelTypeName;");
        w.Line();
        foreach (var f in fields)
        {
            w.Line($"/// <summary>{f.Doc}</summary>");
            w.Line($"public {f.TypeName} {f.Property} {{ get; init; }} = {f.Default(b)};");
            w.Line();
        }
        w.Line("/// <summary>Fields of config.json this class does not model, kept for writing back.</summary>");
        w.Line("public global::System.Text.Json.Nodes.JsonObject ExtensionData { get; init; } = new();");
        w.Line();
        w.Line("/// <summary>Size of one attention head (hidden_size / num_attention_heads).</summary>");
        w.Line("public int HeadSize => HiddenSize / NumAttentionHeads;");
        w.Line();
        w.Line("/// <summary>Activation of the MLM head transform (<c>lm_head.transform_act</c>, else the spec default).</summary>");
        w.Line($"public string LmHeadTransformAct => global::RnaLm.Models.HeadConfigJson.TransformActivation(LmHead, {mlmAct});");
        w.Line();
        w.Line("/// <summary>Epsilon of the MLM head LayerNorm (<c>lm_head.layer_norm_eps</c>, else the spec default).</summary>");
        w.Line($"public double LmHeadLayerNormEps => global::RnaLm.Models.HeadConfigJson.LayerNormEps(LmHead, {mlmEps});");
        w.Line();

        // FromJson
        w.Line("/// <summary>Reads a MultiMolecule/HF <c>config.json</c>; fields present in the file override the spec defaults.</summary>");
        w.Line("/// <exception cref=\"global::RnaLm.Models.ConfigException\">The JSON is malformed, a field has the wrong type, or the values are inconsistent.</exception>");
        w.Open($"public static {t}Config FromJson(string json, string source = \"config.json\")");
        w.Line("var reader = global::RnaLm.Models.ConfigJsonReader.Parse(json, source);");
        w.Line("reader.Expect(\"model_type\", ModelTypeName);");
        w.Line("reader.Expect(\"position_embedding_type\", PositionEmbeddingType);");
        w.Line($"var defaults = new {t}Config();");
        w.Open($"var config = new {t}Config");
        foreach (var f in fields) w.Line($"{f.Property} = reader.{f.Getter}({Code.String(f.Key)}, defaults.{f.Property}),");
        w.Close(";");
        w.Line("config = config with { ExtensionData = reader.Remaining() };");
        w.Line("config.Validate(source);");
        w.Line("return config;");
        w.Close();
        w.Line();

        // ToJson
        w.Line("/// <summary>Writes this config as <c>config.json</c> text (model fields first, then preserved fields).</summary>");
        w.Open("public string ToJson()");
        w.Line("return new global::RnaLm.Models.ConfigJsonWriter()");
        w.Line("    .Add(\"model_type\", ModelTypeName)");
        foreach (var f in fields)
        {
            w.Line($"    .Add({Code.String(f.Key)}, {f.Property})");
            if (f.Key == "layer_norm_eps") w.Line("    .Add(\"position_embedding_type\", PositionEmbeddingType)");
        }
        w.Line("    .AddRemaining(ExtensionData)");
        w.Line("    .ToString();");
        w.Close();
        w.Line();

        Validate(w, fields);
        ParameterCount(w, spec);
        ForwardFlops(w, spec);
        VariantFacts(w, spec);
        w.Close();
        return w.ToString();
    }

    /// <summary><c>Validate(source)</c>: every field's check from the table, then the rules between fields.</summary>
    private static void Validate(SourceWriter w, System.Collections.Generic.IReadOnlyList<ConfigField> fields)
    {
        w.Line("/// <summary>Checks the values the generated modules rely on; the message names <paramref name=\"source\"/> and the field.</summary>");
        w.Open("public void Validate(string source = \"config\")");
        w.Line("static global::RnaLm.Models.ConfigException Fail(string source, string message) => new($\"{source}: {message}\");");
        w.Line("static string Show(double value) => value.ToString(\"R\", global::System.Globalization.CultureInfo.InvariantCulture);");
        w.Line("static string Count(long value) => value.ToString(\"N0\", global::System.Globalization.CultureInfo.InvariantCulture);");
        foreach (var f in fields)
        {
            string p = f.Property, k = f.Key, max = Code.Int(f.Maximum);
            switch (f.Check)
            {
                case ConfigCheck.Positive:
                case ConfigCheck.NonNegative:
                    string least = f.Check == ConfigCheck.Positive ? "1" : "0";
                    w.Line($"if ({p} < {least}) throw Fail(source, $\"{k} must be at least {least}, found {{{p}}}.\");");
                    string maxShown = f.Maximum.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
                    w.Line($"if ({p} > {max}) throw Fail(source, $\"{k} is {{Count({p})}}, more than the largest supported value {maxShown} (a corrupt config?).\");");
                    break;
                case ConfigCheck.Fraction:
                    w.Line($"if (!({p} >= 0 && {p} < 1)) throw Fail(source, $\"{k} must be a probability in [0, 1), found {{Show({p})}}.\");");
                    break;
                case ConfigCheck.PositiveFinite:
                    w.Line($"if (!({p} > 0) || double.IsInfinity({p})) throw Fail(source, $\"{k} must be a positive number (it keeps a norm from dividing by zero), found {{Show({p})}}.\");");
                    break;
                case ConfigCheck.NonNegativeFinite:
                    w.Line($"if (!({p} >= 0) || double.IsInfinity({p})) throw Fail(source, $\"{k} must be a non-negative number, found {{Show({p})}}.\");");
                    break;
                case ConfigCheck.Finite:
                    w.Line($"if (!double.IsFinite({p})) throw Fail(source, $\"{k} must be a finite number, found {{Show({p})}}.\");");
                    break;
                case ConfigCheck.Exact:
                    w.Line($"if ({p} != {max}) throw Fail(source, $\"{k} is {{{p}}}, but this model stores {max}.\");");
                    break;
            }
        }
        w.Line("if (HiddenSize % NumAttentionHeads != 0) throw Fail(source, $\"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.\");");
        var ids = fields.Where(f => f.Check == ConfigCheck.TokenId).Select(f => $"(\"{f.Key}\", {f.Property})");
        w.Line($"foreach (var (name, id) in new (string, int?)[] {{ {string.Join(", ", ids)} }})");
        w.Line("{");
        w.Line("    if (id is int value && (value < 0 || value >= VocabSize)) throw Fail(source, $\"{name} {value} is outside the vocabulary of {VocabSize} tokens.\");");
        w.Line("}");
        w.Line("try");
        w.Line("{");
        foreach (var f in fields.Where(f => f.Check == ConfigCheck.Activation))
        {
            w.Line($"    global::RnaLm.Modules.Activations.Resolve({f.Property}, \"{f.Key}\");");
        }
        w.Line("    global::RnaLm.Modules.Activations.Resolve(LmHeadTransformAct, \"lm_head.transform_act\");");
        w.Line("}");
        w.Line("catch (ArgumentException e)");
        w.Line("{");
        w.Line("    throw Fail(source, e.Message);");
        w.Line("}");
        w.Line("if (!(LmHeadLayerNormEps > 0) || double.IsInfinity(LmHeadLayerNormEps)) throw Fail(source, $\"lm_head.layer_norm_eps must be a positive number (it keeps a norm from dividing by zero), found {Show(LmHeadLayerNormEps)}.\");");
        w.Close();
        w.Line();
    }

    /// <summary><c>CountBackboneParameters()</c>: the sum the kinds' parameter declarations give, printed over the config's sizes.</summary>
    private static void ParameterCount(SourceWriter w, ModelSpec spec)
    {
        var (backbone, layer) = ModelParameters.Count(spec);
        var decls = ModelParameters.Backbone(spec).ToList();
        w.Line("/// <summary>");
        w.Line("/// Parameters of the backbone including a pooler, as on the model cards (stored rotary frequencies excluded): the");
        w.Line("/// tensors outside the layers, then num_hidden_layers times one layer's. The formula is the one the spec's kinds");
        w.Line("/// declare; the compile-time constants below are the same formula at each variant's defaults.");
        w.Line("/// </summary>");
        w.Open("public long CountBackboneParameters()");
        w.Line(Declare(backbone.ToCSharp() + " " + layer.ToCSharp()));
        w.Open("checked");
        Sum(w, "outsideLayers", decls.Where(d => d.Scope == ParamScope.Backbone && d.Counted));
        Sum(w, "perLayer", ModelParameters.Layer(spec).Where(d => d.Counted));
        w.Line("return outsideLayers + NumHiddenLayers * perLayer;");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>One local summing the elements of <paramref name="decls"/>, a line per tensor with its key.</summary>
    private static void Sum(SourceWriter w, string name, System.Collections.Generic.IEnumerable<ParamDecl> decls)
    {
        var list = decls.ToList();
        if (list.Count == 0)
        {
            w.Line($"long {name} = 0;");
            return;
        }
        w.Line($"long {name} =");
        for (int k = 0; k < list.Count; k++)
        {
            string term = list[k].Elements.ToCSharp();
            w.Line($"    {(k == 0 ? "  " : "+ ")}{term}{(k == list.Count - 1 ? ";" : "")}".PadRight(40) + " // " + list[k].Key);
        }
    }

    /// <summary>The locals a formula reads, declared from the config's properties (only the ones it uses).</summary>
    private static string Declare(string formula, bool withLength = false)
    {
        var used = Vars.Properties.Where(v => System.Text.RegularExpressions.Regex.IsMatch(formula, @"\b" + v.Name + @"\b")).ToList();
        var parts = used.Select(v => v.Name + " = " + v.Property).ToList();
        if (withLength) parts.Insert(0, "l = length");
        return "long " + string.Join(", ", parts) + ";";
    }

    /// <summary>
    /// <c>ForwardFlops(int length)</c> from the config's own sizes, the same polynomial as the compile-time constants
    /// (<see cref="ModelParameters.Flops"/>).
    /// </summary>
    private static void ForwardFlops(SourceWriter w, ModelSpec spec)
    {
        var (perSequence, perToken, perPair) = ModelParameters.Flops(spec);
        w.Line("/// <summary>");
        w.Line("/// Floating-point operations of one forward pass of the pretraining model (backbone, pooler and MLM head) over one");
        w.Line("/// sequence of <paramref name=\"length\"/> tokens (special tokens included, batch 1, no padding), counting two FLOPs per");
        w.Line("/// multiply-add of every matrix product: per token the Q, K, V and output projections, the feed-forward block");
        w.Line($"/// ({Code.Xml(spec.FeedForward.KindName)}) and the MLM head; per token pair QKᵀ and PV{(spec.Attention.Biases.Count > 0 ? " and the attention biases" : "")}; per sequence the pooler.");
        w.Line("/// Not counted: embedding lookups, bias and residual additions, score scaling, softmax, norms, activations, dropout,");
        w.Line("/// position rotations and tables, task heads. See docs/model-facts.md.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"length\">Tokens in the sequence, special tokens included (at least 1).</param>");
        w.Line("/// <exception cref=\"ArgumentOutOfRangeException\"><paramref name=\"length\"/> is less than 1.</exception>");
        w.Line("/// <exception cref=\"OverflowException\">The count does not fit in 64 bits.</exception>");
        w.Open("public long ForwardFlops(int length)");
        w.Line("if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, \"A forward pass needs at least one token.\");");
        w.Open("checked");
        w.Line(Declare(perSequence.ToCSharp() + " " + perToken.ToCSharp() + " " + perPair.ToCSharp(), withLength: true));
        w.Line($"long perSequence = {perSequence.ToCSharp()};");
        w.Line($"long perToken = {perToken.ToCSharp()};");
        w.Line($"long perTokenPair = {perPair.ToCSharp()};");
        w.Line("return 2 * (perSequence + perToken * l + perTokenPair * l * l); // multiply-adds, two FLOPs each");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>Per variant: the parameter count and the FLOPs polynomial as compile-time constants.</summary>
    private static void VariantFacts(SourceWriter w, ModelSpec spec)
    {
        foreach (var v in spec.Variants)
        {
            var flops = Facts.ForwardFlops(spec, v);
            w.Line($"/// <summary>Parameters of the {Code.Xml(v.Name)} backbone including a pooler (as on the model card), known at compile time.</summary>");
            w.Line($"public const long {v.MemberName}Parameters = {Code.Int(ModelParameters.Count(spec, v))};");
            w.Line();
            w.Line($"/// <summary><see cref=\"ForwardFlops(int)\"/> of the {Code.Xml(v.Name)} default config, from compile-time constants:");
            w.Line($"/// {Code.Int(flops.PerSequence)} + {Code.Int(flops.PerToken)}·L + {Code.Int(flops.PerTokenPair)}·L².</summary>");
            w.Line("/// <param name=\"length\">Tokens in the sequence, special tokens included (at least 1).</param>");
            w.Line($"public static long {v.MemberName}ForwardFlops(int length) => Polynomial(length, {Code.Int(flops.PerSequence)}L, {Code.Int(flops.PerToken)}L, {Code.Int(flops.PerTokenPair)}L);");
            w.Line();
        }
        w.Open("private static long Polynomial(int length, long perSequence, long perToken, long perTokenPair)");
        w.Line("if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, \"A forward pass needs at least one token.\");");
        w.Line("long l = length;");
        w.Line("return checked(perSequence + perToken * l + perTokenPair * l * l);");
        w.Close();
    }
}
