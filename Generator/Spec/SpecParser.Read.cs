using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;
using RnaLm.Generator.Kinds;
using RnaLm.Generator.Model;

namespace RnaLm.Generator.Spec;

// Pass 2: the schema. Reads the family (top level) into fields of the parser and a SpecConfig. Slots are read through
// their kinds (Kinds/KindRegistry): the kind decides which fields the slot's object may hold.
internal sealed partial class SpecParser
{
    private const string DefaultNamespace = "RnaLm.Models";

    // Identity.
    private Val<string>? _name;
    private Val<string>? _typeName;
    private string _namespace = DefaultNamespace;
    private string _description = "";

    // Architecture (values variants cannot change). Null means missing or invalid, already reported.
    private KindSpec? _norm;
    private KindSpec? _layer;
    private KindSpec? _position;
    private KindSpec? _softmax;
    private KindSpec? _feedForward;
    private readonly List<KindSpec> _biases = new();
    private bool _biasesOk = true;
    private TokenTypeSpec? _tokenType;
    private SwitchSpec? _embeddingLayerNorm;
    private SwitchSpec? _tokenDropout;
    private bool _zeroPad;
    private bool _qkvBias;
    private bool _outputBias;
    private bool _poolerInCheckpoint;
    private string _poolerActivation = "tanh";
    private bool _mlmTied;
    private bool _mlmBias;
    private CheckpointSpec? _checkpoint;

    /// <summary>Where each architecture value of a slot was written ("position.dim", "attention.biases.pair_prior", ...).</summary>
    private readonly Dictionary<string, TextSpan> _spans = new(System.StringComparer.Ordinal);

    /// <summary>Reads the (merged) top-level object; returns null when the spec cannot be built.</summary>
    private ModelSpec? ParseSpec(JsonObject root)
    {
        CheckFields(root, "", "");
        if (!ReadVersion(root)) return null;
        _cancellationToken.ThrowIfCancellationRequested();

        ReadIdentity(root);
        var config = new SpecConfig();
        ReadDims(root, config);
        _norm = ReadSlot(root, "", "norm", KindRegistry.Norm, config, required: true);
        _layer = ReadSlot(root, "", "layer", KindRegistry.Layer, config, required: false);
        _position = ReadSlot(root, "", "position", KindRegistry.Position, config, required: true);
        ReadEmbeddings(root, config);
        ReadAttention(root, config);
        _feedForward = ReadSlot(root, "", "feed_forward", KindRegistry.FeedForward, config, required: true);
        ReadPooler(root);
        ReadMlmHead(root, config);
        ReadHeads(root);
        _checkpointPrefix = (root.Find("checkpoint")?.Value as JsonObject)?.Find("prefix")?.Value is JsonString prefixName ? prefixName.Value : null;
        ReadPretrainingHeads(root, config);
        ReadOutputs(root, config);
        ReadTokenizer(root, config);
        ReadCheckpoint(root);
        _cancellationToken.ThrowIfCancellationRequested();

        var family = CheckConfig(config, isVariant: false, root.OpenBraceSpan);
        var variants = ReadVariants(root, config, family);
        _cancellationToken.ThrowIfCancellationRequested();
        if (_unfoldKmersSpan is { } unfoldSpan && !_anyKmerConfig)
        {
            Report(DiagnosticDescriptors.HeadInputMissing, unfoldSpan, "heads.token.unfold_kmers", "overlapping k-mer tokens",
                "neither the family nor any variant has tokenizer.segmentation kind \"kmer\" with k > 1 (set unfold_kmers to false)");
        }

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
        if (number.RawText != "2")
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
        config.MaxPositions = Val<int>.Default(0);
        var dims = Section(root, "", "dims", required: true);
        if (dims is null) return;
        foreach (var name in new[] { "hidden", "layers", "heads", "intermediate" })
        {
            if (Required(dims, "dims", name) is { } property) ApplyConfigValue(config, "dims." + name, property.Value, "dims." + name, false);
        }
        foreach (var name in new[] { "vocab_size", "max_positions" })
        {
            if (dims.Find(name) is { } property) ApplyConfigValue(config, "dims." + name, property.Value, "dims." + name, false);
        }
        _spans["dims"] = dims.OpenBraceSpan;
    }

