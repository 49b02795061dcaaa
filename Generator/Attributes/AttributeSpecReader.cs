using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Json;
using RnaLm.Generator.Model;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator.Attributes;

/// <summary>
/// The class that carries an attribute spec, and what the generator adds to it (<c>ModelName</c>, <c>Family</c>).
/// </summary>
/// <param name="Namespace">The class's namespace, or null for the global namespace.</param>
/// <param name="Keyword">"class" or "record".</param>
/// <param name="Anchor">The [RnaModel] attribute's name: where an internal error while emitting is reported.</param>
internal sealed record HolderSpec(string? Namespace, string ClassName, string Keyword, bool IsStatic, LocationInfo Anchor)
{
    public string QualifiedName => Namespace is null ? ClassName : Namespace + "." + ClassName;
}

/// <summary>An attribute spec read from source: its JSON-level document and its holder class.</summary>
internal sealed record AttributeSpec(SpecDocument Document, HolderSpec Holder);

/// <summary>
/// Turns the Rna* attributes on a class into the same JSON tree a <c>*.model.json</c> file produces, so the JSON
/// validator and the emitters serve both (<see cref="AttributeSchema"/> maps attribute properties to JSON fields).
/// Every node's span is the syntax that wrote it: a value is the argument's expression, a field name the argument's
/// name (<c>Eps</c> in <c>Eps = 1e-12</c>), an object the attribute and its "opening brace" (where a missing field is
/// reported) the attribute's name. Values no spec can hold (RNA5004), conflicting arguments (RNA5005), repeated
/// variants (RNA5006) and misplaced attributes (RNA5001-RNA5003) are reported here; everything else by the shared
/// validator. Runs inside ForAttributeWithMetadataName's transform; keeps no symbol or syntax.
/// </summary>
internal static class AttributeSpecReader
{
    public static bool IsCandidate(SyntaxNode node, CancellationToken _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax;

    public static AttributeSpec? Read(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration) return null;
        var tree = declaration.SyntaxTree;
        string path = tree.FilePath;
        var text = tree.GetText(ct);
        var lines = LineMap.From(text);
        var modelAttribute = context.Attributes.Length > 0 ? context.Attributes[0] : null;
        var modelSyntax = modelAttribute?.ApplicationSyntaxReference?.GetSyntax(ct) as AttributeSyntax;
        var anchorSpan = modelSyntax?.Name.Span ?? declaration.Identifier.Span;
        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        var holder = new HolderSpec(ns, type.Name, declaration is RecordDeclarationSyntax ? "record" : "class", type.IsStatic,
            LocationInfo.Create(path, lines, anchorSpan));
        string key = path + "#" + (ns is null ? "" : ns + ".") + type.MetadataName;
        string display = path + " (" + type.Name + ")";
        try
        {
            var reader = new Reader(type, declaration, path, lines, ct);
            // [RnaModel] twice is CS0579; the compiler reports it.
            if (context.Attributes.Length != 1 || modelSyntax is null) reader.Skip = true;
            else reader.ReadAll(modelAttribute!, modelSyntax);
            // A value no spec can hold leaves its field unwritten; building would only add "missing field" noise.
            if (reader.Diagnostics.Any(d => d.Descriptor.Id == DiagnosticIds.UnsupportedAttributeValue)) reader.Skip = true;
            var document = new SpecDocument(key, path, display, lines, reader.Skip ? null : reader.Root(), reader.Diagnostics.ToEquatableArray())
            {
                Skip = reader.Skip,
            };
            return new AttributeSpec(document, holder);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var error = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, holder.Anchor, e.GetType().Name + ": " + e.Message);
            return new AttributeSpec(new SpecDocument(key, path, display, lines, null, new EquatableArray<DiagnosticInfo>(new[] { error })), holder);
        }
    }

    /// <summary>The state of reading one class.</summary>
    private sealed class Reader
    {
        private readonly INamedTypeSymbol _type;
        private readonly TypeDeclarationSyntax _declaration;
        private readonly string _path;
        private readonly LineMap _lines;
        private readonly CancellationToken _ct;
        private ObjectBuilder? _root;

        public Reader(INamedTypeSymbol type, TypeDeclarationSyntax declaration, string path, LineMap lines, CancellationToken ct)
        {
            _type = type;
            _declaration = declaration;
            _path = path;
            _lines = lines;
            _ct = ct;
        }

        public List<DiagnosticInfo> Diagnostics { get; } = new();

        /// <summary>An attribute has compiler errors: the compiler reports them and the spec is not built.</summary>
        public bool Skip { get; set; }

        public JsonObject Root() => (JsonObject)Freeze(_root!);

        public void ReadAll(AttributeData model, AttributeSyntax modelSyntax)
        {
            CheckClass();
            _root = new ObjectBuilder(modelSyntax.Span, modelSyntax.Name.Span);

            // Group the Rna* attributes of the class; only those on this declaration count.
            var attributes = new List<(AttributeData Data, AttributeSyntax Syntax, AttributeMapping Mapping)>();
            foreach (var data in _type.GetAttributes())
            {
                _ct.ThrowIfCancellationRequested();
                if (data.AttributeClass is not { } cls || cls.ContainingNamespace?.ToDisplayString() != AttributeSchema.Namespace) continue;
                if (!AttributeSchema.Mappings.TryGetValue(cls.Name, out var mapping)) continue;
                if (data.ApplicationSyntaxReference?.GetSyntax(_ct) is not AttributeSyntax syntax) continue;
                if (HasErrors(data))
                {
                    Skip = true;
                    return;
                }
                if (!_declaration.Span.Contains(syntax.Span) || syntax.SyntaxTree != _declaration.SyntaxTree)
                {
                    Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AttributeOnOtherDeclaration, Locate(syntax.SyntaxTree, syntax.Name.Span),
                        AttributeSchema.ShortName(cls.Name), _type.Name));
                    continue;
                }
                attributes.Add((data, syntax, mapping));
            }

            foreach (var (data, syntax, mapping) in attributes.OrderBy(a => a.Syntax.SpanStart))
            {
                switch (mapping.Kind)
                {
                    case AttributeKind.Root:
                        ReadRoot(data, syntax, mapping);
                        break;
                    case AttributeKind.Section:
                        ReadSection(data, syntax, mapping, attributes.Select(a => a.Mapping.Name).ToImmutableHashSet());
                        break;
                    case AttributeKind.ArrayItem:
                        ReadArrayItem(data, syntax, mapping);
                        break;
                    case AttributeKind.Variant:
                        ReadVariant(data, syntax, mapping);
                        break;
                    case AttributeKind.KeyedItem:
                        ReadKeyedItem(data, syntax, mapping);
                        break;
                }
            }
        }

        private void CheckClass()
        {
            if (!_declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                Report(DiagnosticDescriptors.AttributeSpecNotPartial, _declaration.Identifier.Span, _type.Name);
            }
            if (_type.ContainingType is not null || _type.TypeParameters.Length > 0)
            {
                Report(DiagnosticDescriptors.AttributeSpecNestedOrGeneric, _declaration.Identifier.Span, _type.Name);
            }
        }

        private void ReadRoot(AttributeData data, AttributeSyntax syntax, AttributeMapping mapping)
        {
            var args = Arguments(data, syntax);
            foreach (var arg in args) Set(_root!, mapping.Name, arg.Field(mapping), arg);
            if (_root!.Find("type_name") is null)
            {
                // type_name defaults to the class name, written where the class is named.
                var span = _declaration.Identifier.Span;
                _root.Add("type_name", span, new JsonString(span, _type.Name, JsonString.Quote(_type.Name)));
            }
            if (_root.Find("spec_version") is null)
            {
                _root.Add("spec_version", syntax.Name.Span, new JsonNumber(syntax.Name.Span, "2", 2));
            }
        }

        private void ReadSection(AttributeData data, AttributeSyntax syntax, AttributeMapping mapping, ImmutableHashSet<string> present)
        {
            var args = Arguments(data, syntax);
            var disabled = args.FirstOrDefault(a => a.Property == AttributeSchema.Enabled && a.Value is { Kind: TypedConstantKind.Primitive, Value: false });
            if (mapping.Nullable && disabled.Syntax is not null)
            {
                foreach (var other in args.Where(a => a.Property != AttributeSchema.Enabled))
                {
                    Report(DiagnosticDescriptors.ConflictingAttributeArguments, other.NameSpan,
                        AttributeSchema.ShortName(mapping.Name) + "." + other.Property, "Enabled = false (which writes null for '" + mapping.Path + "')");
                }
                var (parent, field) = Parent(mapping.Path, syntax);
                parent.Set(field, disabled.NameSpan, new JsonNull(disabled.ValueSpan));
                return;
            }

            var section = GetObject(mapping.Path, syntax, explicitly: true);
            foreach (var arg in args)
            {
                if (arg.Property == AttributeSchema.Enabled) continue;
                if (arg.Property is { } property && AttributeSchema.EmptyArrayFlags.TryGetValue(property, out var flag))
                {
                    if (arg.Value is not { Kind: TypedConstantKind.Primitive, Value: true }) continue;
                    if (present.Contains(flag.ItemAttribute))
                    {
                        Report(DiagnosticDescriptors.ConflictingAttributeArguments, arg.NameSpan,
                            AttributeSchema.ShortName(mapping.Name) + "." + arg.Property, "[" + AttributeSchema.ShortName(flag.ItemAttribute) + "]");
                        continue;
                    }
                    section.Set(flag.Field, arg.NameSpan, new JsonArray(arg.ValueSpan, ImmutableArray<JsonNode>.Empty));
                    continue;
                }
                SetPath(section, mapping.Name, arg.Field(mapping), arg, syntax);
            }
        }

        private void ReadArrayItem(AttributeData data, AttributeSyntax syntax, AttributeMapping mapping)
        {
            var (parent, field) = Parent(mapping.Path, syntax);
            var array = parent.Find(field)?.Value as ArrayBuilder;
            if (array is null)
            {
                array = new ArrayBuilder(syntax.Span);
                parent.Set(field, syntax.Name.Span, array);
            }
            var item = new ObjectBuilder(syntax.Span, syntax.Name.Span);
            foreach (var arg in Arguments(data, syntax)) Set(item, mapping.Name, arg.Field(mapping), arg);
            array.Items.Add(item);
        }

        /// <summary>One entry of a keyed object: the first constructor argument is its key, the properties its fields.</summary>
        private void ReadKeyedItem(AttributeData data, AttributeSyntax syntax, AttributeMapping mapping)
        {
            var args = Arguments(data, syntax);
            var keyArg = args.FirstOrDefault(a => a.Property is null);
            if (keyArg.Syntax is null) return;
            if (keyArg.Value is not { Kind: TypedConstantKind.Primitive, Value: string key })
            {
                Report(DiagnosticDescriptors.UnsupportedAttributeValue, keyArg.ValueSpan, AttributeSchema.ShortName(mapping.Name) + "(key)", "an entry needs a key");
                return;
            }
            var owner = GetObject(mapping.Path, syntax, explicitly: false);
            if (owner.Find(key) is not null)
            {
                Report(DiagnosticDescriptors.DuplicateVariantAttribute, keyArg.ValueSpan, key);
                return;
            }
            var item = new ObjectBuilder(syntax.Span, syntax.Name.Span);
            owner.Add(key, keyArg.ValueSpan, item);
            foreach (var arg in args.Where(a => a.Property is not null)) Set(item, mapping.Name, arg.Field(mapping), arg);
        }

        private void ReadVariant(AttributeData data, AttributeSyntax syntax, AttributeMapping mapping)
        {
            var args = Arguments(data, syntax);
            var nameArg = args.FirstOrDefault(a => a.Property is null);
            if (nameArg.Syntax is null) return;
            if (nameArg.Value is not { Kind: TypedConstantKind.Primitive, Value: string name })
            {
                Report(DiagnosticDescriptors.UnsupportedAttributeValue, nameArg.ValueSpan, "RnaModelVariant(name)", "a variant needs a name");
                return;
            }
            var variants = GetObject(mapping.Path, syntax, explicitly: false);
            if (variants.Find(name) is not null)
            {
                Report(DiagnosticDescriptors.DuplicateVariantAttribute, nameArg.ValueSpan, name);
                return;
            }
            var overrides = new ObjectBuilder(syntax.Span, syntax.Name.Span);
            variants.Add(name, nameArg.ValueSpan, overrides);
            foreach (var arg in args.Where(a => a.Property is not null))
            {
                if (arg.Property == AttributeSchema.AbsentPretrainingHeads)
                {
                    // Each listed head: pretraining_heads.<name>.present = false.
                    if (arg.Value.Kind != TypedConstantKind.Array) continue;
                    var heads = overrides.Find("pretraining_heads")?.Value as ObjectBuilder;
                    if (heads is null)
                    {
                        heads = new ObjectBuilder(syntax.Span, syntax.Name.Span);
                        overrides.Add("pretraining_heads", arg.NameSpan, heads);
                    }
                    for (int i = 0; i < arg.Value.Values.Length; i++)
                    {
                        if (arg.Value.Values[i].Value is not string headName) continue;
                        var itemSpan = arg.ItemSpans.Length == arg.Value.Values.Length ? arg.ItemSpans[i] : arg.ValueSpan;
                        var head = new ObjectBuilder(itemSpan, itemSpan);
                        head.Add("present", itemSpan, new JsonBoolean(itemSpan, false));
                        heads.Set(headName, itemSpan, head);
                    }
                    continue;
                }
                if (!mapping.Properties.TryGetValue(arg.Property!, out var relative)) continue;
                var parts = relative.Split('.');
                var target = overrides;
                for (int i = 0; i < parts.Length - 1; i++)
                {
                    if (target.Find(parts[i])?.Value is not ObjectBuilder child)
                    {
                        child = new ObjectBuilder(syntax.Span, syntax.Name.Span);
                        target.Add(parts[i], arg.NameSpan, child);
                    }
                    target = child;
                }
                Set(target, mapping.Name, parts[parts.Length - 1], arg);
            }
        }

        /// <summary>Writes one argument at a dotted path below <paramref name="target"/>, creating the objects on the way.</summary>
        private void SetPath(ObjectBuilder target, string attribute, string? path, Argument arg, AttributeSyntax syntax)
        {
            if (path is null) return;
            var parts = path.Split('.');
            for (int i = 0; i < parts.Length - 1; i++)
            {
                if (target.Find(parts[i])?.Value is not ObjectBuilder child)
                {
                    child = new ObjectBuilder(syntax.Span, arg.NameSpan);
                    target.Set(parts[i], arg.NameSpan, child);
                }
                target = child;
            }
            Set(target, attribute, parts[parts.Length - 1], arg);
        }

        /// <summary>Writes one argument as a field of <paramref name="target"/>.</summary>
        private void Set(ObjectBuilder target, string attribute, string? field, Argument arg)
        {
            if (field is null) return;
            string display = AttributeSchema.ShortName(attribute) + "." + (arg.Property ?? field);
            var value = Convert(arg.Value, arg.ValueSpan, arg.ItemSpans, display);
            if (value is not null) target.Set(field, arg.NameSpan, value);
        }

        /// <summary>A typed constant as a JSON value; null (after RNA5004) when no spec value can hold it.</summary>
        private JsonNode? Convert(TypedConstant constant, TextSpan span, ImmutableArray<TextSpan> itemSpans, string display)
        {
            if (constant.IsNull) return new JsonNull(span);
            switch (constant.Kind)
            {
                case TypedConstantKind.Array:
                    {
                        var items = ImmutableArray.CreateBuilder<JsonNode>(constant.Values.Length);
                        for (int i = 0; i < constant.Values.Length; i++)
                        {
                            var itemSpan = itemSpans.Length == constant.Values.Length ? itemSpans[i] : span;
                            var item = Convert(constant.Values[i], itemSpan, ImmutableArray<TextSpan>.Empty, display + "[" + i.ToString(CultureInfo.InvariantCulture) + "]");
                            if (item is null) return null;
                            items.Add(item);
                        }
                        return new JsonArray(span, items.MoveToImmutable());
                    }
                case TypedConstantKind.Enum:
                    {
                        string? member = null;
                        if (constant.Type is INamedTypeSymbol enumType)
                        {
                            foreach (var f in enumType.GetMembers().OfType<IFieldSymbol>())
                            {
                                if (f.HasConstantValue && Equals(f.ConstantValue, constant.Value))
                                {
                                    member = f.Name;
                                    break;
                                }
                            }
                        }
                        // A value that is no member (a cast number) becomes its digits, which the validator rejects (RNA2004).
                        string json = member is null ? System.Convert.ToString(constant.Value, CultureInfo.InvariantCulture) ?? "" : AttributeSchema.SnakeCase(member);
                        return new JsonString(span, json, JsonString.Quote(json));
                    }
                case TypedConstantKind.Primitive:
                    switch (constant.Value)
                    {
                        case string s:
                            return new JsonString(span, s, JsonString.Quote(s));
                        case bool b:
                            return new JsonBoolean(span, b);
                        case double d:
                            return Number(d, span, display);
                        case float f:
                            return Number(f, span, display);
                        case char:
                            Report(DiagnosticDescriptors.UnsupportedAttributeValue, span, display, "a char is not a spec value; write a string");
                            return null;
                        case sbyte or byte or short or ushort or int or uint or long or ulong:
                            {
                                string raw = System.Convert.ToString(constant.Value, CultureInfo.InvariantCulture)!;
                                return new JsonNumber(span, raw, double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
                            }
                    }
                    break;
            }
            Report(DiagnosticDescriptors.UnsupportedAttributeValue, span, display, "a " + (constant.Type?.ToDisplayString() ?? constant.Kind.ToString()) + " is not a spec value");
            return null;
        }

        private JsonNode? Number(double value, TextSpan span, string display)
        {
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                Report(DiagnosticDescriptors.UnsupportedAttributeValue, span, display, "spec numbers must be finite");
                return null;
            }
            // Written as a non-integer literal, like "1.0" in JSON, so integer fields reject it (RNA2002).
            string raw = value.ToString("R", CultureInfo.InvariantCulture);
            if (raw.IndexOf('.') < 0 && raw.IndexOf('E') < 0 && raw.IndexOf('e') < 0) raw += ".0";
            return new JsonNumber(span, raw, value);
        }

        /// <summary>The object at a dotted path, created on the way; <paramref name="explicitly"/>: the attribute is that object's own.</summary>
        private ObjectBuilder GetObject(string path, AttributeSyntax syntax, bool explicitly)
        {
            var current = _root!;
            if (path.Length == 0) return current;
            foreach (var part in path.Split('.'))
            {
                if (current.Find(part)?.Value is not ObjectBuilder child)
                {
                    child = new ObjectBuilder(syntax.Span, syntax.Name.Span);
                    current.Set(part, syntax.Name.Span, child);
                }
                current = child;
            }
            if (explicitly)
            {
                current.Span = syntax.Span;
                current.OpenBrace = syntax.Name.Span;
                current.Explicit = true;
            }
            return current;
        }

        private (ObjectBuilder Parent, string Field) Parent(string path, AttributeSyntax syntax)
        {
            int dot = path.LastIndexOf('.');
            return dot < 0 ? (_root!, path) : (GetObject(path.Substring(0, dot), syntax, explicitly: false), path.Substring(dot + 1));
        }

        private static bool HasErrors(AttributeData data) =>
            data.AttributeConstructor is null
            || data.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
            || data.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error);

        /// <summary>The arguments of an attribute with their syntax: constructor arguments in parameter order, then named ones.</summary>
        private static List<Argument> Arguments(AttributeData data, AttributeSyntax syntax)
        {
            var result = new List<Argument>();
            var list = syntax.ArgumentList?.Arguments ?? default;
            var positional = list.Where(a => a.NameEquals is null).ToList();
            var parameters = data.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            for (int i = 0; i < data.ConstructorArguments.Length && i < parameters.Length; i++)
            {
                var argSyntax = positional.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameters[i].Name)
                    ?? (i < positional.Count && positional[i].NameColon is null ? positional[i] : null);
                if (argSyntax is null) continue;
                result.Add(new Argument(null, i, data.ConstructorArguments[i], argSyntax));
            }
            foreach (var named in data.NamedArguments)
            {
                var argSyntax = list.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key);
                if (argSyntax is null) continue;
                result.Add(new Argument(named.Key, -1, named.Value, argSyntax));
            }
            return result;
        }

        private JsonNode Freeze(object value) => value switch
        {
            JsonNode node => node,
            ObjectBuilder o => new JsonObject(o.Span, o.Properties.Select(p => new JsonProperty(p.Name, p.NameSpan, Freeze(p.Value))).ToImmutableArray(), o.OpenBrace),
            ArrayBuilder a => new JsonArray(a.Span, a.Items.Select(Freeze).ToImmutableArray()),
            _ => throw new InvalidOperationException("unexpected node " + value.GetType().Name),
        };

        private void Report(DiagnosticDescriptor descriptor, TextSpan span, params string[] args) =>
            Diagnostics.Add(DiagnosticInfo.Create(descriptor, LocationInfo.Create(_path, _lines, span), args));

        private static LocationInfo Locate(SyntaxTree tree, TextSpan span) =>
            new(tree.FilePath, span, tree.GetLineSpan(span).Span);
    }

    /// <summary>One argument: <paramref name="Property"/> null for a constructor argument (<paramref name="Position"/>).</summary>
    private readonly struct Argument
    {
        public Argument(string? property, int position, TypedConstant value, AttributeArgumentSyntax syntax)
        {
            Property = property;
            Position = position;
            Value = value;
            Syntax = syntax;
        }

        public string? Property { get; }

        public int Position { get; }

        public TypedConstant Value { get; }

        public AttributeArgumentSyntax? Syntax { get; }

        public TextSpan ValueSpan => Syntax!.Expression.Span;

        /// <summary>The property name for a named argument; the value for a constructor argument.</summary>
        public TextSpan NameSpan => Syntax!.NameEquals?.Name.Span ?? Syntax.Expression.Span;

        /// <summary>Element expressions of an array argument written inline (for per-item spans).</summary>
        public ImmutableArray<TextSpan> ItemSpans => Syntax!.Expression switch
        {
            ArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions.Select(e => e.Span).ToImmutableArray(),
            ImplicitArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions.Select(e => e.Span).ToImmutableArray(),
            CollectionExpressionSyntax collection => collection.Elements.Select(e => e.Span).ToImmutableArray(),
            _ => ImmutableArray<TextSpan>.Empty,
        };

        public string? Field(AttributeMapping mapping) =>
            Property is null
                ? (Position >= 0 && Position < mapping.Constructor.Length ? mapping.Constructor[Position] : null)
                : (mapping.Properties.TryGetValue(Property, out var field) ? field : null);
    }

    private sealed class ObjectBuilder
    {
        public ObjectBuilder(TextSpan span, TextSpan openBrace)
        {
            Span = span;
            OpenBrace = openBrace;
        }

        public TextSpan Span { get; set; }

        public TextSpan OpenBrace { get; set; }

        public bool Explicit { get; set; }

        public List<PropertyBuilder> Properties { get; } = new();

        public PropertyBuilder? Find(string name) => Properties.FirstOrDefault(p => p.Name == name);

        public void Add(string name, TextSpan nameSpan, object value) => Properties.Add(new PropertyBuilder(name, nameSpan, value));

        /// <summary>Adds or replaces a field (an attribute property is written once; a later write wins).</summary>
        public void Set(string name, TextSpan nameSpan, object value)
        {
            int index = Properties.FindIndex(p => p.Name == name);
            if (index >= 0) Properties[index] = new PropertyBuilder(name, nameSpan, value);
            else Add(name, nameSpan, value);
        }
    }

    private sealed class PropertyBuilder
    {
        public PropertyBuilder(string name, TextSpan nameSpan, object value)
        {
            Name = name;
            NameSpan = nameSpan;
            Value = value;
        }

        public string Name { get; }

        public TextSpan NameSpan { get; }

        public object Value { get; }
    }

    private sealed class ArrayBuilder
    {
        public ArrayBuilder(TextSpan span) => Span = span;

        public TextSpan Span { get; }

        public List<object> Items { get; } = new();
    }
}
