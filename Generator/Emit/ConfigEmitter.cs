using System.Linq;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>Emits <c>{Type}Config</c>: an immutable config with spec defaults that reads and writes <c>config.json</c>.</summary>
internal static class ConfigEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace);
        var b = spec.Variants[0];
        string t = spec.TypeName;
        bool learned = spec.Embeddings.Position.Kind == PositionKind.Learned;
        string mlmAct = b.MlmTransformActivation == "hidden_act" ? "HiddenAct" : Code.String(b.MlmTransformActivation);
        string mlmEps = b.MlmLayerNormEps is double eps ? Code.Double(eps) : "LayerNormEps";

        w.Line($"/// <summary>Configuration of {Code.Xml(spec.Name)} (<c>model_type</c> \"{Code.Xml(spec.Name)}\"), generated from {Code.Xml(spec.SourceFile)}.</summary>");
        w.Line("/// <remarks>");
        w.Line("/// Defaults are the spec's; <see cref=\"FromJson\"/> lets a checkpoint's <c>config.json</c> override them and keeps");
        w.Line("/// fields it does not know, which <see cref=\"ToJson\"/> writes back. Architecture choices fixed by the spec");
        w.Line("/// (position kind, norm placement) are validated, not configurable.");
        w.Line("/// </remarks>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial record {t}Config : global::RnaLm.Models.IModelConfig");
        w.Line($"/// <summary>The <c>model_type</c> of this family.</summary>");
        w.Line($"public const string ModelTypeName = {Code.String(spec.Name)};");
        w.Line();
        w.Line($"/// <summary>The <c>position_embedding_type</c> the spec fixes.</summary>");
        w.Line($"public const string PositionEmbeddingType = {Code.String(Facts.PositionEmbeddingType(spec.Embeddings.Position.Kind))};");
        w.Line();
        w.Line("public string ModelType => ModelTypeName;");
        w.Line();
        Property(w, "int", "VocabSize", Code.Int(b.Dims.VocabSize ?? 0), "vocab_size: tokens in the vocabulary (V).");
        Property(w, "int", "HiddenSize", Code.Int(b.Dims.Hidden), "hidden_size (H).");
        Property(w, "int", "NumHiddenLayers", Code.Int(b.Dims.Layers), "num_hidden_layers (N).");
        Property(w, "int", "NumAttentionHeads", Code.Int(b.Dims.Heads), "num_attention_heads (h); must divide hidden_size.");
        Property(w, "int", "IntermediateSize", Code.Int(b.Dims.Intermediate), "intermediate_size of the feed-forward block.");
        Property(w, "string", "HiddenAct", Code.String(b.HiddenAct), "hidden_act of the feed-forward block.");
        Property(w, "double", "HiddenDropout", "0.1", "hidden_dropout (training only).");
        Property(w, "double", "AttentionDropout", "0.1", "attention_dropout (training only).");
        Property(w, "int", "MaxPositionEmbeddings", Code.Int(b.MaxPositions),
            learned ? "max_position_embeddings: rows of the learned position table, the longest input in tokens."
                    : "max_position_embeddings (informational for this position kind).");
        Property(w, "double", "InitializerRange", "0.02", "initializer_range: std of the normal initialisation.");
        Property(w, "double", "LayerNormEps", Code.Double(b.LayerNormEps), "layer_norm_eps of every LayerNorm.");
        if (spec.Embeddings.TokenType is { } tokenType)
        {
            Property(w, "int", "TypeVocabSize", Code.Int(tokenType.Size), "type_vocab_size: rows of the token-type table.");
        }
        bool prior = spec.Attention.PairPrior is not null;
        bool kmers = spec.Variants.Any(v => v.Tokenizer.Nmers > 1);
        if (prior)
        {
            Property(w, "double", "PairwiseAlpha", Code.Double(b.PairwiseAlpha), "pairwise_alpha: the G–U value of the base-pairing prior (A–U 2, C–G 3).");
            Property(w, "bool", "OutputAttentionBiases", "false", "output_attention_biases: return each layer's carried attention logits.");
        }
        if (kmers)
        {
            Property(w, "int?", "Nmers", b.Tokenizer.Nmers > 1 ? Code.Int(b.Tokenizer.Nmers) : "null", "nmers: k of the overlapping k-mer tokenizer (null = single nucleotides).");
        }
        Property(w, "int", "PadTokenId", "0", "pad_token_id.");
        Property(w, "int?", "BosTokenId", "1", "bos_token_id (&lt;cls&gt;); null when sequences have no &lt;cls&gt;.");
        Property(w, "int?", "EosTokenId", "2", "eos_token_id; null when sequences have no &lt;eos&gt;.");
        Property(w, "int", "UnkTokenId", "3", "unk_token_id.");
        Property(w, "int", "MaskTokenId", "4", "mask_token_id.");
        Property(w, "int?", "NullTokenId", "5", "null_token_id.");
        Property(w, "bool", "TieWordEmbeddings", "true", "tie_word_embeddings: the MLM decoder shares the word embeddings.");
        Property(w, "int", "NumLabels", "1", "num_labels: default output size of task heads.");
        string? newLmHead = FamilyEmitter.ClassLmHead(spec, b);
        Property(w, "global::System.Text.Json.Nodes.JsonObject?", "LmHead", newLmHead ?? "null", newLmHead is null
            ? "lm_head: MLM head settings; null means the defaults."
            : "lm_head: MLM head settings, as a new config writes them; a config.json with <c>lm_head: null</c> means the spec's older defaults.");
        Property(w, "global::System.Text.Json.Nodes.JsonObject?", "Head", "null", "head: task-head settings; null means the defaults.");
        Property(w, "global::System.Text.Json.Nodes.JsonObject", "ExtensionData", "new()", "Fields of config.json this class does not model, kept for writing back.");

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
        Read(w, "VocabSize", "GetInt", "vocab_size");
        Read(w, "HiddenSize", "GetInt", "hidden_size");
        Read(w, "NumHiddenLayers", "GetInt", "num_hidden_layers");
        Read(w, "NumAttentionHeads", "GetInt", "num_attention_heads");
        Read(w, "IntermediateSize", "GetInt", "intermediate_size");
        Read(w, "HiddenAct", "GetString", "hidden_act");
        Read(w, "HiddenDropout", "GetDouble", "hidden_dropout");
        Read(w, "AttentionDropout", "GetDouble", "attention_dropout");
        Read(w, "MaxPositionEmbeddings", "GetInt", "max_position_embeddings");
        Read(w, "InitializerRange", "GetDouble", "initializer_range");
        Read(w, "LayerNormEps", "GetDouble", "layer_norm_eps");
        if (spec.Embeddings.TokenType is not null) Read(w, "TypeVocabSize", "GetInt", "type_vocab_size");
        if (prior)
        {
            Read(w, "PairwiseAlpha", "GetDouble", "pairwise_alpha");
            Read(w, "OutputAttentionBiases", "GetBool", "output_attention_biases");
        }
        if (kmers) Read(w, "Nmers", "GetNullableInt", "nmers");
        Read(w, "PadTokenId", "GetInt", "pad_token_id");
        Read(w, "BosTokenId", "GetNullableInt", "bos_token_id");
        Read(w, "EosTokenId", "GetNullableInt", "eos_token_id");
        Read(w, "UnkTokenId", "GetInt", "unk_token_id");
        Read(w, "MaskTokenId", "GetInt", "mask_token_id");
        Read(w, "NullTokenId", "GetNullableInt", "null_token_id");
        Read(w, "TieWordEmbeddings", "GetBool", "tie_word_embeddings");
        Read(w, "NumLabels", "GetInt", "num_labels");
        Read(w, "LmHead", "GetObject", "lm_head");
        Read(w, "Head", "GetObject", "head");
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
        Write(w, "vocab_size", "VocabSize");
        Write(w, "hidden_size", "HiddenSize");
        Write(w, "num_hidden_layers", "NumHiddenLayers");
        Write(w, "num_attention_heads", "NumAttentionHeads");
        Write(w, "intermediate_size", "IntermediateSize");
        Write(w, "hidden_act", "HiddenAct");
        Write(w, "hidden_dropout", "HiddenDropout");
        Write(w, "attention_dropout", "AttentionDropout");
        Write(w, "max_position_embeddings", "MaxPositionEmbeddings");
        Write(w, "initializer_range", "InitializerRange");
        Write(w, "layer_norm_eps", "LayerNormEps");
        w.Line("    .Add(\"position_embedding_type\", PositionEmbeddingType)");
        if (spec.Embeddings.TokenType is not null) Write(w, "type_vocab_size", "TypeVocabSize");
        if (prior)
        {
            Write(w, "pairwise_alpha", "PairwiseAlpha");
            Write(w, "output_attention_biases", "OutputAttentionBiases");
        }
        if (kmers) Write(w, "nmers", "Nmers");
        Write(w, "pad_token_id", "PadTokenId");
        Write(w, "bos_token_id", "BosTokenId");
        Write(w, "eos_token_id", "EosTokenId");
        Write(w, "unk_token_id", "UnkTokenId");
        Write(w, "mask_token_id", "MaskTokenId");
        Write(w, "null_token_id", "NullTokenId");
        Write(w, "tie_word_embeddings", "TieWordEmbeddings");
        Write(w, "num_labels", "NumLabels");
        Write(w, "lm_head", "LmHead");
        Write(w, "head", "Head");
        w.Line("    .AddRemaining(ExtensionData)");
        w.Line("    .ToString();");
        w.Close();
        w.Line();

        // Validate
        w.Line("/// <summary>Checks the values the generated modules rely on; the message names <paramref name=\"source\"/> and the field.</summary>");
        w.Open("public void Validate(string source = \"config\")");
        w.Line("static global::RnaLm.Models.ConfigException Fail(string source, string message) => new($\"{source}: {message}\");");
        w.Line("if (VocabSize <= 0) throw Fail(source, $\"vocab_size must be positive, found {VocabSize}.\");");
        w.Line("if (HiddenSize <= 0) throw Fail(source, $\"hidden_size must be positive, found {HiddenSize}.\");");
        w.Line("if (NumHiddenLayers <= 0) throw Fail(source, $\"num_hidden_layers must be positive, found {NumHiddenLayers}.\");");
        w.Line("if (NumAttentionHeads <= 0) throw Fail(source, $\"num_attention_heads must be positive, found {NumAttentionHeads}.\");");
        w.Line("if (IntermediateSize <= 0) throw Fail(source, $\"intermediate_size must be positive, found {IntermediateSize}.\");");
        w.Line("if (HiddenSize % NumAttentionHeads != 0) throw Fail(source, $\"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.\");");
        if (learned || spec.Embeddings.Position.Kind == PositionKind.Sinusoidal)
        {
            w.Line("if (MaxPositionEmbeddings <= 0) throw Fail(source, $\"max_position_embeddings must be positive, found {MaxPositionEmbeddings}.\");");
        }
        if (spec.Embeddings.TokenType is { } tt)
        {
            w.Line($"if (TypeVocabSize != {Code.Int(tt.Size)}) throw Fail(source, $\"type_vocab_size is {{TypeVocabSize}}, but this model stores {Code.Int(tt.Size)} token types.\");");
        }
        w.Line("foreach (var (name, id) in new (string, int?)[] { (\"pad_token_id\", PadTokenId), (\"bos_token_id\", BosTokenId), (\"eos_token_id\", EosTokenId), (\"unk_token_id\", UnkTokenId), (\"mask_token_id\", MaskTokenId), (\"null_token_id\", NullTokenId) })");
        w.Line("{");
        w.Line("    if (id is int value && (value < 0 || value >= VocabSize)) throw Fail(source, $\"{name} {value} is outside the vocabulary of {VocabSize} tokens.\");");
        w.Line("}");
        w.Line("try");
        w.Line("{");
        w.Line("    global::RnaLm.Modules.Activations.Resolve(HiddenAct, \"hidden_act\");");
        w.Line("    global::RnaLm.Modules.Activations.Resolve(LmHeadTransformAct, \"lm_head.transform_act\");");
        w.Line("}");
        w.Line("catch (ArgumentException e)");
        w.Line("{");
        w.Line("    throw Fail(source, e.Message);");
        w.Line("}");
        w.Line("global::RnaLm.Models.ConfigRules.Check(source, this, HiddenDropout, AttentionDropout, LayerNormEps, LmHeadLayerNormEps, InitializerRange, NumLabels);");
        w.Close();
        w.Line();

        // Parameter count
        w.Line("/// <summary>");
        w.Line("/// Parameters of the backbone including a pooler, as on the model cards (stored rotary frequencies excluded):");
        w.Line("/// embeddings, then per layer Q/K/V, output projection, feed-forward and LayerNorms, then the pooler.");
        w.Line("/// </summary>");
        w.Open("public long CountBackboneParameters()");
        w.Line("long h = HiddenSize, i = IntermediateSize, v = VocabSize;");
        var emb = "v * h";
        if (learned) emb += " + (long)MaxPositionEmbeddings * h";
        if (spec.Embeddings.TokenType is not null) emb += " + (long)TypeVocabSize * h";
        if (spec.Embeddings.LayerNorm) emb += " + 2 * h";
        w.Line($"long embeddings = {emb};");
        w.Line($"long attention = 3 * (h * h{(spec.Attention.QkvBias ? " + h" : "")}) + h * h{(spec.Attention.OutputBias ? " + h" : "")};");
        w.Line($"long feedForward = h * i + i * h{(spec.FeedForward.Bias ? " + i + h" : "")};");
        w.Line("long layerNorms = 2 * (2 * h);");
        var total = "embeddings + NumHiddenLayers * (attention + feedForward + layerNorms)";
        if (spec.Norm.Final) total += " + 2 * h";
        if (spec.Attention.PairPrior is not null)
        {
            w.Line("long half = NumAttentionHeads / 2;");
            total += " + (half + half) + (half * NumAttentionHeads + NumAttentionHeads)";
        }
        total += " + (h * h + h)";
        w.Line($"return {total};");
        w.Close();
        w.Line();

        ForwardFlops(w, spec);
        VariantFacts(w, spec);
        w.Close();
        return w.ToString();
    }

    /// <summary>
    /// <c>ForwardFlops(int length)</c> from the config's own sizes, specialised to the spec (a pair-prior term only
    /// when the spec has a pair prior); the same count as <see cref="Facts.ForwardFlops"/>.
    /// </summary>
    private static void ForwardFlops(SourceWriter w, ModelSpec spec)
    {
        bool prior = spec.Attention.PairPrior is not null;
        w.Line("/// <summary>");
        w.Line("/// Floating-point operations of one forward pass of the pretraining model (backbone, pooler and MLM head) over one");
        w.Line("/// sequence of <paramref name=\"length\"/> tokens (special tokens included, batch 1, no padding), counting two FLOPs per");
        w.Line("/// multiply-add of every matrix product. With L = length, H = hidden_size, I = intermediate_size, V = vocab_size,");
        w.Line("/// N = num_hidden_layers" + (prior ? " and h = num_attention_heads" : "") + ":");
        w.Line("/// <code>");
        w.Line("/// FLOPs(L) = 2·N·(4·L·H² + 2·L·H·I)  Q, K, V and output projections; feed-forward");
        w.Line("///          + 2·N·(2·L²·H)            QKᵀ and PV over all heads");
        if (prior) w.Line("///          + 2·L²·(h/2)·(1 + h)      pair-prior MLP 1 → h/2 → h on every token pair, once");
        w.Line("///          + 2·H²                    pooler on the first token");
        w.Line("///          + 2·(L·H² + L·H·V)        MLM head transform and decoder");
        w.Line("/// </code>");
        w.Line("/// Not counted: embedding lookups (no multiplications), bias additions, residual additions, score scaling, softmax,");
        w.Line("/// LayerNorm, activations, dropout" + (spec.Embeddings.Position.Kind == PositionKind.Rotary ? ", the rotary rotation" : "")
            + (spec.Embeddings.Position.Kind == PositionKind.Sinusoidal ? ", the sinusoid table" : "")
            + (spec.SecondaryStructure is not null ? ", task heads (the secondary-structure head)" : ", task heads") + ". See docs/model-facts.md.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"length\">Tokens in the sequence, special tokens included (at least 1).</param>");
        w.Line("/// <exception cref=\"ArgumentOutOfRangeException\"><paramref name=\"length\"/> is less than 1.</exception>");
        w.Line("/// <exception cref=\"OverflowException\">The count does not fit in 64 bits.</exception>");
        w.Open("public long ForwardFlops(int length)");
        w.Line("if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, \"A forward pass needs at least one token.\");");
        w.Open("checked");
        w.Line("long l = length, h = HiddenSize, i = IntermediateSize, v = VocabSize, n = NumHiddenLayers;");
        w.Line("long layers = n * (4 * l * h * h + 2 * l * h * i + 2 * l * l * h); // multiply-adds");
        if (prior)
        {
            w.Line("long half = NumAttentionHeads / 2;");
            w.Line("long pairPrior = l * l * (half + half * NumAttentionHeads);");
        }
        w.Line("long pooler = h * h;");
        w.Line("long mlmHead = l * h * h + l * h * v;");
        w.Line($"return 2 * (layers{(prior ? " + pairPrior" : "")} + pooler + mlmHead);");
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
            w.Line($"public const long {v.MemberName}Parameters = {Code.Int(Facts.BackboneParameters(spec, v))};");
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

    private static void Property(SourceWriter w, string type, string name, string value, string doc)
    {
        w.Line($"/// <summary>{doc}</summary>");
        w.Line($"public {type} {name} {{ get; init; }} = {value};");
        w.Line();
    }

    private static void Read(SourceWriter w, string property, string getter, string json) =>
        w.Line($"{property} = reader.{getter}({Code.String(json)}, defaults.{property}),");

    private static void Write(SourceWriter w, string json, string property) =>
        w.Line($"    .Add({Code.String(json)}, {property})");
}