    // ------------------------------------------------------------------ slots

    /// <summary>
    /// Reads a slot: absent (the slot's default kind, unless <paramref name="required"/>), a kind name, or an object with
    /// <c>"kind"</c> and the kind's fields. Configuration fields go to <paramref name="config"/> under "path.field".
    /// </summary>
    private KindSpec? ReadSlot(JsonObject parent, string parentPath, string name, Slot slot, SpecConfig config, bool required)
    {
        var property = parent.Find(name);
        string path = SpecSchema.Join(parentPath, name);
        if (property is null)
        {
            if (required || slot.DefaultKind is null)
            {
                if (required) Report(DiagnosticDescriptors.MissingRequiredField, parent.OpenBraceSpan, path);
                return null;
            }
            return ReadKind(null, path, slot, slot.Find(slot.DefaultKind)!, parent.OpenBraceSpan, config);
        }
        // Rules about the slot point at the kind's name where it is written, else at the slot's name.
        _spans[path] = property.Value is JsonString ? property.ValueSpan
            : property.Value is JsonObject { } slotObject && slotObject.Find("kind") is { } kindName ? kindName.ValueSpan
            : property.NameSpan;
        return ReadKindNode(property.Value, path, slot, config);
    }

    /// <summary>A slot's value: a kind name or an object. Null after reporting.</summary>
    private KindSpec? ReadKindNode(JsonNode node, string path, Slot slot, SpecConfig config)
    {
        switch (node)
        {
            case JsonString kindName:
            {
                var kind = FindKind(slot, kindName, path);
                return kind is null ? null : ReadKind(null, path, slot, kind, node.Span, config);
            }
            case JsonObject obj:
            {
                Kind? kind;
                if (obj.Find("kind") is { } kindProperty)
                {
                    if (kindProperty.Value is not JsonString kindValue)
                    {
                        Report(DiagnosticDescriptors.WrongValueType, kindProperty.ValueSpan, path + ".kind", "a string", kindProperty.Value.Describe());
                        return null;
                    }
                    kind = FindKind(slot, kindValue, path + ".kind");
                    _spans[path + ".kind"] = kindProperty.ValueSpan;
                }
                else if (slot.DefaultKind is { } defaultKind)
                {
                    kind = slot.Find(defaultKind);
                }
                else
                {
                    Report(DiagnosticDescriptors.MissingRequiredField, obj.OpenBraceSpan, path + ".kind");
                    return null;
                }
                if (kind is null) return null;
                return ReadKind(obj, path, slot, kind, obj.OpenBraceSpan, config);
            }
            default:
                Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an object or a kind name", node.Describe());
                return null;
        }
    }

    private Kind? FindKind(Slot slot, JsonString name, string path)
    {
        var kind = slot.Find(name.Value);
        if (kind is null)
        {
            Report(DiagnosticDescriptors.InvalidEnumValue, name.Span, path, Raw(name), Quote(slot.KindNames));
        }
        return kind;
    }

