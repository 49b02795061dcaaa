using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Benchmarks;

/// <summary>
/// Measurements that are not micro-benchmarks: resident memory over many forwards, and the forward-only rate that
/// <c>rnalm embed</c>'s throughput is compared with. They print plain lines for docs/benchmarks.md.
/// </summary>
internal static class Measurements
{
    /// <summary>Resident set size of this process in bytes (Linux /proc).</summary>
    private static long ResidentBytes() => StatusBytes("VmRSS:");

    /// <summary>A size field of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile), in bytes.</summary>
    private static long StatusBytes(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }

    /// <summary>
    /// <c>load-memory CHECKPOINT FASTA [threads] [forwards]</c>: what loading a checkpoint and embedding a few records cost, phase by
    /// phase, as <c>rnalm embed</c> does it (native-memory policy, <see cref="Checkpoint.Load"/>, one padded batch under
    /// inference mode): wall time and the resident size (anonymous and file-backed) after the runtime start, after the
    /// load and after the forward, the peak, and the weight file's size.
    /// </summary>
    public static int LoadMemory(string[] args)
    {
        var clock = Stopwatch.StartNew();
        NativeMemory.KeepHeapFlat(); // before the first tensor, as every rnalm command applies it
        torch.set_num_threads(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1);
        _ = ModelCatalog.Registry.Variants.Count;
        Console.WriteLine($"native-memory policy: {NativeMemory.Active}");
        void Report(string phase) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{phase,-14} {clock.Elapsed.TotalSeconds,6:F2} s  resident {StatusBytes("VmRSS:") / 1048576.0,7:F1} MiB (anonymous {StatusBytes("RssAnon:") / 1048576.0,7:F1}, file {StatusBytes("RssFile:") / 1048576.0,6:F1})  peak {StatusBytes("VmHWM:") / 1048576.0,7:F1} MiB"));
        Report("runtime");
        var started = clock.Elapsed;
        using var loaded = Checkpoint.Load(args[1], ModelCatalog.Registry);
        Report("loaded");
        var records = SequenceFiles.Read(args[2]).Select(r => r.Sequence).ToList();
        var encoded = loaded.Tokenizer.EncodeBatch(records);
        int forwards = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 2;
        foreach (string phase in Enumerable.Range(1, forwards).Select(i => $"forward {i}"))
        {
            using (torch.inference_mode())
            using (var scope = NewDisposeScope())
            {
                var (ids, mask) = encoded.ToTensors();
                loaded.Model.Forward(ids, mask);
            }
            Report(phase);
        }
        long weights = new FileInfo(Path.Combine(args[1], Checkpoint.WeightsFile)).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"weights {weights / 1048576.0:F1} MiB; load and {forwards} forward(s) {(clock.Elapsed - started).TotalSeconds:F2} s; peak / weights {StatusBytes("VmHWM:") / (double)weights:F2}"));
        return 0;
    }

    /// <summary>
    /// <c>rss [forwards] [threads]</c>: 1,000 forwards of splicebert (published size, random weights) on a 1 x 128 batch
    /// under the native-memory policy every rnalm command applies; prints the resident size every 100 forwards and
    /// the spread after the first 100 (warm-up).
    /// </summary>
    public static int ResidentMemory(string[] args)
    {
        int forwards = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        torch.set_num_threads(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1);
        bool policy = NativeMemory.KeepHeapFlat();
        torch.manual_seed(0);
        var variant = ModelCatalog.Registry.GetVariant("splicebert");
        using var model = variant.Family.CreatePreTrainingModel(variant.Config).Module;
        var masked = (IRnaMaskedLM)model;
        model.eval();
        var samples = new List<(int Forward, long Rss)>();
        var clock = Stopwatch.StartNew();
        using (torch.inference_mode())
        {
            for (int i = 1; i <= forwards; i++)
            {
                using var scope = NewDisposeScope();
                // A fresh input every time, as when records stream through.
                var ids = randint(6, 10, new long[] { 1, 128 }, dtype: ScalarType.Int64);
                var mask = ones(1, 128, ScalarType.Int64);
                masked.Forward(ids, mask);
                if (i % 100 == 0) samples.Add((i, ResidentBytes()));
            }
        }
        Console.WriteLine($"native-memory policy: {NativeMemory.Active} (active: {policy}); {forwards} forwards of splicebert 1x128 in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (i, rss) in samples) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"forward {i,5}: RSS {rss / 1048576.0:F1} MiB"));
        var steady = samples.Where(s => s.Forward > 100).Select(s => s.Rss).ToList();
        double low = steady.Min(), high = steady.Max();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after forward 100: min {low / 1048576.0:F1} MiB, max {high / 1048576.0:F1} MiB, spread {(high - low) / low * 100:F2}%"));
        return 0;
    }

    /// <summary>
    /// <c>forward-rate FASTA CHECKPOINT [records] [max-batch-tokens] [threads]</c>: the rate of model forwards alone over
    /// the first records of a FASTA file, batched as <c>rnalm embed</c> batches them (sorted by length within windows
    /// of 2,048 records, at most 64 records and the token budget per batch), with tokenization and batching done
    /// before the clock starts and nothing written.
    /// </summary>
    public static int ForwardRate(string[] args)
    {
        string fasta = args[1];
        string checkpointDir = args[2];
        int limit = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 10000;
        int budget = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 8192;
        torch.set_num_threads(args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1);
        NativeMemory.KeepHeapFlat();
        using var checkpoint = Checkpoint.Load(checkpointDir, ModelCatalog.Registry);
        var model = checkpoint.Model;
        model.Module.eval();
        int max = checkpoint.Tokenizer.Options.ModelMaxLength ?? int.MaxValue;
        var encoded = FastaReader.Read(fasta).Take(limit)
            .Select(r => checkpoint.Tokenizer.Encode(r.Sequence).InputIds)
            .Select(ids => ids.Length <= max ? ids : [.. ids.AsSpan(0, max - 1), ids[^1]]).ToList();
        var batches = new List<(Tensor Ids, Tensor Mask)>();
        foreach (var window in encoded.Chunk(2048))
        {
            var sorted = window.OrderBy(ids => ids.Length).ToList();
            var batch = new List<int[]>();
            foreach (var ids in sorted.Append(null))
            {
                bool flush = ids is null || (batch.Count > 0 && (batch.Count == 64 || (long)Math.Max(batch[^1].Length, ids.Length) * (batch.Count + 1) > budget));
                if (flush && batch.Count > 0)
                {
                    int length = batch.Max(b => b.Length);
                    var flat = new long[batch.Count * length];
                    var mask = new long[batch.Count * length];
                    for (int b = 0; b < batch.Count; b++)
                    {
                        for (int t = 0; t < batch[b].Length; t++)
                        {
                            flat[b * length + t] = batch[b][t];
                            mask[b * length + t] = 1;
                        }
                    }
                    batches.Add((torch.tensor(flat, [batch.Count, length]), torch.tensor(mask, [batch.Count, length])));
                    batch.Clear();
                }
                if (ids is not null) batch.Add(ids);
            }
        }
        var clock = Stopwatch.StartNew();
        using (torch.inference_mode())
        {
            foreach (var (ids, mask) in batches)
            {
                using var scope = NewDisposeScope();
                model.Backbone.Forward(ids, mask);
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"forward only: {encoded.Count} records, {encoded.Sum(e => e.Length)} tokens, {batches.Count} batches, {seconds:F2} s, {encoded.Count / seconds:F1} records/s"));
        return 0;
    }

    /// <summary>
    /// <c>load-phases CHECKPOINT [rounds] [threads]</c>: where <see cref="Checkpoint.Load"/>'s time goes, its steps timed one by
    /// one (config, tokenizer, model built on the meta device, its keys and shapes checked against the weight file's
    /// header, storage, weights read from the file), for a cold first load and for
    /// warm repeats in the same process, with the anonymous memory on huge pages after each load.
    /// </summary>
    public static int LoadPhases(string[] args)
    {
        NativeMemory.KeepHeapFlat();
        torch.set_num_threads(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1);
        var clock = Stopwatch.StartNew();
        _ = ModelCatalog.Registry.Variants.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"native-memory policy {NativeMemory.Active}; registry {clock.Elapsed.TotalMilliseconds:F0} ms"));
        string weights = Path.Combine(args[1], Checkpoint.WeightsFile);
        int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
        for (int round = 1; round <= rounds; round++)
        {
            var lap = Stopwatch.StartNew();
            var phases = new List<string>();
            void Lap(string phase)
            {
                phases.Add(string.Create(CultureInfo.InvariantCulture, $"{phase} {lap.Elapsed.TotalMilliseconds:F0} ms"));
                lap.Restart();
            }
            var total = Stopwatch.StartNew();
            var (family, config) = Checkpoint.ReadConfig(args[1], ModelCatalog.Registry);
            Lap("config");
            _ = Checkpoint.ReadTokenizer(args[1], config);
            Lap("tokenizer");
            var model = DeferredModules.BuildOnMeta(() => family.CreatePreTrainingModel(config));
            Lap("meta build");
            using var module = model.Module;
            using (var file = SafeTensorsFile.Open(weights))
            {
                var shapes = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
                CheckpointLoader.Verify(shapes, module.GetName(), args[1], new[] { file }, family.Naming);
            }
            Lap("check");
            DeferredModules.Materialize(module, torch.CPU);
            Lap("storage");
            Checkpoint.LoadWeights(module, family.Naming, new[] { weights });
            Lap("weights");
            string huge = File.ReadLines("/proc/self/smaps_rollup").FirstOrDefault(l => l.StartsWith("AnonHugePages:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load {round} ({(round == 1 ? "cold" : "warm")}): {total.Elapsed.TotalMilliseconds:F0} ms = {string.Join(" + ", phases)}; anonymous huge pages {huge}"));
        }
        return 0;
    }
}
