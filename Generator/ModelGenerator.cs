using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Attributes;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Emit;
using RnaLm.Generator.Model;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator;

/// <summary>
/// Turns every spec into a config class, TorchSharp modules, models, tokenizer data and a registry entry, plus one
/// <c>ModelCatalog</c> listing all families. A spec is a <c>*.model.json</c> AdditionalFile or a partial class with
/// <c>[RnaModel]</c> (RnaLm.Abstractions). Pipeline:
/// <list type="number">
/// <item>read (per file / per class, cached on the text or the attribute syntax) → <see cref="SpecDocument"/>, the
/// JSON-level tree both kinds of spec share;</item>
/// <item>index (all documents by model name) and resolve <c>extends</c> per document → <see cref="ResolvedSpec"/>, equal
/// to the previous one unless the document or one of its bases changed;</item>
/// <item>parse (per spec: merge, schema, rules, variants) → <see cref="ParsedSpec"/>;</item>
/// <item>cross-spec checks (duplicate names), then emit per valid spec and the catalog over all of them.</item>
/// </list>
/// Every step catches unexpected exceptions and reports RNA9001 in the spec instead of failing the generator.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    public const string SpecExtension = ".model.json";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var jsonDocuments = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(SpecExtension, StringComparison.OrdinalIgnoreCase))
            .Select(static (file, ct) => ReadDocument(file, ct))
            .WithTrackingName(TrackingNames.ReadSpecDocument);

        var attributeSpecs = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeSchema.ModelAttributeMetadataName, AttributeSpecReader.IsCandidate, AttributeSpecReader.Read)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ReadAttributeSpec);

        var index = jsonDocuments.Collect()
            .Combine(attributeSpecs.Select(static (a, _) => a.Document).Collect())
            .Select(static (all, _) => SpecIndex.Create(all.Left.Concat(all.Right)))
            .WithTrackingName(TrackingNames.SpecIndex);

        // JSON specs.
        var parsed = jsonDocuments.Combine(index)
            .Select(static (input, ct) => SpecResolver.Resolve(input.Left, input.Right, ct))
            .WithTrackingName(TrackingNames.ResolveSpec)
            .Select(static (resolved, ct) => SpecParser.Build(resolved, ct))
            .WithTrackingName(TrackingNames.ParseSpec);

        // Attribute specs: the same resolution and parser; the holder class travels alongside.
        var parsedAttributes = attributeSpecs.Combine(index)
            .Select(static (input, ct) => (Resolved: SpecResolver.Resolve(input.Left.Document, input.Right, ct), input.Left.Holder))
            .WithTrackingName(TrackingNames.ResolveAttributeSpec)
            .Select(static (input, ct) => new ParsedAttributeSpec(SpecParser.Build(input.Resolved, ct), input.Holder))
            .WithTrackingName(TrackingNames.ParseAttributeSpec);

        context.RegisterSourceOutput(parsed.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(parsedAttributes.Select(static (p, _) => p.Parsed.Diagnostics), ReportAll);

        var crossSpec = parsed.Collect()
            .Combine(parsedAttributes.Select(static (p, _) => p.Parsed).Collect())
            .Select(static (all, _) => SpecValidation.Check(all.Left.AddRange(all.Right)))
            .WithTrackingName(TrackingNames.CrossSpecDiagnostics);
        context.RegisterSourceOutput(crossSpec.Select(static (c, _) => c.Diagnostics), ReportAll);
        var rejected = crossSpec.Select(static (c, _) => c.Rejected);

        var valid = parsed
            .Where(static p => IsValid(p))
            .WithTrackingName(TrackingNames.ValidSpec);
        var toEmit = valid.Combine(rejected)
            .Where(static input => !input.Right.Contains(input.Left.Key))
            .Select(static (input, _) => input.Left)
            .WithTrackingName(TrackingNames.EmitSpec);
        context.RegisterSourceOutput(toEmit, static (ctx, spec) => EmitSpec(ctx, spec, null));

        var validAttributes = parsedAttributes
            .Where(static p => IsValid(p.Parsed))
            .WithTrackingName(TrackingNames.ValidAttributeSpec);
        var attributesToEmit = validAttributes.Combine(rejected)
            .Where(static input => !input.Right.Contains(input.Left.Parsed.Key))
            .Select(static (input, _) => input.Left)
            .WithTrackingName(TrackingNames.EmitAttributeSpec);
        context.RegisterSourceOutput(attributesToEmit, static (ctx, spec) => EmitSpec(ctx, spec.Parsed, spec.Holder));

        var rootNamespace = context.AnalyzerConfigOptionsProvider.Select(static (options, _) =>
            options.GlobalOptions.TryGetValue("build_property.RootNamespace", out var ns) && !string.IsNullOrWhiteSpace(ns) ? ns : "RnaLm.Models");
        var entries = toEmit.Select(static (p, _) => Entry(p))
            .Collect()
            .Combine(attributesToEmit.Select(static (p, _) => Entry(p.Parsed)).Collect())
            .Select(static (all, _) => all.Left.AddRange(all.Right).OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Key, StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.CatalogEntries);
        context.RegisterSourceOutput(entries.Combine(rootNamespace), static (ctx, input) =>
        {
            if (input.Left.IsEmpty) return;
            try
            {
                ctx.AddSource("ModelCatalog.g.cs", SourceText.From(
                    CatalogEmitter.Emit(input.Right, input.Left.Select(e => (e.Name, e.FamilyType))), System.Text.Encoding.UTF8));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var first = input.Left[0];
                ctx.ReportDiagnostic(DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, first.Anchor,
                    "the catalog: " + e.GetType().Name + ": " + e.Message).ToDiagnostic());
            }
        });
    }

    private static bool IsValid(ParsedSpec p) =>
        p.Spec is not null && !p.Diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);

    private static void ReportAll(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var d in diagnostics) context.ReportDiagnostic(d.ToDiagnostic());
    }

    private static CatalogEntry Entry(ParsedSpec p) =>
        new(p.Spec!.Name, p.Key, "global::" + p.Spec.Namespace + "." + p.Spec.TypeName + "Family",
            new LocationInfo(p.FilePath, new TextSpan(0, 0), default));

    private static SpecDocument ReadDocument(AdditionalText file, System.Threading.CancellationToken ct)
    {
        SourceText? text;
        try
        {
            text = file.GetText(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Unreadable(file.Path, "the spec file could not be read: " + e.GetType().Name + ": " + e.Message);
        }
        if (text is null) return Unreadable(file.Path, "the spec file could not be read");
        return SpecParser.ReadDocument(file.Path, text, ct);
    }

    private static SpecDocument Unreadable(string path, string message) =>
        new(path, path, path, LineMap.From(SourceText.From("")), null, new EquatableArray<DiagnosticInfo>(new[]
        {
            DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, new LocationInfo(path, default, default), message),
        }));

    private static void EmitSpec(SourceProductionContext context, ParsedSpec parsed, HolderSpec? holder)
    {
        var spec = parsed.Spec!;
        string stem = spec.Namespace + "." + spec.TypeName;
        try
        {
            var files = new (string Hint, string Text)[]
            {
                (stem + "Config.g.cs", ConfigEmitter.Emit(spec)),
                (stem + "Modules.g.cs", ModuleEmitter.Emit(spec)),
                (stem + "Models.g.cs", ModelsEmitter.Emit(spec)),
                (stem + "Family.g.cs", FamilyEmitter.Emit(spec)),
            };
            foreach (var (hint, text) in files)
            {
                context.AddSource(hint, SourceText.From(text, System.Text.Encoding.UTF8));
            }
            if (holder is not null)
            {
                context.AddSource(HolderEmitter.HintName(holder), SourceText.From(HolderEmitter.Emit(holder, spec), System.Text.Encoding.UTF8));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.ReportDiagnostic(DiagnosticInfo.Create(
                DiagnosticDescriptors.InternalError,
                holder?.Anchor ?? new LocationInfo(parsed.FilePath, default, default),
                e.GetType().Name + ": " + e.Message).ToDiagnostic());
        }
    }

    private sealed record CatalogEntry(string Name, string Key, string FamilyType, LocationInfo Anchor);

    private sealed record ParsedAttributeSpec(ParsedSpec Parsed, HolderSpec Holder);
}
