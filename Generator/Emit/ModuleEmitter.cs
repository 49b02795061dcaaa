using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Emit;

/// <summary>
/// Emits the backbone modules of one family: embeddings, self-attention, layer, encoder and the model. Only the
/// features the spec declares are written, so the output has no branches on architecture. Field names are the
/// PyTorch/MultiMolecule state-dict names.
/// </summary>
internal static class ModuleEmitter
{
    public static string Emit(ModelSpec spec)
    {
        var w = new SourceWriter();
        Code.Header(w, spec.Namespace);
        Embeddings(w, spec);
        SelfAttention(w, spec);
        if (spec.Norm.Placement == NormPlacement.Post) PostNormBlocks(w, spec);
        else PreNormBlocks(w, spec);
        Layer(w, spec);
        Encoder(w, spec);
        Backbone(w, spec);
        return w.ToString();
    }

    private static bool EmbeddingsTakeMask(ModelSpec spec) => spec.Embeddings.ZeroPad;

    /// <summary>How masks and the carried bias travel through attention, layer and encoder for this spec.</summary>
    private sealed class Signature
    {
        public Signature(ModelSpec spec)
        {
            Queries = spec.Attention.Softmax == SoftmaxAxis.Queries;
            Prior = spec.Attention.PairPrior is not null;
        }

        /// <summary>Softmax over the query axis with a query-row mask and a post-softmax pair mask.</summary>
        public bool Queries { get; }

        /// <summary>A pair-prior bias enters layer 1 and each layer's pre-softmax logits are carried to the next.</summary>
        public bool Prior { get; }

        public string MaskTypes => Queries ? "Tensor?, Tensor?" : "Tensor?";

        public string MaskParams => Queries ? "Tensor? rowMask, Tensor? pairMask" : "Tensor? mask";

        public string MaskArgs => Queries ? "rowMask, pairMask" : "mask";

        public string BiasType => Prior ? ", Tensor" : "";

        public string BiasParam => Prior ? ", Tensor bias" : "";

        public string BiasArg => Prior ? ", bias" : "";

        public string SelfResult => Prior ? "(Tensor Context, Tensor Probabilities, Tensor Logits)" : "(Tensor Context, Tensor Probabilities)";

        public string LayerResult => Prior ? "(Tensor Hidden, Tensor Probabilities, Tensor Logits)" : "(Tensor Hidden, Tensor Probabilities)";

        public string MaskDoc => Queries
            ? "/// <param name=\"rowMask\">Additive query-row mask [B, 1, L, 1], or null when nothing is padded.</param>\n/// <param name=\"pairMask\">Post-softmax pair mask [B, 1, L, L], or null when nothing is padded.</param>"
            : "/// <param name=\"mask\">Additive key-padding mask [B, 1, 1, L], or null when nothing is padded.</param>";

        public string BiasDoc => Prior ? "/// <param name=\"bias\">Attention bias [B, h, L, L]: the pair prior for layer 1, then the previous layer's logits.</param>" : "";
    }