    /// <summary>Reads a kind's fields from <paramref name="obj"/> (null: all defaults), reporting unknown and misplaced fields.</summary>
    private KindSpec? ReadKind(JsonObject? obj, string path, Slot slot, Kind kind, TextSpan missingAt, SpecConfig config)
    {
        bool ok = true;
        if (obj is not null)
        {
            foreach (var property in obj.Properties)
            {
                if (property.Name == "kind" || kind.Field(property.Name) is not null) continue;
                var owners = slot.Kinds.Where(k => k.Field(property.Name) is not null).Select(k => "\"" + k.Name + "\"").ToList();
                if (owners.Count > 0)
                {
                    Report(DiagnosticDescriptors.FieldNotAllowedHere, property.NameSpan, path + "." + property.Name,
                        "'" + path + ".kind' is " + string.Join(" or ", owners));
                }
                else
                {
                    string container = "'" + path + "'";
                    Report(DiagnosticDescriptors.UnknownField, property.NameSpan, property.Name, container,
                        SpecSchema.DidYouMean(property.Name, kind.Fields.Select(f => f.Name).Concat(new[] { "kind" })));
                }
            }
        }
        var values = ImmutableArray.CreateBuilder<KindValue>(kind.Fields.Length);
        foreach (var field in kind.Fields)
        {
            string fieldPath = path + "." + field.Name;
            var property = obj?.Find(field.Name);
            object? value = field.Default;
            TextSpan? span = null;
            if (property is null)
            {
                if (field.Required)
                {
                    Report(DiagnosticDescriptors.MissingRequiredField, missingAt, fieldPath);
                    ok = false;
                    if (field.Overridable) config.KindFields[fieldPath] = null;
                    continue;
                }
            }
            else
            {
                value = field.Type.Read(property.Value, fieldPath, this);
                span = property.ValueSpan;
                _spans[fieldPath] = property.ValueSpan;
                if (ReferenceEquals(value, FieldType.Invalid))
                {
                    ok = false;
                    if (field.Overridable) config.KindFields[fieldPath] = null;
                    continue;
                }
            }
            if (field.Overridable) config.KindFields[fieldPath] = new Val<object?>(value, span);
            values.Add(new KindValue(field.Name, value));
        }
        return ok ? new KindSpec(slot.Path, kind.Name, values.ToImmutable().ToEquatableArray()) : null;
    }

    // ------------------------------------------------------------------ sections

    private void ReadEmbeddings(JsonObject root, SpecConfig config)
    {
        const string path = "embeddings";
        var embeddings = Section(root, "", path, required: false);
        if (embeddings?.Find("token_type") is { } tokenType && tokenType.Value is not JsonNull)
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
        _embeddingLayerNorm = ReadSwitch(embeddings, path, "layer_norm", true, config);
        _tokenDropout = ReadSwitch(embeddings, path, "token_dropout", false, config);
        _zeroPad = OptionalBool(embeddings, path, "zero_pad", false)?.Value ?? false;
    }

