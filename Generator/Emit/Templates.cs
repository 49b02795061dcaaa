using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Scriban;
using Scriban.Runtime;

namespace RnaLm.Generator.Emit;

/// <summary>
/// The Scriban templates bundled in the generator assembly (<c>Templates/**/*.sbncs</c>), read and parsed once per
/// process. A template file is a list of fragments: a line <c>@@ name</c> starts the fragment <c>name</c>, which runs to
/// the next such line; lines before the first one (and lines starting with <c>##</c>) are comments for maintainers.
/// </summary>
internal static class TemplateLibrary
{
    private static readonly Lazy<ImmutableDictionary<string, TemplateFile>> Files = new(Load, isThreadSafe: true);

    /// <summary>Every template file by its path relative to Templates/ (e.g. "position/rotary.sbncs").</summary>
    public static ImmutableDictionary<string, TemplateFile> All => Files.Value;

    public static TemplateFile Get(string path) =>
        Files.Value.TryGetValue(path, out var file) ? file : throw new InvalidOperationException("no template '" + path + "' is bundled");

    private static ImmutableDictionary<string, TemplateFile> Load()
    {
        var assembly = typeof(TemplateLibrary).Assembly;
        var builder = ImmutableDictionary.CreateBuilder<string, TemplateFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().OrderBy(n => n, StringComparer.Ordinal))
        {
            string normalized = resource.Replace('\\', '/');
            if (!normalized.StartsWith("Templates/", StringComparison.Ordinal)) continue;
            string path = normalized.Substring("Templates/".Length);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            builder.Add(path, TemplateFile.Parse(path, reader.ReadToEnd()));
        }
        return builder.ToImmutable();
    }
}

/// <summary>One parsed template file: its fragments by name.</summary>
internal sealed class TemplateFile
{
    private TemplateFile(string path, ImmutableDictionary<string, Template> fragments)
    {
        Path = path;
        Fragments = fragments;
    }

    public string Path { get; }

    public ImmutableDictionary<string, Template> Fragments { get; }

    public bool Has(string fragment) => Fragments.ContainsKey(fragment);

    public static TemplateFile Parse(string path, string text)
    {
        var fragments = ImmutableDictionary.CreateBuilder<string, Template>(StringComparer.Ordinal);
        string? name = null;
        var body = new StringBuilder();
        void Flush()
        {
            if (name is null) return;
            var template = Template.Parse(body.ToString(), path + "@" + name);
            if (template.HasErrors)
            {
                throw new InvalidOperationException("template " + path + " fragment '" + name + "': " + string.Join("; ", template.Messages));
            }
            if (fragments.ContainsKey(name)) throw new InvalidOperationException("template " + path + " defines fragment '" + name + "' twice");
            fragments.Add(name, template);
        }
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (raw.StartsWith("@@ ", StringComparison.Ordinal))
            {
                Flush();
                name = raw.Substring(3).Trim();
                body.Clear();
                continue;
            }
            if (name is null || raw.StartsWith("##", StringComparison.Ordinal)) continue;
            body.Append(raw).Append('\n');
        }
        Flush();
        return new TemplateFile(path, fragments.ToImmutable());
    }
}

/// <summary>
/// Renders fragments with a model. Block fragments are placed with <c>{{ emit ... }}</c> on a line of their own: the
/// line is replaced by the fragment's lines at that line's indentation (and removed when the fragment is empty).
/// Inline values use <c>{{ inline ... }}</c>. Everything is formatted with the invariant culture.
/// </summary>
internal sealed class TemplateRenderer
{
    private const char Marker = '\u0001';
    private readonly List<string> _blocks = new();
    private readonly Func<string, IReadOnlyList<(TemplateFile File, ScriptObject Locals)>> _resolve;

    /// <param name="resolve">Maps a slot to the templates and locals of the kinds filling it (none, one, or several for a set of biases).</param>
    public TemplateRenderer(Func<string, IReadOnlyList<(TemplateFile File, ScriptObject Locals)>> resolve) => _resolve = resolve;

    /// <summary>Globals every fragment sees (the model facts, functions).</summary>
    public ScriptObject Globals { get; } = new();

    /// <summary>Renders a fragment and resolves the block markers in its output.</summary>
    public string Render(TemplateFile file, string fragment, ScriptObject? locals = null)
    {
        if (!file.Fragments.TryGetValue(fragment, out var template))
        {
            throw new InvalidOperationException("template " + file.Path + " has no fragment '" + fragment + "'");
        }
        var context = new TemplateContext
        {
            StrictVariables = true,
            MemberRenamer = member => member.Name,
            LoopLimit = 100_000,
            EnableRelaxedMemberAccess = false,
        };
        context.PushCulture(CultureInfo.InvariantCulture);
        var functions = new ScriptObject();
        functions.Import("emit", new Func<string, string, string>(Block));
        functions.Import("inline", new Func<string, string, string>(Inline));
        context.PushGlobal(functions);
        context.PushGlobal(Globals);
        if (locals is not null) context.PushGlobal(locals);
        string output = template.Render(context);
        return Resolve(output);
    }

    /// <summary>The text of a slot's fragment (every kind of the slot, in order), for emitters that write C# directly.</summary>
    public string Slot(string slot, string fragment)
    {
        var parts = new List<string>();
        foreach (var target in _resolve(slot))
        {
            if (!target.File.Has(fragment)) continue;
            string text = Render(target.File, fragment, target.Locals).TrimEnd('\n');
            if (text.Length > 0) parts.Add(text);
        }
        return string.Join("\n", parts);
    }

    /// <summary>Renders a slot's fragment as a block (every kind of the slot, in order); an empty block removes its line.</summary>
    private string Block(string slot, string fragment)
    {
        var parts = new List<string>();
        foreach (var target in _resolve(slot))
        {
            if (!target.File.Has(fragment)) continue;
            string text = Render(target.File, fragment, target.Locals).TrimEnd('\n');
            if (text.Length > 0) parts.Add(text);
        }
        // An empty block still gets a marker, so its line disappears instead of leaving indentation behind.
        _blocks.Add(string.Join("\n", parts));
        return Marker + (_blocks.Count - 1).ToString(CultureInfo.InvariantCulture) + Marker;
    }

    private string Inline(string slot, string fragment)
    {
        var parts = new List<string>();
        foreach (var target in _resolve(slot))
        {
            if (target.File.Has(fragment)) parts.Add(Render(target.File, fragment, target.Locals).TrimEnd('\n'));
        }
        return string.Concat(parts);
    }

    /// <summary>Replaces each marker line by its block, indented like the marker (an empty block drops the line).</summary>
    private string Resolve(string text)
    {
        if (text.IndexOf(Marker) < 0) return text;
        var lines = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            int start = line.IndexOf(Marker);
            if (start < 0)
            {
                lines.Add(line);
                continue;
            }
            int end = line.IndexOf(Marker, start + 1);
            string indent = line.Substring(0, start);
            if (indent.Trim().Length != 0 || line.Substring(end + 1).Trim().Length != 0)
            {
                throw new InvalidOperationException("a block fragment must be on a line of its own: '" + line.Replace(Marker, '#') + "'");
            }
            int index = int.Parse(line.Substring(start + 1, end - start - 1), CultureInfo.InvariantCulture);
            if (_blocks[index].Length == 0) continue;
            foreach (var blockLine in _blocks[index].Split('\n')) lines.Add(blockLine.Length > 0 ? indent + blockLine : "");
        }
        return string.Join("\n", lines);
    }
}
