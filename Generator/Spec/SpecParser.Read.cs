using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;

namespace RnaLm.Generator.Spec;

// Pass 2: the schema. Reads the family (top level) into fields of the parser and a SpecConfig.
internal sealed partial class SpecParser
{
    private const string DefaultNamespace = "RnaLm.Models";

    // Identity.
    private Val<string>? _name;
    private Val<string>? _typeName;
    private string _namespace = DefaultNamespace;
    private string _description = "";

    // Architecture (values variants cannot change). Nullable ones are inputs of model rules:
    // null means missing or invalid, already reported.
    private NormPlacement _placement;
    private bool _normFinal;
    private PositionKind? _positionKind;
    private SinusoidalSpec? _sinusoidal;
    private Val<int>? _rotaryDim;
    private double _rotaryBase;
    private bool _rotaryInterleaved;
    private bool _rotaryStoredFrequencies;
    private TokenTypeSpec? _tokenType;
    private bool _embeddingLayerNorm;
    private bool _zeroPad;
    private bool _qkvBias;
    private bool _outputBias;
    private string _scale = "inverse_sqrt_head_size";
    private Val<SoftmaxAxis>? _softmax;
    /// <summary>The "pair_prior" property name when the family has a pair prior object.</summary>
    private TextSpan? _pairPrior;
    private string _pairActivation = "gelu";
    private bool _pairExposeBiases;
    private bool _feedForwardBias;
    private bool _poolerInCheckpoint;
    private string _poolerActivation = "tanh";
    private bool _mlmTied;
    private bool _mlmBias;
    private CheckpointSpec? _checkpoint;

    /// <summary>Reads the (merged) top-level object; returns null when the spec cannot be built.</summary>
    private ModelSpec? ParseSpec(JsonObject root)
    {
        CheckFields(root, "", "");
        if (!ReadVersion(root)) return null;
        _cancellationToken.ThrowIfCancellationRequested();

        ReadIdentity(root);
        var config = new SpecConfig();
        ReadDims(root, config);
        ReadNorm(root, config);
        ReadEmbeddings(root, config);
        ReadAttention(root, config);
        ReadFeedForward(root, config);
        ReadPooler(root);
        ReadMlmHead(root, config);
        ReadHeads(root);
        ReadOutputs(root, config);
        ReadTokenizer(root, config);
        ReadCheckpoint(root);
        _cancellationToken.ThrowIfCancellationRequested();

        var family = CheckConfig(config, isVariant: false, root.OpenBraceSpan);
        var variants = ReadVariants(root, config, family);
        _cancellationToken.ThrowIfCancellationRequested();

        if (_hasErrors || family is null || variants is null) return null;
        return Assemble(config, family, variants.Value);
    }

