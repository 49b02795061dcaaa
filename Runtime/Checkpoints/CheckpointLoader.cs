using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RnaLm.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Checkpoints;

/// <summary>What a load may leave out or find in excess (beyond the strict default).</summary>
public sealed record CheckpointLoadOptions
{
    /// <summary>Strict: every module key must be loaded and every file key used.</summary>
    public static readonly CheckpointLoadOptions Strict = new();

    /// <summary>Module keys under these prefixes may stay as initialised (e.g. a new task head).</summary>
    public IReadOnlyList<string> AllowMissingPrefixes { get; init; } = Array.Empty<string>();

    /// <summary>File keys under these prefixes may be ignored (e.g. <c>lm_head.</c> when loading into a task model).</summary>
    public IReadOnlyList<string> AllowUnexpectedPrefixes { get; init; } = Array.Empty<string>();
}

/// <summary>Keys that did not line up between a module and checkpoint files.</summary>
public sealed class CheckpointMismatchException : Exception
{
    public CheckpointMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapeMismatches)
        : base(message)
    {
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
    }

    public IReadOnlyList<string> Missing { get; }

    public IReadOnlyList<string> Unexpected { get; }

    public IReadOnlyList<string> ShapeMismatches { get; }
}

/// <summary>Loads safetensors checkpoints into modules by name, strictly, with one readable report of every mismatch.</summary>
public static class CheckpointLoader
{
    private sealed record Entry(SafeTensorsFile File, string StoredName, long[] Shape);

    /// <summary>
    /// Copies the tensors of <paramref name="files"/> into <paramref name="module"/>'s state dict. Keys are normalised
    /// with <paramref name="naming"/> (legacy prefixes, aliases); tied keys absent from the files are filled from their
    /// source; ignored keys are skipped. Tensors are read one at a time, so peak memory stays near the model size.
    /// </summary>
    /// <returns>The number of module tensors loaded.</returns>
    /// <exception cref="CheckpointMismatchException">Missing, unexpected or shape-mismatched keys (all listed at once).</exception>
    public static int Load(nn.Module module, IReadOnlyList<SafeTensorsFile> files, CheckpointNaming naming, CheckpointLoadOptions? options = null)
    {
        var expected = module.state_dict();
        var shapes = expected.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        var entries = Match(shapes, module.GetName(), null, files, naming, options);

        int loaded = 0;
        var direct = new List<(Entry Entry, Tensor Target)>();
        using (no_grad())
        {
            foreach (var (key, target) in expected)
            {
                if (!entries.TryGetValue(key, out var entry)) continue;
                if (entry.File.CanReadInto(entry.StoredName, target))
                {
                    direct.Add((entry, target));
                }
                else
                {
                    using var value = entry.File.Load(entry.StoredName);
                    target.copy_(value);
                }
                loaded++;
            }
        }
        // Straight from the files into the parameters' memory, on as many threads as libtorch may use: most of a cold
        // load is the first touch of that memory, which the threads share out.
        var parallel = new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) };
        try
        {
            System.Threading.Tasks.Parallel.ForEach(direct.OrderByDescending(d => d.Target.numel()), parallel,
                d => d.Entry.File.ReadInto(d.Entry.StoredName, d.Target));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The reader's own error (a file that ended early names file and tensor), not the thread pool's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return loaded;
    }

    /// <summary>
    /// Checks, without reading any tensor data, that <paramref name="files"/> would load into a module whose state
    /// dict has the given keys and shapes: the same rules and the same report as <see cref="Load"/>, for a model that
    /// has not been allocated yet.
    /// </summary>
    /// <param name="expected">The module's state-dict keys and shapes.</param>
    /// <param name="modelName">The module's name, for the report.</param>
    /// <param name="describedBy">The configuration the module was sized from (e.g. its config.json), for the report.</param>
    /// <param name="files">The opened weight files.</param>
    /// <param name="naming">The family's key naming.</param>
    /// <param name="options">What may be missing or unexpected.</param>
    /// <exception cref="CheckpointMismatchException">Missing, unexpected or shape-mismatched keys (all listed at once).</exception>
    public static void Verify(IReadOnlyDictionary<string, long[]> expected, string modelName, string? describedBy, IReadOnlyList<SafeTensorsFile> files,
        CheckpointNaming naming, CheckpointLoadOptions? options = null) =>
        Match(expected, modelName, describedBy, files, naming, options);

    private static Dictionary<string, Entry> Match(IReadOnlyDictionary<string, long[]> expected, string modelName, string? describedBy,
        IReadOnlyList<SafeTensorsFile> files, CheckpointNaming naming, CheckpointLoadOptions? options)
    {
        options ??= CheckpointLoadOptions.Strict;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var file in files)
        {
            foreach (var info in file.Tensors)
            {
                string key = naming.Normalize(info.Name);
                if (naming.IsIgnored(key) || naming.IsIgnored(info.Name)) continue;
                if (entries.TryGetValue(key, out var previous))
                {
                    problems.Add($"  {key}: stored twice ('{previous.StoredName}' in {previous.File.Path} and '{info.Name}' in {file.Path})");
                    continue;
                }
                entries[key] = new Entry(file, info.Name, info.Shape);
            }
        }
        foreach (var tied in naming.Tied)
        {
            if (expected.ContainsKey(tied.Key) && !entries.ContainsKey(tied.Key) && entries.TryGetValue(tied.Source, out var source))
            {
                entries[tied.Key] = source;
            }
        }

        var missing = expected.Keys
            .Where(k => !entries.ContainsKey(k) && !options.AllowMissingPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        var unexpected = entries
            .Where(e => !expected.ContainsKey(e.Key) && !options.AllowUnexpectedPrefixes.Any(p => e.Key.StartsWith(p, StringComparison.Ordinal)))
            .Select(e => e.Key == e.Value.StoredName ? e.Key : $"{e.Value.StoredName} (read as {e.Key})")
            .ToList();
        var mismatched = new List<string>();
        foreach (var (key, shape) in expected)
        {
            if (entries.TryGetValue(key, out var entry) && !entry.Shape.SequenceEqual(shape))
            {
                mismatched.Add($"{key}: checkpoint [{string.Join(", ", entry.Shape)}] ('{entry.StoredName}' in {entry.File.Path}), model [{string.Join(", ", shape)}]");
            }
        }
        if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0 || problems.Count > 0)
        {
            throw new CheckpointMismatchException(Report(modelName, describedBy, files, missing, unexpected, mismatched, problems), missing, unexpected, mismatched);
        }
        return entries;
    }

    private static string Report(string modelName, string? describedBy, IReadOnlyList<SafeTensorsFile> files, List<string> missing,
        List<string> unexpected, List<string> mismatched, List<string> problems)
    {
        var text = new StringBuilder();
        text.Append("The checkpoint ").Append(string.Join(" + ", files.Select(f => f.Path)))
            .Append(" does not match the model ").Append(modelName);
        if (describedBy is not null) text.Append(" that ").Append(describedBy).Append(" describes");
        text.Append(':');
        void Section(string title, List<string> items)
        {
            if (items.Count == 0) return;
            text.Append('\n').Append(title).Append(" (").Append(items.Count).Append("):");
            foreach (var item in items.Take(50)) text.Append("\n  ").Append(item.TrimStart());
            if (items.Count > 50) text.Append("\n  … and ").Append(items.Count - 50).Append(" more");
        }
        Section("missing keys (in the model, not in the checkpoint)", missing);
        Section("unexpected keys (in the checkpoint, not in the model)", unexpected);
        Section("shape mismatches", mismatched);
        Section("duplicate keys", problems);
        return text.ToString();
    }
}