    /// <summary>
    /// A switch: a boolean (fixed by the spec), or <c>{ "default": bool, "config": "key" }</c> (read from that config.json
    /// key; variants may change the default). Null after reporting.
    /// </summary>
    private SwitchSpec? ReadSwitch(JsonObject? parent, string parentPath, string name, bool defaultValue, SpecConfig config)
    {
        string path = parentPath + "." + name;
        var property = Optional(parent, name);
        if (property is null) return new SwitchSpec(defaultValue, null);
        _spans[path] = property.NameSpan;
        switch (property.Value)
        {
            case JsonBoolean b:
                return new SwitchSpec(b.Value, null);
            case JsonObject obj:
            {
                CheckFields(obj, path, path);
                var value = OptionalBool(obj, path, "default", defaultValue);
                string? key = null;
                if (obj.Find("config") is { } keyProperty && ReadString(keyProperty.Value, path + ".config") is { } keyValue)
                {
                    if (ReservedConfigKeys.Contains(keyValue.Value))
                    {
                        Report(DiagnosticDescriptors.InvalidIdentifier, keyProperty.ValueSpan, path + ".config", keyValue.Value,
                            "it is already a field of every config (" + keyValue.Value + "); choose the key the checkpoints use for this switch");
                        return null;
                    }
                    if (_switchKeys.TryGetValue(keyValue.Value, out var otherSwitch))
                    {
                        Report(DiagnosticDescriptors.InvalidIdentifier, keyProperty.ValueSpan, path + ".config", keyValue.Value,
                            "it is already the key of " + otherSwitch + "; each switch needs its own config.json key");
                        return null;
                    }
                    if (NameRules.IsPlainIdentifier(keyValue.Value) && keyValue.Value == keyValue.Value.ToLowerInvariant())
                    {
                        key = keyValue.Value;
                        _switchKeys[key] = path;
                    }
                    else
                    {
                        Report(DiagnosticDescriptors.InvalidIdentifier, keyProperty.ValueSpan, path + ".config", keyValue.Value,
                            "a config.json key is lower-case letters, digits and '_', starting with a letter");
                        return null;
                    }
                }
                if (value is null) return null;
                if (key is not null)
                {
                    config.Switches[path] = new Val<bool>(value.Value.Value, obj.Find("default")?.ValueSpan);
                }
                return new SwitchSpec(value.Value.Value, key);
            }
            default:
                Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, path, "a boolean or an object", property.Value.Describe());
                return null;
        }
    }

    /// <summary>The config.json keys switches have taken, and the switch that took each.</summary>
    private readonly Dictionary<string, string> _switchKeys = new(System.StringComparer.Ordinal);

    /// <summary>config.json keys the config class always has or kinds may add: a switch cannot take them.</summary>
    private static readonly HashSet<string> ReservedConfigKeys = new(System.StringComparer.Ordinal)
    {
        "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
        "hidden_dropout", "attention_dropout", "max_position_embeddings", "initializer_range", "layer_norm_eps", "position_embedding_type",
        "type_vocab_size", "pairwise_alpha", "output_attention_biases", "nmers", "codon", "pad_token_id", "bos_token_id", "eos_token_id",
        "unk_token_id", "mask_token_id", "null_token_id", "tie_word_embeddings", "num_labels", "lm_head", "head", "architectures",
    };

    private void ReadAttention(JsonObject root, SpecConfig config)
    {
        const string path = "attention";
        var attention = Section(root, "", path, required: false);
        _qkvBias = OptionalBool(attention, path, "qkv_bias", true)?.Value ?? true;
        _outputBias = OptionalBool(attention, path, "output_bias", true)?.Value ?? true;
        _softmax = attention is null
            ? new KindSpec(KindRegistry.Softmax.Path, KindRegistry.Softmax.DefaultKind!, Model.EquatableArray<KindValue>.Empty)
            : ReadSlot(attention, path, "softmax", KindRegistry.Softmax, config, required: false);

        var biases = Optional(attention, "biases");
        if (biases is null || biases.Value is JsonNull) return;
        if (biases.Value is not JsonObject obj)
        {
            Report(DiagnosticDescriptors.WrongValueType, biases.ValueSpan, path + ".biases", "an object keyed by bias kind", biases.Value.Describe());
            _biasesOk = false;
            return;
        }
        var slot = KindRegistry.AttentionBias;
        foreach (var property in obj.Properties)
        {
            string biasPath = path + ".biases." + property.Name;
            var kind = slot.Find(property.Name);
            if (kind is null)
            {
                Report(DiagnosticDescriptors.UnknownField, property.NameSpan, property.Name, "'attention.biases'",
                    SpecSchema.DidYouMean(property.Name, slot.KindNames));
                _biasesOk = false;
                continue;
            }
            if (property.Value is JsonNull) continue;
            if (property.Value is not JsonObject biasObj)
            {
                Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, biasPath, "an object or null", property.Value.Describe());
                _biasesOk = false;
                continue;
            }
            if (biasObj.Find("kind") is { } explicitKind)
            {
                Report(DiagnosticDescriptors.FieldNotAllowedHere, explicitKind.NameSpan, biasPath + ".kind", "a slot holds one kind (a bias's kind is its key)");
                _biasesOk = false;
                continue;
            }
            _spans[biasPath] = property.NameSpan;
            var spec = ReadKind(biasObj, biasPath, slot, kind, biasObj.OpenBraceSpan, config);
            if (spec is null) _biasesOk = false;
            else _biases.Add(spec);
        }
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
        if (!_biases.Any(b => ((AttentionBiasKind)b.Kind).CarriesLogits) && _biasesOk)
        {
            Report(DiagnosticDescriptors.HeadInputMissing, ssProperty.NameSpan, path,
                "the carried attention logits of the pair prior", "the family has no attention.biases.pair_prior");
        }
        _secondaryStructure = new SecondaryStructureSpec(head, channels, blocks, kernel);
        _secondaryStructureName = ssProperty.NameSpan;
    }

    private readonly List<PretrainingHeadSpec> _pretrainingHeads = new();

    /// <summary>"checkpoint.prefix" as written (read ahead: pre-training head names may not take it).</summary>
    private string? _checkpointPrefix;

    /// <summary>"pretraining_heads": an object keyed by module name, each value a head kind.</summary>
    private void ReadPretrainingHeads(JsonObject root, SpecConfig config)
    {
        var property = root.Find("pretraining_heads");
        if (property is null || property.Value is JsonNull) return;
        if (property.Value is not JsonObject heads)
        {
            Report(DiagnosticDescriptors.WrongValueType, property.ValueSpan, "pretraining_heads", "an object keyed by module name", property.Value.Describe());
            return;
        }
        foreach (var head in heads.Properties)
        {
            string path = "pretraining_heads." + head.Name;
            if (!NameRules.IsPlainIdentifier(head.Name) || head.Name == "lm_head")
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, head.NameSpan, "pretraining head", head.Name,
                    "a module name is a plain identifier other than lm_head");
                continue;
            }
            if (head.Value is JsonNull) continue;
            if (head.Name == _checkpointPrefix)
            {
                Report(DiagnosticDescriptors.InvalidIdentifier, head.NameSpan, "pretraining head", head.Name,
                    "it is the backbone's key prefix (checkpoint.prefix); the masked-LM model already has a member of that name");
                continue;
            }
            _spans[path] = head.NameSpan;
            if (ReadKindNode(head.Value, path, KindRegistry.PretrainingHead, config) is not { } spec) continue;
            var entry = new PretrainingHeadSpec(head.Name, spec);
            if (!entry.Optional && head.Value is JsonObject headObject && headObject.Find("present") is { } present)
            {
                Report(DiagnosticDescriptors.FieldNotAllowedHere, present.NameSpan, path + ".present", "'" + path + ".optional' is true");
            }
            if (entry.Kind.NeedsPooler && entry.Output is not null && !_poolerInCheckpoint)
            {
                Report(DiagnosticDescriptors.HeadInputMissing, head.NameSpan, path, "the pooler output",
                    "the checkpoints hold no pooler (pooler.in_checkpoint is false); set \"output\": null to load the head without computing it");
            }
            _pretrainingHeads.Add(entry);
        }
    }

    private TaskHeadSpec? _sequenceHead;
    private TaskHeadSpec? _tokenHead;
    private TaskHeadSpec? _contactHead;

    /// <summary>Where "heads.token.unfold_kmers" was set true (null: not set), and whether any config segments into overlapping k-mers.</summary>
    private TextSpan? _unfoldKmersSpan;
    private bool _anyKmerConfig;

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
        bool unfold = name == "token" && (OptionalBool(head, path, "unfold_kmers", false)?.Value ?? false);
        if (unfold) _unfoldKmersSpan = head.Find("unfold_kmers")!.ValueSpan;
        return new TaskHeadSpec(transform, activation, eps, unfold);
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
        config.Segmentation = Val<KindSpec>.Default(new KindSpec(KindRegistry.Segmentation.Path, "single", Model.EquatableArray<KindValue>.Empty));
        config.AddBos = config.AddEos = config.UpperCase = config.TToU = Val<bool>.Default(true);
        config.UToT = Val<bool>.Default(false);
        config.RnaTypes = Val<RnaTypesChoice?>.Default(null);
        config.ModelMaxLength = _position?.Kind is PositionKind kind
            ? Val<MaxLengthSpec>.Default(kind.UsableTokens(_position) is null ? MaxLengthSpec.Unbounded : MaxLengthSpec.FromPositions)
            : null;
        if (tokenizer is null) return;
        foreach (var property in tokenizer.Properties)
        {
            string schemaPath = path + "." + property.Name;
            if (SpecSchema.Overridable.Contains(schemaPath)) ApplyConfigValue(config, schemaPath, property.Value, schemaPath, false);
        }
    }

    /// <summary>True when a variant may set <paramref name="path"/>: a configuration value of this spec.</summary>
    private bool IsOverridable(string path)
    {
        if (SpecSchema.Overridable.Contains(path)) return true;
        if (_switchPaths.Contains(path)) return SwitchAt(path)?.IsConfig == true;
        foreach (var kind in FamilyKinds())
        {
            string prefix = kind.Path + ".";
            if (!path.StartsWith(prefix, System.StringComparison.Ordinal)) continue;
            if (kind.Spec.Kind.Field(path.Substring(prefix.Length)) is { Overridable: true }) return true;
        }
        return false;
    }

    /// <summary>True when <paramref name="path"/> is an object that contains fields a variant may set.</summary>
    private bool HasOverridableDescendant(string path)
    {
        if (path.Length == 0) return true;
        string prefix = path + ".";
        if (SpecSchema.Overridable.Any(p => p.StartsWith(prefix, System.StringComparison.Ordinal))) return true;
        if (_switchPaths.Any(p => p.StartsWith(prefix, System.StringComparison.Ordinal))) return true;
        // Bias kinds the family lacks still have configuration fields: a variant that sets one is told the block is absent.
        if ((path == "attention" || path == "attention.biases") && KindRegistry.AttentionBias.Kinds.Any(k => k.Fields.Any(f => f.Overridable))) return true;
        foreach (var kind in FamilyKinds())
        {
            if ((kind.Path == path || kind.Path.StartsWith(prefix, System.StringComparison.Ordinal)) && kind.Spec.Kind.Fields.Any(f => f.Overridable)) return true;
        }
        return false;
    }

    private static readonly string[] _switchPaths = { "embeddings.layer_norm", "embeddings.token_dropout" };

    private SwitchSpec? SwitchAt(string path) => path switch
    {
        "embeddings.layer_norm" => _embeddingLayerNorm,
        "embeddings.token_dropout" => _tokenDropout,
        _ => null,
    };

    /// <summary>The family's parsed slots with their JSON paths.</summary>
    private IEnumerable<(string Path, KindSpec Spec)> FamilyKinds()
    {
        if (_norm is not null) yield return ("norm", _norm);
        if (_layer is not null) yield return ("layer", _layer);
        if (_position is not null) yield return ("position", _position);
        if (_softmax is not null) yield return ("attention.softmax", _softmax);
        foreach (var bias in _biases) yield return ("attention.biases." + bias.KindName, bias);
        if (_feedForward is not null) yield return ("feed_forward", _feedForward);
        foreach (var head in _pretrainingHeads) yield return ("pretraining_heads." + head.Key, head.Head);
    }

    /// <summary>The field definition of a kind field path ("norm.eps"), or null.</summary>
    private FieldDef? KindField(string path)
    {
        foreach (var kind in FamilyKinds())
        {
            string prefix = kind.Path + ".";
            if (path.StartsWith(prefix, System.StringComparison.Ordinal) && kind.Spec.Kind.Field(path.Substring(prefix.Length)) is { } field) return field;
        }
        return null;
    }

    /// <summary>
    /// Reads one configuration value (a path <see cref="IsOverridable"/> accepts) into <paramref name="config"/>: shared by
    /// the family and its variants.
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
            case "dims.max_positions": config.MaxPositions = ReadInt(node, displayPath, 0, overridden); break;
            case "mlm_head.transform_activation":
                config.MlmTransformActivation = ReadEnum(node, displayPath, SpecSchema.MlmActivations, overridden);
                break;
            case "mlm_head.layer_norm_eps": config.MlmLayerNormEps = ReadMlmEps(node, displayPath, overridden); break;
            case "tokenizer.alphabet": config.Alphabet = ReadAlphabet(node, displayPath, overridden); break;
            case "tokenizer.segmentation":
                if (ReadKindNode(node, displayPath, KindRegistry.Segmentation, config) is { } segmentation)
                {
                    // Rules about the vocabulary point at k when it is written (the value that sizes the vocabulary).
                    var span = node is JsonObject segmentationObject && segmentationObject.Find("k") is { } k ? k.ValueSpan : node.Span;
                    config.Segmentation = new Val<KindSpec>(segmentation, span, overridden);
                }
                else
                {
                    config.Segmentation = null;
                }
                break;
            case "tokenizer.add_bos": config.AddBos = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.add_eos": config.AddEos = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.upper_case": config.UpperCase = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.t_to_u": config.TToU = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.u_to_t": config.UToT = ReadBool(node, displayPath, overridden); break;
            case "tokenizer.model_max_length": config.ModelMaxLength = ReadMaxLength(node, displayPath, overridden); break;
            case "tokenizer.rna_types": config.RnaTypes = ReadRnaTypes(node, displayPath, overridden); break;
            case "output_attention_biases":
                config.OutputAttentionBiases = ReadBool(node, displayPath, overridden);
                if (config.OutputAttentionBiases is { Value: true } && _biasesOk && !_biases.Any(b => ((AttentionBiasKind)b.Kind).CarriesLogits))
                {
                    Report(DiagnosticDescriptors.HeadInputMissing, node.Span, displayPath,
                        "the attention biases of the pair prior", "the family has no attention.biases.pair_prior");
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
            default:
                if (System.Array.IndexOf(_switchPaths, schemaPath) >= 0)
                {
                    // A variant's switch default: a boolean.
                    config.Switches[schemaPath] = ReadBool(node, displayPath, overridden);
                    break;
                }
                if (KindField(schemaPath) is { } field)
                {
                    var value = field.Type.Read(node, displayPath, this);
                    config.KindFields[schemaPath] = ReferenceEquals(value, FieldType.Invalid) ? null : new Val<object?>(value, node.Span, overridden);
                    break;
                }
                throw new System.InvalidOperationException("not a configuration path: " + schemaPath);
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

    /// <summary>Longest type name (and indicator name between the angle brackets).</summary>
    private const int MaxTypeNameLength = 40;

    /// <summary>A type name: letters, digits, '_', '-', '.', starting with a letter or digit.</summary>
    private static bool IsTypeName(string name)
    {
        if (name.Length == 0 || name.Length > MaxTypeNameLength || !IsAsciiLetterOrDigit(name[0])) return false;
        foreach (char c in name)
        {
            if (!(IsAsciiLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) return false;
        }
        return true;
    }

    private static bool IsAsciiLetterOrDigit(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

    /// <summary>
    /// "tokenizer.rna_types": null, or an object with "indicator" (a token <c>&lt;name&gt;</c>, default <c>&lt;ind&gt;</c>)
    /// and "types" (a non-empty array of distinct type names). Returns null after a problem (reported here).
    /// </summary>
    private Val<RnaTypesChoice?>? ReadRnaTypes(JsonNode node, string path, bool overridden)
    {
        if (node is JsonNull) return new Val<RnaTypesChoice?>(null, node.Span, overridden);
        if (node is not JsonObject obj)
        {
            Report(DiagnosticDescriptors.WrongValueType, node.Span, path, "an object or null", node.Describe());
            return null;
        }
        CheckFields(obj, "tokenizer.rna_types", path);
        bool ok = true;
        string indicator = "<ind>";
        TextSpan indicatorSpan = obj.OpenBraceSpan;
        if (obj.Find("indicator") is { } indicatorProperty)
        {
            if (indicatorProperty.Value is not JsonString text)
            {
                Report(DiagnosticDescriptors.WrongValueType, indicatorProperty.Value.Span, path + ".indicator", "a string", indicatorProperty.Value.Describe());
                ok = false;
            }
            else if (text.Value.Length < 3 || text.Value[0] != '<' || text.Value[text.Value.Length - 1] != '>' || !IsTypeName(text.Value.Substring(1, text.Value.Length - 2)))
            {
                Report(DiagnosticDescriptors.InvalidRnaTypes, text.Span,
                    "the indicator " + Raw(text) + " is not a token of the form <name> (a name of letters, digits, '_', '-' and '.', at most " + Str(MaxTypeNameLength) + " characters)");
                ok = false;
            }
            else
            {
                indicator = text.Value;
                indicatorSpan = text.Span;
            }
        }
        var typesProperty = Required(obj, path, "types");
        var types = ImmutableArray.CreateBuilder<string>();
        var spans = ImmutableArray.CreateBuilder<TextSpan>();
        if (typesProperty is null)
        {
            ok = false;
        }
        else if (typesProperty.Value is not JsonArray array)
        {
            Report(DiagnosticDescriptors.WrongValueType, typesProperty.Value.Span, path + ".types", "an array of type names", typesProperty.Value.Describe());
            ok = false;
        }
        else if (array.Items.Length == 0)
        {
            Report(DiagnosticDescriptors.InvalidRnaTypes, array.Span, "the list of types is empty (write null for no type tokens)");
            ok = false;
        }
        else
        {
            for (int i = 0; i < array.Items.Length; i++)
            {
                var item = array.Items[i];
                if (item is not JsonString name)
                {
                    Report(DiagnosticDescriptors.WrongValueType, item.Span, path + ".types[" + Str(i) + "]", "a string", item.Describe());
                    ok = false;
                    continue;
                }
                if (!IsTypeName(name.Value))
                {
                    Report(DiagnosticDescriptors.InvalidRnaTypes, item.Span,
                        "type " + Raw(item) + " is not a name of letters, digits, '_', '-' and '.' starting with a letter or digit (at most " + Str(MaxTypeNameLength) + " characters)");
                    ok = false;
                    continue;
                }
                if (types.Contains(name.Value))
                {
                    Report(DiagnosticDescriptors.InvalidRnaTypes, item.Span, "type " + Raw(item) + " appears more than once");
                    ok = false;
                    continue;
                }
                if (RnaTypesChoice.TokenOf(name.Value) == indicator)
                {
                    Report(DiagnosticDescriptors.InvalidRnaTypes, item.Span, "type " + Raw(item) + " has the token " + indicator + ", which is the indicator");
                    ok = false;
                    continue;
                }
                types.Add(name.Value);
                spans.Add(item.Span);
            }
        }
        if (!ok) return null;
        return new Val<RnaTypesChoice?>(new RnaTypesChoice(indicator, indicatorSpan, types.ToImmutable(), spans.ToImmutable()), node.Span, overridden);
    }

    // ------------------------------------------------------------------ IValueReader (kind fields)

    int? IValueReader.Int(JsonNode node, string path, int min) => ReadInt(node, path, min, false)?.Value;

    double? IValueReader.Number(JsonNode node, string path, bool positive) => ReadNumber(node, path, positive, false)?.Value;

    double? IValueReader.Eps(JsonNode node, string path) => ReadEps(node, path, false)?.Value;

    bool? IValueReader.Bool(JsonNode node, string path) => ReadBool(node, path, false)?.Value;

    string? IValueReader.Enum(JsonNode node, string path, IReadOnlyList<string> allowed) => ReadEnum(node, path, allowed, false)?.Value;

    void IValueReader.Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, TextSpan span, params string[] args) => Report(descriptor, span, args);
}