    /// <summary>False when the version is one this generator cannot read (nothing else is checked then).</summary>
    private bool ReadVersion(JsonObject root)
    {
        var property = Required(root, "", "spec_version");
        if (property is null) return true;
        if (property.Value is not JsonNumber number)
        {
            Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, "spec_version", "an integer", property.Value.Describe());
            return true;
        }
        if (number.RawText != "1")
        {
            Report(DiagnosticDescriptors.UnsupportedSpecVersion, number.Span, number.RawText);
            return false;
        }
        return true;
    }

    private void ReadIdentity(JsonObject root)
    {
        if (Required(root, "", "name") is { } name && ReadString(name.Value, "name") is { } nameValue)
        {
            if (NameRules.IsValidModelName(nameValue.Value))
            {
                _name = nameValue;
                _declaredNames.Add(new DeclaredName(DeclaredNameKind.Model, nameValue.Value, LocationInfoAt(name.ValueSpan)));
            }
            else
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, name.ValueSpan, "name", nameValue.Value, NameRules.ModelNameRule);
            }
        }
        if (Required(root, "", "type_name") is { } typeName && ReadString(typeName.Value, "type_name") is { } typeNameValue)
        {
            if (NameRules.IsValidTypeName(typeNameValue.Value))
            {
                _typeName = typeNameValue;
            }
            else
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, typeName.ValueSpan, "type_name", typeNameValue.Value, NameRules.TypeNameRule);
            }
        }
        if (root.Find("namespace") is { } ns && ReadString(ns.Value, "namespace") is { } nsValue)
        {
            if (NameRules.IsValidNamespace(nsValue.Value))
            {
                _namespace = nsValue.Value;
            }
            else
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, ns.ValueSpan, "namespace", nsValue.Value, NameRules.NamespaceRule);
            }
        }
        if (_typeName is { } type)
        {
            _declaredNames.Add(new DeclaredName(DeclaredNameKind.Type, _namespace + "." + type.Value, LocationInfoAt(type.Span!.Value)));
        }
        if (root.Find("description") is { } description && ReadString(description.Value, "description") is { } descriptionValue)
        {
            _description = descriptionValue.Value;
        }
    }

    private void ReadDims(JsonObject root, SpecConfig config)
    {
        config.VocabSize = Val<int?>.Default(null);
        var dims = Section(root, "", "dims", required: true);
        if (dims is null) return;
        foreach (var name in new[] { "hidden", "layers", "heads", "intermediate" })
        {
            if (Required(dims, "dims", name) is { } property) ApplyConfigValue(config, "dims." + name, property.Value, "dims." + name, false);
        }
        if (dims.Find("vocab_size") is { } vocabSize) ApplyConfigValue(config, "dims.vocab_size", vocabSize.Value, "dims.vocab_size", false);
    }

    private void ReadNorm(JsonObject root, SpecConfig config)
    {
        var norm = Section(root, "", "norm", required: true);
        if (norm is null) return;
        var placement = OptionalEnum(norm, "norm", "placement", SpecSchema.Placements, "post");
        _placement = placement?.Value == "pre" ? NormPlacement.Pre : NormPlacement.Post;
        if (Required(norm, "norm", "eps") is { } eps) ApplyConfigValue(config, "norm.eps", eps.Value, "norm.eps", false);
        _normFinal = OptionalBool(norm, "norm", "final", false)?.Value ?? false;
    }

    private void ReadEmbeddings(JsonObject root, SpecConfig config)
    {
        var embeddings = Section(root, "", "embeddings", required: true);
        if (embeddings is null) return;

        var position = Section(embeddings, "embeddings", "position", required: true);
        if (position is not null) ReadPosition(position, config);

        if (embeddings.Find("token_type") is { } tokenType && tokenType.Value is not JsonNull)
        {
            if (tokenType.Value is JsonObject tokenTypeObj)
            {
                CheckFields(tokenTypeObj, "embeddings.token_type", "embeddings.token_type");
                Val<int>? size = Required(tokenTypeObj, "embeddings.token_type", "size") is { } sizeProperty
                    ? ReadInt(sizeProperty.Value, "embeddings.token_type.size", 1, false)
                    : null;
                var added = OptionalBool(tokenTypeObj, "embeddings.token_type", "added", true);
                if (size is { } s && added is { } a) _tokenType = new TokenTypeSpec(s.Value, a.Value);
            }
            else
            {
                Report(DiagnosticDescriptors.WrongValueType, tokenType.ValueSpan, "embeddings.token_type", "an object or null", tokenType.Value.Describe());
            }
        }
        _embeddingLayerNorm = OptionalBool(embeddings, "embeddings", "layer_norm", true)?.Value ?? true;
        _zeroPad = OptionalBool(embeddings, "embeddings", "zero_pad", false)?.Value ?? false;
    }

    private void ReadPosition(JsonObject position, SpecConfig config)
    {
        const string path = "embeddings.position";
        if (Required(position, path, "kind") is { } kind && ReadEnum(kind.Value, path + ".kind", SpecSchema.PositionKinds, false) is { } kindValue)
        {
            _positionKind = kindValue.Value switch
            {
                "learned" => PositionKind.Learned,
                "sinusoidal" => PositionKind.Sinusoidal,
                "rotary" => PositionKind.Rotary,
                _ => PositionKind.None,
            };
        }

        bool needsMax = _positionKind is PositionKind.Learned or PositionKind.Sinusoidal;
        var max = needsMax ? Required(position, path, "max") : position.Find("max");
        if (max is not null) ApplyConfigValue(config, path + ".max", max.Value, path + ".max", false);
        else if (!needsMax) config.PositionMax = Val<int>.Default(0);

        var sinusoidal = position.Find("sinusoidal");
        if (sinusoidal is not null && _positionKind is { } k1 && k1 != PositionKind.Sinusoidal)
        {
            Report(DiagnosticDescriptors.FieldNotAllowedHere, sinusoidal.NameSpan, path + ".sinusoidal", "'embeddings.position.kind' is \"sinusoidal\"");
        }
        else if (_positionKind == PositionKind.Sinusoidal)
        {
            JsonObject? obj = null;
            if (sinusoidal is not null)
            {
                obj = AsObject(sinusoidal.Value, path + ".sinusoidal");
                if (obj is not null) CheckFields(obj, path + ".sinusoidal", path + ".sinusoidal");
            }
            var paddingAware = OptionalBool(obj, path + ".sinusoidal", "padding_aware", true);
            var offsetProperty = Optional(obj, "offset");
            var offset = offsetProperty is null ? Val<int>.Default(1) : ReadInt(offsetProperty.Value, path + ".sinusoidal.offset", 0, false);
            if (paddingAware is { } p && offset is { } o) _sinusoidal = new SinusoidalSpec(p.Value, o.Value);
        }

        var rotary = position.Find("rotary");
        if (rotary is not null && _positionKind is { } k2 && k2 != PositionKind.Rotary)
        {
            Report(DiagnosticDescriptors.FieldNotAllowedHere, rotary.NameSpan, path + ".rotary", "'embeddings.position.kind' is \"rotary\"");
        }
        else if (_positionKind == PositionKind.Rotary)
        {
            if (rotary is null)
            {
                Report(DiagnosticDescriptors.MissingRequiredField, position.OpenBraceSpan, path + ".rotary");
            }
            else if (AsObject(rotary.Value, path + ".rotary") is { } obj)
            {
                ReadRotary(obj, path + ".rotary");
            }
        }
    }

    private void ReadRotary(JsonObject rotary, string path)
    {
        CheckFields(rotary, path, path);
        if (Required(rotary, path, "dim") is { } dim && ReadInt(dim.Value, path + ".dim", 1, false) is { } dimValue)
        {
            if (dimValue.Value % 2 != 0)
            {
                Report(DiagnosticDescriptors.InvalidRotaryDim, dim.ValueSpan, Str(dimValue.Value), "it must be even (features rotate in pairs)");
            }
            else
            {
                _rotaryDim = dimValue;
            }
        }
        var baseProperty = rotary.Find("base");
        _rotaryBase = 10000;
        if (baseProperty is not null && ReadNumber(baseProperty.Value, path + ".base", positive: true, false) is { } rotaryBase)
        {
            _rotaryBase = rotaryBase.Value;
            if (rotaryBase.Value < 1e3 || rotaryBase.Value > 1e7)
            {
                Report(DiagnosticDescriptors.UnusualRotaryBase, baseProperty.ValueSpan, ((JsonNumber)baseProperty.Value).RawText);
            }
        }
        _rotaryInterleaved = OptionalBool(rotary, path, "interleaved", true)?.Value ?? true;
        _rotaryStoredFrequencies = OptionalBool(rotary, path, "stored_frequencies", true)?.Value ?? true;
    }

    private void ReadAttention(JsonObject root, SpecConfig config)
    {
        const string path = "attention";
        var attention = Section(root, "", path, required: false);
        _qkvBias = OptionalBool(attention, path, "qkv_bias", true)?.Value ?? true;
        _outputBias = OptionalBool(attention, path, "output_bias", true)?.Value ?? true;
        _scale = OptionalEnum(attention, path, "scale", SpecSchema.Scales, "inverse_sqrt_head_size")?.Value ?? "inverse_sqrt_head_size";
        if (OptionalEnum(attention, path, "softmax", SpecSchema.Softmaxes, "keys") is { } softmax)
        {
            _softmax = new Val<SoftmaxAxis>(softmax.Value == "queries" ? SoftmaxAxis.Queries : SoftmaxAxis.Keys, softmax.Span);
        }

        var pairPrior = Optional(attention, "pair_prior");
        if (pairPrior is null || pairPrior.Value is JsonNull) return;
        if (pairPrior.Value is not JsonObject prior)
        {
            Report(DiagnosticDescriptors.WrongValueType, pairPrior.ValueSpan, path + ".pair_prior", "an object or null", pairPrior.Value.Describe());
            return;
        }
        const string priorPath = path + ".pair_prior";
        CheckFields(prior, priorPath, priorPath);
        _pairPrior = pairPrior.NameSpan;
        config.PairAlpha = new Val<double>(0.8, null);
        if (prior.Find("alpha") is { } alpha) ApplyConfigValue(config, priorPath + ".alpha", alpha.Value, priorPath + ".alpha", false);
        _pairActivation = OptionalEnum(prior, priorPath, "activation", SpecSchema.Activations, "gelu")?.Value ?? "gelu";
        _pairExposeBiases = OptionalBool(prior, priorPath, "expose_biases", true)?.Value ?? true;

        if (_softmax is { Value: SoftmaxAxis.Queries } queries)
        {
            ReportRule(false, pairPrior.NameSpan, DiagnosticDescriptors.InvalidPairPrior,
                new[] { queries.Origin, new Origin(pairPrior.NameSpan, false) },
                "with softmax \"queries\"; it needs softmax \"keys\"");
        }
    }

    private void ReadFeedForward(JsonObject root, SpecConfig config)
    {
        var feedForward = Section(root, "", "feed_forward", required: true);
        if (feedForward is null) return;
        if (Required(feedForward, "feed_forward", "activation") is { } activation)
        {
            ApplyConfigValue(config, "feed_forward.activation", activation.Value, "feed_forward.activation", false);
        }
        _feedForwardBias = OptionalBool(feedForward, "feed_forward", "bias", true)?.Value ?? true;
    }

    private void ReadPooler(JsonObject root)
    {
        var pooler = Section(root, "", "pooler", required: true);
        if (pooler is null) return;
        if (Required(pooler, "pooler", "in_checkpoint") is { } inCheckpoint)
        {
            _poolerInCheckpoint = ReadBool(inCheckpoint.Value, "pooler.in_checkpoint", false)?.Value ?? false;
        }
        var activation = OptionalEnum(pooler, "pooler", "activation", SpecSchema.Activations, "tanh");
        _poolerActivation = activation?.Value ?? "tanh";
        if (activation is { Value: not "tanh", Span: { } span })
        {
            Report(DiagnosticDescriptors.UnusualPoolerActivation, span, activation.Value.Value);
        }
    }

    /// <summary>"mlm_head.new_config_activation", or null when absent.</summary>
    private string? _mlmNewConfigActivation;

    private void ReadMlmHead(JsonObject root, SpecConfig config)
    {
        const string path = "mlm_head";
        var head = Section(root, "", path, required: false);
        config.MlmTransformActivation = Val<string>.Default("hidden_act");
        config.MlmLayerNormEps = Val<double?>.Default(null);
        foreach (var name in new[] { "transform_activation", "layer_norm_eps" })
        {
            if (Optional(head, name) is { } property) ApplyConfigValue(config, path + "." + name, property.Value, path + "." + name, false);
        }
        _mlmNewConfigActivation = Optional(head, "new_config_activation") is { } newConfig
            ? ReadEnum(newConfig.Value, path + ".new_config_activation", SpecSchema.MlmActivations, false)?.Value
            : null;
        _mlmTied = OptionalBool(head, path, "tied", true)?.Value ?? true;
        _mlmBias = OptionalBool(head, path, "bias", true)?.Value ?? true;
    }

    private SecondaryStructureSpec? _secondaryStructure;
    private TextSpan? _secondaryStructureName;
    /// <summary>"heads.secondary_structure.attention_head" (checked against each variant's heads).</summary>
    private Val<int>? _ssAttentionHead;

    /// <summary>"heads": extra heads the family's code includes (the generic task heads always exist).</summary>
    private void ReadHeads(JsonObject root)
    {
        // null is "no extra heads" (so a spec can drop a head it inherits).
        if (root.Find("heads") is { Value: JsonNull }) return;
        var heads = Section(root, "", "heads", required: false);
        if (heads is null) return;
        _sequenceHead = ReadTaskHead(heads, "sequence");
        _tokenHead = ReadTaskHead(heads, "token");
        _contactHead = ReadTaskHead(heads, "contact");
        var ssProperty = Optional(heads, "secondary_structure");
        if (ssProperty is null || ssProperty.Value is JsonNull) return;
        const string path = "heads.secondary_structure";
        if (ssProperty.Value is not JsonObject ss)
        {
            Report(DiagnosticDescriptors.WrongValueType, ssProperty.ValueSpan, path, "an object or null", ssProperty.Value.Describe());
            return;
        }
        CheckFields(ss, path, path);
        int Read(string name, int fallback, int min)
        {
            var property = Optional(ss, name);
            if (property is null) return fallback;
            return ReadInt(property.Value, path + "." + name, min, false)?.Value ?? fallback;
        }
        var headProperty = Optional(ss, "attention_head");
        _ssAttentionHead = headProperty is null ? Val<int>.Default(5) : ReadInt(headProperty.Value, path + ".attention_head", 0, false);
        int head = _ssAttentionHead?.Value ?? 5;
        int channels = Read("channels", 64, 2);
        int blocks = Read("blocks", 8, 1);
        int kernel = Read("kernel_size", 7, 1);
        if (kernel % 2 == 0 && Optional(ss, "kernel_size") is { } k)
        {
            Report(DiagnosticDescriptors.ValueOutOfRange, k.ValueSpan, path + ".kernel_size", "odd (so the map keeps its size)", Str(kernel));
        }
        if (_pairPrior is null)
        {
            Report(DiagnosticDescriptors.HeadInputMissing, ssProperty.NameSpan, path,
                "the carried attention logits of the pair prior", "the family has no attention.pair_prior");
        }
        _secondaryStructure = new SecondaryStructureSpec(head, channels, blocks, kernel);
        _secondaryStructureName = ssProperty.NameSpan;
    }

    private TaskHeadSpec? _sequenceHead;
    private TaskHeadSpec? _tokenHead;
    private TaskHeadSpec? _contactHead;

    /// <summary>One generic task head ("heads.sequence|token|contact"): absent or null = not generated.</summary>
    private TaskHeadSpec? ReadTaskHead(JsonObject heads, string name)
    {
        var property = Optional(heads, name);
        if (property is null || property.Value is JsonNull) return null;
        string path = "heads." + name;
        if (property.Value is not JsonObject head)
        {
            Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, path, "an object or null", property.Value.Describe());
            return null;
        }
        CheckFields(head, path, path);
        string transform = OptionalEnum(head, path, "transform", SpecSchema.HeadTransforms, "none")?.Value ?? "none";
        string activation = OptionalEnum(head, path, "transform_activation", SpecSchema.Activations, "gelu")?.Value ?? "gelu";
        double eps = 1e-12;
        if (Optional(head, "layer_norm_eps") is { } epsProperty) eps = ReadEps(epsProperty.Value, path + ".layer_norm_eps", false)?.Value ?? eps;
        return new TaskHeadSpec(transform, activation, eps);
    }

    /// <summary>"output_attention_biases" and "architecture": configuration defaults a variant may change.</summary>
    private void ReadOutputs(JsonObject root, SpecConfig config)
    {
        config.OutputAttentionBiases = Val<bool>.Default(false);
        config.Architecture = Val<string>.Default("masked_lm");
        foreach (var name in new[] { "output_attention_biases", "architecture" })
        {
            if (Optional(root, name) is { } property) ApplyConfigValue(config, name, property.Value, name, false);
        }
    }

    private void ReadTokenizer(JsonObject root, SpecConfig config)
    {
        const string path = "tokenizer";
        var tokenizer = Section(root, "", path, required: false);
        config.Alphabet = Val<AlphabetChoice?>.Default(null);
        config.Nmers = Val<int>.Default(1);
        config.AddBos = config.AddEos = config.UpperCase = config.TToU = Val<bool>.Default(true);
        config.ModelMaxLength = _positionKind switch
        {
            PositionKind.Learned => Val<MaxLengthSpec>.Default(MaxLengthSpec.FromPositions),
            null => null,
            _ => Val<MaxLengthSpec>.Default(MaxLengthSpec.Unbounded),
        };
        if (tokenizer is null) return;
        foreach (var property in tokenizer.Properties)
        {
            string schemaPath = path + "." + property.Name;
            if (SpecSchema.Overridable.Contains(schemaPath)) ApplyConfigValue(config, schemaPath, property.Value, schemaPath, false);
        }
    }

    /// <summary>
    /// Reads one configuration value (a path in <see cref="SpecSchema.Overridable"/>) into
    /// <paramref name="config"/>: shared by the family and its variants.
    /// </summary>
    private void ApplyConfigValue(SpecConfig config, string schemaPath, JsonNode node, string displayPath, bool overridden)
    {
        switch (schemaPath)
        {
            case "dims.hidden": config.Hidden = ReadInt(node, displayPath, 1, overridden); break;
            case "dims.layers": config.Layers = ReadInt(node, displayPath, 1, overridden); break;
            case "dims.heads": config.Heads = ReadInt(node, displayPath, 1, overridden); break;
            case "dims.intermediate": config.Intermediate = ReadInt(node, displayPath, 1, overridden); break;
            case "dims.vocab_size": config.VocabSize = ReadVocabSize(node, displayPath, overridden); break;
            case "norm.eps": config.Eps = ReadEps(node, displayPath, overridden); break;
            case "embeddings.position.max":
                int min = _positionKind is PositionKind.Learned or PositionKind.Sinusoidal ? 1 : 0;
                config.PositionMax = ReadInt(node, displayPath, min, overridden);
                break;
            case "feed_forward.activation": config.HiddenAct = ReadEnum(node, displayPath, SpecSchema.Activations, overridden); break;
            case "mlm_head.transform_activation":
                config.MlmTransformActivation = ReadEnum(node, displayPath, SpecSchema.MlmActivations, overridden);
                break;
            case "mlm_head.layer_norm_eps": config.MlmLayerNormEps = ReadMlmEps(node, displayPath, overridden); break;
            case "attention.pair_prior.alpha": config.PairAlpha = ReadNumber(node, displayPath, positive: false, overridden); break;
            case "tokenizer.alphabet": config.Alphabet = ReadAlphabet(node, displayPath, overridden); break;
            case "tokenizer.nmers": config.Nmers = ReadInt(node, displayPath, 1, overridden); break;
            case "tokenizer.add_bos": config.AddBos = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.add_eos": config.AddEos = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.upper_case": config.UpperCase = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.t_to_u": config.TToU = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.model_max_length": config.ModelMaxLength = ReadMaxLength(node, displayPath, overridden); break;
            case "output_attention_biases":
                config.OutputAttentionBiases = ReadBool(node, displayPath, overridden);
                if (config.OutputAttentionBiases is { Value: true } && _pairPrior is null)
                {
                    Report(DiagnosticDescriptors.HeadInputMissing, node.Span, displayPath,
                        "the attention biases of the pair prior", "the family has no attention.pair_prior");
                }
                break;
            case "architecture":
                config.Architecture = ReadEnum(node, displayPath, SpecSchema.Architectures, overridden);
                if (config.Architecture is { Value: "secondary_structure" } && _secondaryStructure is null)
                {
                    Report(DiagnosticDescriptors.HeadInputMissing, node.Span, displayPath,
                        "the secondary-structure head", "the family declares no heads.secondary_structure");
                }
                break;
            default: throw new System.InvalidOperationException("not a configuration path: " + schemaPath);
        }
    }

    private Val<double?>? ReadMlmEps(JsonNode node, string path, bool overridden)
    {
        switch (node)
        {
            case JsonNumber:
                return ReadEps(node, path, overridden) is { } eps ? new Val<double?>(eps.Value, node.Span, overridden) : null;
            case JsonString { Value: "layer_norm_eps" }:
                return new Val<double?>(null, node.Span, overridden);
            case JsonString:
                Report(DiagnosticDescriptors.InvalidEnumValue, node.Span, path, Raw(node), "a positive number or \"layer_norm_eps\"");
                return null;
            default:
                Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "a number or \"layer_norm_eps\"", node.Describe());
                return null;
        }
    }

    private Val<MaxLengthSpec>? ReadMaxLength(JsonNode node, string path, bool overridden)
    {
        switch (node)
        {
            case JsonNumber:
                return ReadInt(node, path, 1, overridden) is { } length
                    ? new Val<MaxLengthSpec>(new MaxLengthSpec(MaxLengthKind.Fixed, length.Value), node.Span, overridden)
                    : null;
            case JsonString { Value: "positions" }:
                return new Val<MaxLengthSpec>(MaxLengthSpec.FromPositions, node.Span, overridden);
            case JsonNull:
                return new Val<MaxLengthSpec>(MaxLengthSpec.Unbounded, node.Span, overridden);
            case JsonString:
                Report(DiagnosticDescriptors.InvalidEnumValue, node.Span, path, Raw(node), "a positive integer, \"positions\" or null");
                return null;
            default:
                Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an integer, \"positions\" or null", node.Describe());
                return null;
        }
    }

    private Val<AlphabetChoice?>? ReadAlphabet(JsonNode node, string path, bool overridden)
    {
        if (node is JsonString name)
        {
            if (Vocabularies.Alphabets.TryGetValue(name.Value, out var letters))
            {
                return new Val<AlphabetChoice?>(new AlphabetChoice(name.Value, letters), node.Span, overridden);
            }
            Report(DiagnosticDescriptors.UnknownAlphabet, node.Span, name.Value);
            return null;
        }
        if (node is not JsonArray array)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an alphabet name or an array of single letters", node.Describe());
            return null;
        }
        if (array.Items.Length == 0)
        {
            Report(DiagnosticDescriptors.InvalidVocabulary, node.Span, "the alphabet is empty");
            return null;
        }
        var builder = ImmutableArray.CreateBuilder<string>(array.Items.Length);
        var spans = ImmutableArray.CreateBuilder<TextSpan>(array.Items.Length);
        bool ok = true;
        for (int i = 0; i < array.Items.Length; i++)
        {
            var item = array.Items[i];
            string itemPath = path + "[" + Str(i) + "]";
            if (item is not JsonString letter)
            {
                Report(DiagnosticDescriptors.WrongValueType, item.Span, itemPath, "a string", item.Describe());
                ok = false;
                continue;
            }
            if (letter.Value.Length != 1 || letter.Value[0] <= ' ' || char.IsWhiteSpace(letter.Value[0]) || char.IsSurrogate(letter.Value[0]))
            {
                Report(DiagnosticDescriptors.InvalidVocabulary, item.Span, "alphabet entry " + Raw(item) + " is not a single visible character");
                ok = false;
                continue;
            }
            if (builder.Contains(letter.Value))
            {
                Report(DiagnosticDescriptors.InvalidVocabulary, item.Span, "alphabet entry " + Raw(item) + " appears more than once");
                ok = false;
                continue;
            }
            builder.Add(letter.Value);
            spans.Add(item.Span);
        }
        if (!ok) return null;
        return new Val<AlphabetChoice?>(new AlphabetChoice(Vocabularies.Custom, builder.ToImmutable(), spans.ToImmutable()), node.Span, overridden);
    }
}
