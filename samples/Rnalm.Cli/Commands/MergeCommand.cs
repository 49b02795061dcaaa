using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnaLm.IO;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm merge</c>: joins the shard outputs of one <c>rnalm embed --shard I/N</c> job (every shard exactly once, the
/// same input, checkpoint and options) into the file one unsharded run would write, records in input order. Tensors
/// are copied one at a time, so memory does not grow with the shards.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(CliContext context)
    {
        var output = new Option<string>("--output") { Description = "The merged file (same format as the shards; replaced atomically; '-' writes to standard output).", HelpName = "FILE", Required = true };
        var shards = new Argument<string[]>("SHARD") { Description = "The shard outputs of 'rnalm embed --shard I/N', in any order.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Merge the shard outputs of 'rnalm embed --shard' into one file.");
        command.Options.Add(output);
        command.Arguments.Add(shards);
        command.SetAction(parse => Execute(context, parse.GetRequiredValue(output), parse.GetRequiredValue(shards)));
        return command;
    }

    private sealed record Shard(string Path, int Index, int Count, Dictionary<string, string> Metadata);

    private static int Execute(CliContext context, string output, string[] paths)
    {
        bool toStdout = TextInput.IsStandardStream(output);
        if (!toStdout)
        {
            OutputPaths.CheckFile(output, null, paths.Select(p => ((string?)p, "a shard to merge")).ToArray());
            OutputPaths.RemoveLeftovers(context, "merge", output);
        }
        bool npz = paths.All(IsZip);
        if (!npz && paths.Any(IsZip)) throw new CliException("The shards mix .npz and safetensors files; merge shards of one job.");
        var shards = paths.Select(p => npz ? ReadNpzShard(p) : ReadSafeTensorsShard(p)).OrderBy(s => s.Index).ToList();
        CheckComplete(shards);

        var metadata = MergedMetadata(shards);
        var target = toStdout ? OutputTarget.Stream(() => { context.Out.Flush(); return context.OpenStandardOutput(); }, "standard output") : OutputTarget.File(output);
        long records = shards.Sum(s => long.Parse(s.Metadata["records"], CultureInfo.InvariantCulture));
        try
        {
            if (npz) MergeNpz(shards, target, metadata);
            else MergeSafeTensors(shards, target, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputPaths.WriteFailed(output, e);
        }
        context.Error.WriteLine($"rnalm merge: {shards.Count} shards, {records} records -> {(toStdout ? "standard output" : output)}");
        return ExitCodes.Success;
    }

    private static bool IsZip(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Shard '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
    }

    private static Shard ReadSafeTensorsShard(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return Describe(path, file.Metadata.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
    }

    private static Shard ReadNpzShard(string path)
    {
        var arrays = NumpyReader.ReadNpz(path);
        if (!arrays.TryGetValue("metadata", out var metadata)) throw new CliException($"{path}: an .npz file without the metadata 'rnalm embed' writes; not a shard of ours.");
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(metadata.Strings()[0])
            ?? throw new CliException($"{path}: its metadata is empty.");
        return Describe(path, values);
    }

    private static Shard Describe(string path, Dictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("shard", out var shard) || !metadata.ContainsKey("rnalm_job") || !metadata.ContainsKey("records"))
        {
            throw new CliException($"{path}: not a shard of 'rnalm embed --shard I/N' (its metadata has no shard, job or record count).");
        }
        var parts = shard.Split('/');
        return new Shard(path, int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), metadata);
    }

    /// <summary>The job without its shard: what all shards of one job share.</summary>
    private static string JobWithoutShard(Shard shard)
    {
        var job = JsonNode.Parse(shard.Metadata["rnalm_job"])!.AsObject();
        job["shard"] = null;
        return job.ToJsonString();
    }

    private static void CheckComplete(List<Shard> shards)
    {
        int count = shards[0].Count;
        string job = JobWithoutShard(shards[0]);
        foreach (var shard in shards)
        {
            if (shard.Count != count) throw new CliException($"{shard.Path} is shard {shard.Index}/{shard.Count}, but {shards[0].Path} is one of {count}.");
            if (JobWithoutShard(shard) != job)
            {
                throw new CliException($"{shard.Path} comes from another job than {shards[0].Path} (input, checkpoint or options differ).");
            }
        }
        var duplicate = shards.GroupBy(s => s.Index).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CliException($"Shard {duplicate.Key}/{count} is given twice: {string.Join(", ", duplicate.Select(s => s.Path))}.");
        var missing = Enumerable.Range(1, count).Except(shards.Select(s => s.Index)).ToList();
        if (missing.Count > 0) throw new CliException($"Shards {string.Join(", ", missing.Select(i => $"{i}/{count}"))} are missing.");
    }

    private static Dictionary<string, string> MergedMetadata(List<Shard> shards)
    {
        var metadata = new Dictionary<string, string>(shards[0].Metadata, StringComparer.Ordinal);
        metadata.Remove("shard");
        metadata["rnalm_job"] = JobWithoutShard(shards[0]);
        foreach (string counted in new[] { "records", "chunked_records", "truncated_records" })
        {
            if (metadata.ContainsKey(counted))
            {
                metadata[counted] = shards.Sum(s => long.Parse(s.Metadata[counted], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
            }
        }
        metadata["merged_shards"] = shards.Count.ToString(CultureInfo.InvariantCulture);
        return metadata;
    }

    private static void MergeSafeTensors(List<Shard> shards, OutputTarget target, Dictionary<string, string> metadata)
    {
        using var writer = new SafeTensorsStreamWriter(target);
        long order = 0;
        foreach (var shard in shards)
        {
            using var file = SafeTensorsFile.Open(shard.Path);
            foreach (var info in file.Tensors.OrderBy(t => t.Begin))
            {
                if (info.DType != "F32") throw new CliException($"{shard.Path}: tensor '{info.Name}' is {info.DType}; 'rnalm embed' writes F32 only.");
            }
            foreach (var info in file.Tensors)
            {
                using var tensor = file.Load(info.Name);
                writer.Add(info.Name, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.bytes), info.Shape, order++);
            }
        }
        writer.Complete(metadata);
    }

    private static void MergeNpz(List<Shard> shards, OutputTarget target, Dictionary<string, string> metadata)
    {
        using var writer = new NumpyStreamWriter(target, archive: true);
        var names = new List<string>();
        var matrices = new List<(string Name, int Width)>();
        foreach (var shard in shards)
        {
            var arrays = NumpyReader.ReadNpz(shard.Path);
            if (matrices.Count == 0)
            {
                foreach (var (name, array) in arrays.Where(a => a.Value.DType == "<f4").OrderBy(a => a.Key, StringComparer.Ordinal))
                {
                    matrices.Add((name, (int)array.Shape[1]));
                    writer.AddMatrix(name, (int)array.Shape[1]);
                }
            }
            foreach (var (name, width) in matrices)
            {
                if (!arrays.TryGetValue(name, out var array)) throw new CliException($"{shard.Path} has no array '{name}'.");
                var values = array.Floats();
                for (int row = 0; row < array.Shape[0]; row++) writer.AppendRow(name, values.AsSpan(row * width, width));
            }
            names.AddRange(arrays["names"].Strings());
        }
        writer.AddStrings("names", names);
        writer.AddScalarString("metadata", JsonSerializer.Serialize(metadata));
        writer.Complete();
    }
}
