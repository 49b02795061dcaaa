using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnaLm.Generator.Diagnostics;
using RnaLm.Generator.Emit;
using RnaLm.Generator.Model;
using RnaLm.Generator.Spec;

namespace RnaLm.Generator;

/// <summary>
/// Turns every <c>*.model.json</c> AdditionalFile into a config class, TorchSharp modules, models, tokenizer data and a
/// registry entry, plus one <c>ModelCatalog</c> listing all families. Pipeline: parse (per file, cached on text) →
/// valid specs → emit (per spec, cached on the value-equatable model) and catalog (all specs).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    public const string SpecExtension = ".model.json";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(SpecExtension, StringComparison.OrdinalIgnoreCase))
            .Select(static (file, ct) => Parse(file, ct))
            .WithTrackingName(TrackingNames.ParseSpec);

        context.RegisterSourceOutput(parsed.Select(static (p, _) => p.Diagnostics), static (ctx, diagnostics) =>
        {
            foreach (var d in diagnostics) ctx.ReportDiagnostic(d.ToDiagnostic());
        });

        var valid = parsed
            .Where(static p => p.Spec is not null && !p.Diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
            .WithTrackingName(TrackingNames.ValidSpec);

        context.RegisterSourceOutput(valid, static (ctx, parsedSpec) => EmitSpec(ctx, parsedSpec));

        var crossSpec = parsed.Collect()
            .Select(static (all, _) => SpecValidation.CheckDuplicateNames(all))
            .WithTrackingName(TrackingNames.CrossSpecDiagnostics);
        context.RegisterSourceOutput(crossSpec, static (ctx, diagnostics) =>
        {
            foreach (var d in diagnostics) ctx.ReportDiagnostic(d.ToDiagnostic());
        });

        var rootNamespace = context.AnalyzerConfigOptionsProvider.Select(static (options, _) =>
            options.GlobalOptions.TryGetValue("build_property.RootNamespace", out var ns) && !string.IsNullOrWhiteSpace(ns) ? ns : "RnaLm.Models");
        var entries = valid
            .Select(static (p, _) => new CatalogEntry(p.Spec!.Name, "global::" + p.Spec.Namespace + "." + p.Spec.TypeName + "Family"))
            .Collect()
            .Select(static (all, _) => all.OrderBy(e => e.Name, StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.CatalogEntries);
        context.RegisterSourceOutput(entries.Combine(rootNamespace), static (ctx, input) =>
        {
            if (input.Left.IsEmpty) return;
            ctx.AddSource("ModelCatalog.g.cs", SourceText.From(
                CatalogEmitter.Emit(input.Right, input.Left.Select(e => (e.Name, e.FamilyType))), System.Text.Encoding.UTF8));
        });
    }

    private static ParsedSpec Parse(AdditionalText file, System.Threading.CancellationToken ct)
    {
        var text = file.GetText(ct);
        if (text is null)
        {
            return new ParsedSpec(file.Path, null, new EquatableArray<DiagnosticInfo>(new[]
            {
                DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, new LocationInfo(file.Path, default, default), "the spec file could not be read"),
            }));
        }
        return SpecParser.Parse(file.Path, text, ct);
    }

    private static void EmitSpec(SourceProductionContext context, ParsedSpec parsed)
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
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.ReportDiagnostic(DiagnosticInfo.Create(
                DiagnosticDescriptors.InternalError,
                new LocationInfo(parsed.FilePath, default, default),
                e.GetType().Name + ": " + e.Message).ToDiagnostic());
        }
    }

    private sealed record CatalogEntry(string Name, string FamilyType);
}