    private static void Embeddings(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var e = spec.Embeddings;
        bool takesMask = EmbeddingsTakeMask(spec);
        var kind = e.Position.Kind;
        w.Line($"/// <summary>{Code.Xml(spec.Name)} embeddings (keys <c>{spec.Checkpoint.Prefix}.embeddings.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Embeddings : nn.Module<Tensor, {(takesMask ? "Tensor, " : "")}Tensor>");
        w.Line("private readonly Embedding word_embeddings;       // [V, H]");
        if (kind == PositionKind.Learned) w.Line("private readonly Embedding position_embeddings;   // [max_position_embeddings, H]");
        if (e.TokenType is { Added: true }) w.Line("private readonly Embedding token_type_embeddings; // [type_vocab_size, H], row 0 added to every token");
        else if (e.TokenType is not null) w.Line("private readonly Embedding token_type_embeddings; // [type_vocab_size, H], stored in checkpoints but never added");
        if (e.LayerNorm)
        {
            w.Line("private readonly LayerNorm layer_norm;            // [H]");
            w.Line("private readonly Dropout dropout;");
        }
        if (kind == PositionKind.Learned) w.Line("private readonly long _maxPositions;");
        if (kind == PositionKind.Sinusoidal)
        {
            w.Line("private readonly long _hiddenSize;");
            w.Line("private readonly long _paddingIndex;");
        }
        w.Line();
        w.Open($"public {t}Embeddings({t}Config config) : base(\"embeddings\")");
        w.Line("word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);");
        if (kind == PositionKind.Learned)
        {
            w.Line("position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);");
            w.Line("_maxPositions = config.MaxPositionEmbeddings;");
        }
        if (kind == PositionKind.Sinusoidal)
        {
            w.Line("_hiddenSize = config.HiddenSize;");
            w.Line("_paddingIndex = config.PadTokenId;");
        }
        if (e.TokenType is not null) w.Line("token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);");
        if (e.LayerNorm)
        {
            w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
            w.Line("dropout = nn.Dropout(config.HiddenDropout);");
        }
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <summary>The word-embedding matrix [V, H] (shared with a tied MLM decoder).</summary>");
        w.Line("internal Parameter WordEmbeddingWeight => word_embeddings.weight!;");
        w.Line();
        w.Line("/// <param name=\"inputIds\">[B, L] int64 token ids.</param>");
        if (takesMask) w.Line("/// <param name=\"attentionMask\">[B, L] 1 = real token, 0 = padding.</param>");
        w.Line("/// <returns>[B, L, H].</returns>");
        w.Open($"public override Tensor forward(Tensor inputIds{(takesMask ? ", Tensor attentionMask" : "")})");
        w.Line("using var scope = NewDisposeScope();");
        if (kind == PositionKind.Learned)
        {
            w.Line("long length = inputIds.shape[1];");
            w.Open("if (length > _maxPositions)");
            w.Line($"throw new ArgumentException($\"A sequence of {{length}} tokens is longer than max_position_embeddings {{_maxPositions}} of {Code.Xml(spec.Name)}; truncate it (rnalm: --max-length/--truncation).\");");
            w.Close();
            w.Line("var positionIds = arange(length, dtype: ScalarType.Int64, device: inputIds.device); // [L]: 0..L-1");
        }
        w.Line("var embeddings = word_embeddings.call(inputIds); // [B, L, H]");
        if (e.TokenType is { Added: true }) w.Line("embeddings = embeddings + token_type_embeddings.weight![0]; // token type 0 everywhere");
        if (kind == PositionKind.Learned) w.Line("embeddings = embeddings + position_embeddings.call(positionIds); // [L, H] broadcast over B");
        if (kind == PositionKind.Sinusoidal)
        {
            var sin = e.Position.Sinusoidal!;
            string ids = sin.PaddingAware ? "inputIds" : "inputIds.ones_like()";
            w.Line($"// Sinusoid rows: real tokens count up from {Code.Int(sin.Offset + 1)} (after the padding row), pad tokens use row {Code.Int(sin.Offset)}; computed, never stored.");
            w.Line($"embeddings = embeddings + global::RnaLm.Modules.SinusoidalPositions.Embed({ids}, _hiddenSize, _paddingIndex, offset: {Code.Int(sin.Offset)}, embeddings.dtype);");
        }
        if (e.LayerNorm) w.Line("embeddings = dropout.call(layer_norm.call(embeddings));");
        if (e.ZeroPad) w.Line("embeddings = embeddings * attentionMask.unsqueeze(-1).to_type(embeddings.dtype); // pad rows exactly zero");
        w.Line("return embeddings.MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void SelfAttention(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var sig = new Signature(spec);
        string bias = spec.Attention.QkvBias ? "" : ", hasBias: false";
        var rotary = spec.Embeddings.Position.Rotary;
        w.Line($"/// <summary>Scaled dot-product self-attention of {Code.Xml(spec.Name)} (keys <c>attention.self.*</c>).</summary>");
        if (sig.Queries) w.Line("/// <remarks>Softmax runs over the query axis (each column sums to 1); padded rows and columns are zeroed afterwards.</remarks>");
        if (sig.Prior) w.Line("/// <remarks>The incoming bias is added to the scaled scores; the resulting pre-softmax logits are returned for the next layer.</remarks>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}SelfAttention : nn.Module<Tensor, {sig.MaskTypes}{sig.BiasType}, {sig.SelfResult}>");
        w.Line($"private readonly Linear query; // [H, H]{(spec.Attention.QkvBias ? "" : ", no bias")}");
        w.Line($"private readonly Linear key;   // [H, H]{(spec.Attention.QkvBias ? "" : ", no bias")}");
        w.Line($"private readonly Linear value; // [H, H]{(spec.Attention.QkvBias ? "" : ", no bias")}");
        if (rotary is not null)
        {
            w.Line($"private readonly global::RnaLm.Modules.RotaryEmbedding rotary_embeddings; // freqs [r/2]{(rotary.StoredFrequencies ? " (stored)" : " (computed, not stored)")}: rotates the first r features of each head{(rotary.Interleaved ? " in pairs (2k, 2k+1)" : " in halves (k, k + r/2)")}");
        }
        w.Line("private readonly Dropout dropout;");
        w.Line("private readonly long _heads;");
        w.Line("private readonly long _headSize;");
        w.Line("private readonly double _scale;");
        w.Line();
        w.Open($"public {t}SelfAttention({t}Config config) : base(\"self\")");
        w.Line($"query = nn.Linear(config.HiddenSize, config.HiddenSize{bias});");
        w.Line($"key = nn.Linear(config.HiddenSize, config.HiddenSize{bias});");
        w.Line($"value = nn.Linear(config.HiddenSize, config.HiddenSize{bias});");
        if (rotary is not null)
        {
            // The spec's rotary dim is given at its own head size; other configs rotate the same fraction of each head.
            int specHeadSize = spec.Dims.Hidden / spec.Dims.Heads;
            w.Line($"long rotaryDim = config.HeadSize * {Code.Int(rotary.Dim)} / {Code.Int(specHeadSize)}; // {Code.Int(rotary.Dim)} of {Code.Int(specHeadSize)} features per head");
            w.Line("if (rotaryDim % 2 != 0) throw new ArgumentException($\"The rotary dimension {rotaryDim} (head size {config.HeadSize}) must be even.\");");
            string layout = (rotary.Interleaved ? "" : ", interleaved: false") + (rotary.StoredFrequencies ? "" : ", storedFrequencies: false");
            w.Line($"rotary_embeddings = new global::RnaLm.Modules.RotaryEmbedding(rotaryDim, {Code.Double(rotary.Base)}{layout});");
        }
        w.Line("dropout = nn.Dropout(config.AttentionDropout);");
        w.Line("_heads = config.NumAttentionHeads;");
        w.Line("_headSize = config.HeadSize;");
        w.Line("_scale = 1.0 / Math.Sqrt(config.HeadSize); // d^-1/2");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"hiddenStates\">[B, L, H].</param>");
        w.Lines(sig.MaskDoc);
        if (sig.Prior) w.Lines(sig.BiasDoc);
        w.Line($"/// <returns>Context [B, L, H] and post-softmax probabilities [B, h, L, L]{(sig.Prior ? "; the pre-softmax logits [B, h, L, L]" : "")}.</returns>");
        w.Open($"public override {sig.SelfResult} forward(Tensor hiddenStates, {sig.MaskParams}{sig.BiasParam})");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("long batch = hiddenStates.shape[0], length = hiddenStates.shape[1];");
        w.Line("// [B, L, H] -> [B, h, L, d]");
        w.Line("var q = query.call(hiddenStates).view(batch, length, _heads, _headSize).transpose(1, 2);");
        w.Line("var k = key.call(hiddenStates).view(batch, length, _heads, _headSize).transpose(1, 2);");
        w.Line("var v = value.call(hiddenStates).view(batch, length, _heads, _headSize).transpose(1, 2);");
        if (rotary is not null)
        {
            w.Line("q = rotary_embeddings.call(q); // positions 0..L-1");
            w.Line("k = rotary_embeddings.call(k);");
        }
        w.Line("var scores = matmul(q, k.transpose(2, 3)) * _scale; // [B, h, L, L]");
        string probabilities;
        if (sig.Queries)
        {
            w.Line("if (rowMask is not null) scores = scores + rowMask; // masks padded query rows");
            w.Line("var probabilities = scores.softmax(-2); // over queries: each column sums to 1");
            w.Line("if (pairMask is not null) probabilities = probabilities * pairMask; // zero padded rows and columns");
            probabilities = "probabilities";
        }
        else
        {
            w.Line("if (mask is not null) scores = scores + mask;");
            if (sig.Prior)
            {
                w.Line("var logits = scores + bias; // handed to the next layer");
                w.Line("var probabilities = logits.softmax(-1); // over keys");
            }
            else
            {
                w.Line("var probabilities = scores.softmax(-1); // over keys");
            }
            probabilities = "probabilities";
        }
        w.Line($"var context = matmul(dropout.call({probabilities}), v) // [B, h, L, d]");
        w.Line("    .transpose(1, 2).contiguous().view(batch, length, _heads * _headSize); // [B, L, H]");
        w.Line(sig.Prior
            ? "return (context.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());"
            : "return (context.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());");
        w.Close();
        w.Close();
        w.Line();
    }

    private static string Return(Signature sig) => sig.Prior
        ? "return (hidden.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());"
        : "return (hidden.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());";

    private static void PostNormBlocks(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var sig = new Signature(spec);
        string outBias = spec.Attention.OutputBias ? "" : ", hasBias: false";
        string ffnBias = spec.FeedForward.Bias ? "" : ", hasBias: false";

        w.Line($"/// <summary>Attention output projection with residual and post-LayerNorm (keys <c>attention.output.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}SelfOutput : nn.Module<Tensor, Tensor, Tensor>");
        w.Line("private readonly Linear dense;          // [H, H]");
        w.Line("private readonly LayerNorm layer_norm;  // [H]");
        w.Line("private readonly Dropout dropout;");
        w.Line();
        w.Open($"public {t}SelfOutput({t}Config config) : base(\"output\")");
        w.Line($"dense = nn.Linear(config.HiddenSize, config.HiddenSize{outBias});");
        w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
        w.Line("dropout = nn.Dropout(config.HiddenDropout);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"context\">[B, L, H] attention context.</param>");
        w.Line("/// <param name=\"residual\">[B, L, H] the layer input.</param>");
        w.Open("public override Tensor forward(Tensor context, Tensor residual)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("return layer_norm.call(dropout.call(dense.call(context)) + residual).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>Self-attention plus its output block (keys <c>attention.self.*</c>, <c>attention.output.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Attention : nn.Module<Tensor, {sig.MaskTypes}{sig.BiasType}, {sig.LayerResult}>");
        w.Line($"private readonly {t}SelfAttention self;");
        w.Line($"private readonly {t}SelfOutput output;");
        w.Line();
        w.Open($"public {t}Attention({t}Config config) : base(\"attention\")");
        w.Line($"self = new {t}SelfAttention(config);");
        w.Line($"output = new {t}SelfOutput(config);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"hiddenStates\">[B, L, H].</param>");
        w.Lines(sig.MaskDoc);
        if (sig.Prior) w.Lines(sig.BiasDoc);
        w.Open($"public override {sig.LayerResult} forward(Tensor hiddenStates, {sig.MaskParams}{sig.BiasParam})");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var {(sig.Prior ? "(context, probabilities, logits)" : "(context, probabilities)")} = self.call(hiddenStates, {sig.MaskArgs}{sig.BiasArg});");
        w.Line("var hidden = output.call(context, hiddenStates); // [B, L, H]");
        w.Line(Return(sig));
        w.Close();
        w.Close();
        w.Line();

        Intermediate(w, spec);

        w.Line($"/// <summary>Second feed-forward projection with residual and post-LayerNorm (keys <c>output.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Output : nn.Module<Tensor, Tensor, Tensor>");
        w.Line("private readonly Linear dense;          // [H, intermediate]");
        w.Line("private readonly LayerNorm layer_norm;  // [H]");
        w.Line("private readonly Dropout dropout;");
        w.Line();
        w.Open($"public {t}Output({t}Config config) : base(\"output\")");
        w.Line($"dense = nn.Linear(config.IntermediateSize, config.HiddenSize{ffnBias});");
        w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
        w.Line("dropout = nn.Dropout(config.HiddenDropout);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"intermediate\">[B, L, intermediate].</param>");
        w.Line("/// <param name=\"residual\">[B, L, H] the attention block output.</param>");
        w.Open("public override Tensor forward(Tensor intermediate, Tensor residual)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("return layer_norm.call(dropout.call(dense.call(intermediate)) + residual).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void PreNormBlocks(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var sig = new Signature(spec);
        string outBias = spec.Attention.OutputBias ? "" : ", hasBias: false";
        string ffnBias = spec.FeedForward.Bias ? "" : ", hasBias: false";

        w.Line($"/// <summary>Attention output projection (keys <c>attention.output.dense.*</c>); the residual is added by the attention block.</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}SelfOutput : nn.Module<Tensor, Tensor>");
        w.Line("private readonly Linear dense; // [H, H]");
        w.Line("private readonly Dropout dropout;");
        w.Line();
        w.Open($"public {t}SelfOutput({t}Config config) : base(\"output\")");
        w.Line($"dense = nn.Linear(config.HiddenSize, config.HiddenSize{outBias});");
        w.Line("dropout = nn.Dropout(config.HiddenDropout);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Open("public override Tensor forward(Tensor context)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("return dropout.call(dense.call(context)).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>Pre-LN attention block: <c>x + output(self(layer_norm(x)))</c> (keys <c>attention.layer_norm</c>, <c>attention.self</c>, <c>attention.output</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Attention : nn.Module<Tensor, {sig.MaskTypes}{sig.BiasType}, {sig.LayerResult}>");
        w.Line("private readonly LayerNorm layer_norm; // [H]");
        w.Line($"private readonly {t}SelfAttention self;");
        w.Line($"private readonly {t}SelfOutput output;");
        w.Line();
        w.Open($"public {t}Attention({t}Config config) : base(\"attention\")");
        w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
        w.Line($"self = new {t}SelfAttention(config);");
        w.Line($"output = new {t}SelfOutput(config);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Open($"public override {sig.LayerResult} forward(Tensor hiddenStates, {sig.MaskParams}{sig.BiasParam})");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var {(sig.Prior ? "(context, probabilities, logits)" : "(context, probabilities)")} = self.call(layer_norm.call(hiddenStates), {sig.MaskArgs}{sig.BiasArg});");
        w.Line("var hidden = output.call(context) + hiddenStates; // [B, L, H]");
        w.Line(Return(sig));
        w.Close();
        w.Close();
        w.Line();

        Intermediate(w, spec);

        w.Line($"/// <summary>Second feed-forward projection (keys <c>output.dense.*</c>); the residual is added by the layer.</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Output : nn.Module<Tensor, Tensor>");
        w.Line("private readonly Linear dense; // [H, intermediate]");
        w.Line("private readonly Dropout dropout;");
        w.Line();
        w.Open($"public {t}Output({t}Config config) : base(\"output\")");
        w.Line($"dense = nn.Linear(config.IntermediateSize, config.HiddenSize{ffnBias});");
        w.Line("dropout = nn.Dropout(config.HiddenDropout);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Open("public override Tensor forward(Tensor intermediate)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("return dropout.call(dense.call(intermediate)).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>The first feed-forward projection and its activation (the same for both norm placements).</summary>
    private static void Intermediate(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        string ffnBias = spec.FeedForward.Bias ? "" : ", hasBias: false";
        w.Line($"/// <summary>First feed-forward projection and activation (keys <c>intermediate.dense.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Intermediate : nn.Module<Tensor, Tensor>");
        w.Line("private readonly Linear dense; // [intermediate, H]");
        w.Line("private readonly Func<Tensor, Tensor> _activation;");
        w.Line();
        w.Open($"public {t}Intermediate({t}Config config) : base(\"intermediate\")");
        w.Line($"dense = nn.Linear(config.HiddenSize, config.IntermediateSize{ffnBias});");
        w.Line("_activation = global::RnaLm.Modules.Activations.Resolve(config.HiddenAct);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"hiddenStates\">[B, L, H].</param>");
        w.Line("/// <returns>[B, L, intermediate].</returns>");
        w.Open("public override Tensor forward(Tensor hiddenStates)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("return _activation(dense.call(hiddenStates)).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void Layer(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        bool pre = spec.Norm.Placement == NormPlacement.Pre;
        w.Line($"/// <summary>One {(pre ? "pre" : "post")}-LN transformer layer of {Code.Xml(spec.Name)} (keys <c>encoder.layer.{{i}}.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        var sig = new Signature(spec);
        w.Open($"public sealed partial class {t}Layer : nn.Module<Tensor, {sig.MaskTypes}{sig.BiasType}, {sig.LayerResult}>");
        w.Line($"private readonly {t}Attention attention;");
        if (pre) w.Line("private readonly LayerNorm layer_norm; // [H], before the feed-forward block");
        w.Line($"private readonly {t}Intermediate intermediate;");
        w.Line($"private readonly {t}Output output;");
        w.Line();
        w.Open($"public {t}Layer({t}Config config, int index) : base(index.ToString(global::System.Globalization.CultureInfo.InvariantCulture))");
        w.Line($"attention = new {t}Attention(config);");
        if (pre) w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
        w.Line($"intermediate = new {t}Intermediate(config);");
        w.Line($"output = new {t}Output(config);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"hiddenStates\">[B, L, H].</param>");
        w.Lines(sig.MaskDoc);
        if (sig.Prior) w.Lines(sig.BiasDoc);
        w.Line($"/// <returns>The layer output [B, L, H] and attention probabilities [B, h, L, L]{(sig.Prior ? "; the logits for the next layer" : "")}.</returns>");
        w.Open($"public override {sig.LayerResult} forward(Tensor hiddenStates, {sig.MaskParams}{sig.BiasParam})");
        w.Line("using var scope = NewDisposeScope();");
        w.Line($"var {(sig.Prior ? "(attended, probabilities, logits)" : "(attended, probabilities)")} = attention.call(hiddenStates, {sig.MaskArgs}{sig.BiasArg});");
        if (pre) w.Line("var hidden = output.call(intermediate.call(layer_norm.call(attended))) + attended;");
        else w.Line("var hidden = output.call(intermediate.call(attended), attended);");
        w.Line(Return(sig));
        w.Close();
        w.Close();
        w.Line();
    }

    private static void Encoder(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var sig = new Signature(spec);
        w.Line($"/// <summary>The stack of {Code.Xml(spec.Name)} layers{(spec.Norm.Final ? " and the final LayerNorm" : "")} (keys <c>encoder.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Encoder : nn.Module<Tensor, {sig.MaskTypes}{sig.BiasType}, global::RnaLm.Models.OutputRequest, global::RnaLm.Models.BackboneOutput>");
        w.Line($"private readonly ModuleList<{t}Layer> layer;");
        if (spec.Norm.Final) w.Line("private readonly LayerNorm layer_norm; // [H], after the last layer");
        w.Line();
        w.Open($"public {t}Encoder({t}Config config) : base(\"encoder\")");
        w.Line($"var layers = new {t}Layer[config.NumHiddenLayers];");
        w.Line($"for (int i = 0; i < layers.Length; i++) layers[i] = new {t}Layer(config, i);");
        w.Line($"layer = nn.ModuleList(layers);");
        if (spec.Norm.Final) w.Line("layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);");
        w.Line("RegisterComponents();");
        w.Close();
        w.Line();
        w.Line("/// <param name=\"hiddenStates\">[B, L, H] embedding output.</param>");
        w.Lines(sig.MaskDoc);
        if (sig.Prior) w.Line("/// <param name=\"bias\">The pair-prior bias of layer 1 [B, h, L, L].</param>");
        w.Line("/// <param name=\"request\">Optional outputs to collect.</param>");
        w.Open($"public override global::RnaLm.Models.BackboneOutput forward(Tensor hiddenStates, {sig.MaskParams}{sig.BiasParam}, global::RnaLm.Models.OutputRequest request)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("bool keepHidden = (request & global::RnaLm.Models.OutputRequest.HiddenStates) != 0;");
        w.Line("bool keepAttentions = (request & global::RnaLm.Models.OutputRequest.Attentions) != 0;");
        if (sig.Prior) w.Line("bool keepBiases = (request & global::RnaLm.Models.OutputRequest.AttentionBiases) != 0;");
        w.Line("var hiddenStatesOut = keepHidden ? new List<Tensor>(layer.Count + 1) : null;");
        w.Line("var attentionsOut = keepAttentions ? new List<Tensor>(layer.Count) : null;");
        if (sig.Prior) w.Line("var biasesOut = keepBiases ? new List<Tensor>(layer.Count) : null;");
        w.Line("var hidden = hiddenStates;");
        if (sig.Prior) w.Line("var carried = bias;");
        w.Open("foreach (var block in layer)");
        w.Line("hiddenStatesOut?.Add(hidden);");
        if (sig.Prior)
        {
            w.Line($"var (next, probabilities, logits) = block.call(hidden, {sig.MaskArgs}, carried);");
            w.Line("biasesOut?.Add(logits);");
            w.Line("carried = logits; // each layer sees the sum of all earlier layers' scaled scores");
        }
        else
        {
            w.Line($"var (next, probabilities) = block.call(hidden, {sig.MaskArgs});");
        }
        w.Line("attentionsOut?.Add(probabilities);");
        w.Line("hidden = next;");
        w.Close();
        if (spec.Norm.Final) w.Line("hidden = layer_norm.call(hidden);");
        w.Line("hiddenStatesOut?.Add(hidden); // the last hidden state is last_hidden_state");
        w.Line($"return new global::RnaLm.Models.BackboneOutput(hidden, null, hiddenStatesOut, attentionsOut{(sig.Prior ? ", biasesOut" : "")}).MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void Backbone(SourceWriter w, ModelSpec spec)
    {
        string t = spec.TypeName;
        var sig = new Signature(spec);
        bool takesMask = EmbeddingsTakeMask(spec);
        w.Line($"/// <summary>The {Code.Xml(spec.Name)} backbone: embeddings, encoder and an optional pooler (keys <c>{spec.Checkpoint.Prefix}.*</c>).</summary>");
        w.Line(Code.GeneratedCodeAttribute);
        w.Open($"public sealed partial class {t}Model : nn.Module, global::RnaLm.Models.IRnaBackbone");
        if (sig.Prior) w.Line("private readonly global::RnaLm.Modules.PairPrior pairwise_bias_proj; // dense1 [h/2, 1], dense2 [h, h/2]");
        w.Line($"private readonly {t}Embeddings embeddings;");
        w.Line($"private readonly {t}Encoder encoder;");
        w.Line("private readonly global::RnaLm.Heads.Pooler? pooler;");
        w.Line($"private readonly {t}Config _config;");
        w.Line();
        w.Line("/// <param name=\"config\">The model configuration (validated here).</param>");
        w.Line("/// <param name=\"addPoolingLayer\">Whether to build the tanh pooler on the first token (<c>pooler.dense</c>).</param>");
        w.Open($"public {t}Model({t}Config config, bool addPoolingLayer = true) : base(\"{spec.Checkpoint.Prefix}\")");
        w.Line("config.Validate();");
        w.Line("_config = config;");
        if (sig.Prior)
        {
            var v = spec.Variants[0].Tokenizer.Vocabulary;
            int Id(string token)
            {
                for (int i = 0; i < v.Count; i++) if (v[i] == token) return i;
                return -1;
            }
            w.Line($"// Pair map from the vocabulary ids of A, C, G, U: A–U 2, C–G 3, G–U pairwise_alpha.");
            w.Line($"pairwise_bias_proj = new global::RnaLm.Modules.PairPrior(config.NumAttentionHeads, config.VocabSize, a: {Id("A")}, c: {Id("C")}, g: {Id("G")}, u: {Id("U")}, config.PairwiseAlpha);");
        }
        w.Line($"embeddings = new {t}Embeddings(config);");
        w.Line($"encoder = new {t}Encoder(config);");
        w.Line("pooler = addPoolingLayer ? new global::RnaLm.Heads.Pooler(config.HiddenSize) : null;");
        w.Line("RegisterComponents();");
        w.Line("global::RnaLm.Modules.WeightInit.Apply(this, config.InitializerRange, paddingIndex: config.PadTokenId); // N(0, initializer_range)");
        w.Close();
        w.Line();
        w.Line($"public {t}Config Config => _config;");
        w.Line();
        w.Line("public int HiddenSize => _config.HiddenSize;");
        w.Line();
        w.Line("public int NumLayers => _config.NumHiddenLayers;");
        w.Line();
        w.Line("public int NumHeads => _config.NumAttentionHeads;");
        w.Line();
        w.Line("public bool HasPooler => pooler is not null;");
        w.Line();
        w.Line("/// <summary>The word-embedding matrix [V, H].</summary>");
        w.Line("public Parameter WordEmbeddingWeight => embeddings.WordEmbeddingWeight;");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open("public global::RnaLm.Models.BackboneOutput Forward(Tensor inputIds, Tensor? attentionMask = null, global::RnaLm.Models.OutputRequest request = global::RnaLm.Models.OutputRequest.None)");
        w.Line("using var scope = NewDisposeScope();");
        w.Line("var attention = attentionMask ?? global::RnaLm.Modules.AttentionMasks.FromInputIds(inputIds, _config.PadTokenId); // [B, L]");
        w.Line($"var embedded = embeddings.call(inputIds{(takesMask ? ", attention" : "")}); // [B, L, H]");
        if (sig.Queries)
        {
            w.Line("var (rowMask, pairMask) = global::RnaLm.Modules.QueryAxisMasks.Create(attention, embedded.dtype); // [B, 1, L, 1], [B, 1, L, L] or null");
        }
        else
        {
            w.Line("var mask = global::RnaLm.Modules.AttentionMasks.KeyPadding(attention, embedded.dtype); // [B, 1, 1, L] or null");
        }
        if (sig.Prior) w.Line("var bias = pairwise_bias_proj.call(inputIds); // [B, h, L, L], computed once");
        w.Line($"var encoded = encoder.call(embedded, {sig.MaskArgs}{sig.BiasArg}, request);");
        w.Line("var pooled = pooler?.call(encoded.LastHiddenState); // [B, H]");
        w.Line("return new global::RnaLm.Models.BackboneOutput(encoded.LastHiddenState, pooled, encoded.HiddenStates, encoded.Attentions, encoded.AttentionBiases)");
        w.Line("    .MoveToOuterDisposeScope();");
        w.Close();
        w.Close();
    }
}
