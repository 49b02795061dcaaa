using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnaLm.Checkpoints;
using RnaLm.Inference;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Cli.Commands;

/// <summary>
/// <c>rnalm embed</c>: runs a checkpoint over every record of a FASTA file and streams per-record outputs (padding
/// removed) to a safetensors file, or pooled vectors to NumPy <c>.npy</c>/<c>.npz</c> files. Records are read, batched
/// and written as they come, so memory does not grow with the input.
/// </summary>
internal static class EmbedCommand
{
    internal enum OutputFormat { SafeTensors, Npz, Npy }

    internal enum LongPolicy { Error, Truncate, Chunk }

    [Flags]
    internal enum Include { None = 0, PerToken = 1, Mean = 2, Bos = 4 }

    internal sealed record Settings(
        string Checkpoint, string Input, string Output, OutputFormat Format, int BatchSize, int MaxBatchTokens, int SortWindow,
        Include Include, int[]? Layers, bool HiddenStates, bool Attentions, bool Logits, LongPolicy Long, int? ChunkOverlap,
        (int Index, int Count)? Shard, string? Png = null);

    private static readonly Dictionary<string, OutputFormat> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        [".safetensors"] = OutputFormat.SafeTensors,
        [".npz"] = OutputFormat.Npz,
        [".npy"] = OutputFormat.Npy,
    };

    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = DefaultModel.CheckpointHelp, HelpName = "DIR", DefaultValueFactory = _ => DefaultModel.Directory };
        var input = new Option<string>("--input") { Description = "FASTA file (gzip-compressed or not; '-' reads standard input); each record is named by the first word of its header.", HelpName = "FILE.fasta", Required = true };
        var output = new Option<string>("--output") { Description = "File to write (replaced atomically when it exists; '-' writes to standard output).", HelpName = "FILE", Required = true };
        var format = new Option<string>("--format") { Description = "safetensors (per-record tensors, the default), npz (pooled matrices, names and metadata) or npy (one pooled matrix). Required for a .npz/.npy output name.", HelpName = "safetensors|npz|npy" };
        format.AcceptOnlyFromAmong("safetensors", "npz", "npy");
        var include = new Option<string>("--include") { Description = "What to write, comma-separated: per-token ([L, H] per record), mean (over the nucleotide tokens, special tokens excluded), bos (the <cls> token's vector).", HelpName = "per-token,mean,bos", DefaultValueFactory = _ => "per-token" };
        var layers = new Option<string?>("--layers") { Description = "Comma-separated layers for --include: 0 is the embedding output, 1..N the layers, negative counts from the end (-1 = last). Default: the last hidden state only.", HelpName = "I,J,..." };
        var batchSize = new Option<int>("--batch-size") { Description = "Most records (or windows) per forward pass (outputs do not depend on it).", HelpName = "N", DefaultValueFactory = _ => 64, CustomParser = OptionParsers.AtLeast("--batch-size", 1) };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Most padded tokens per forward pass (records x longest); a longer record runs alone.", HelpName = "N", DefaultValueFactory = _ => 8192, CustomParser = OptionParsers.AtLeast("--max-batch-tokens", 1) };
        var sortWindow = new Option<int>("--sort-window") { Description = "Records read ahead and sorted by length to reduce padding (memory holds this many sequences).", HelpName = "N", DefaultValueFactory = _ => 2048, CustomParser = OptionParsers.AtLeast("--sort-window", 1) };
        var longPolicy = new Option<string>("--long") { Description = "Records longer than the model: error (stop and name the record), truncate (keep the first tokens) or chunk (overlapping windows, per-token outputs averaged where they overlap).", HelpName = "error|truncate|chunk", DefaultValueFactory = _ => "error" };
        longPolicy.AcceptOnlyFromAmong("error", "truncate", "chunk");
        var chunkOverlap = new Option<int?>("--chunk-overlap") { Description = "Tokens shared by consecutive windows with --long chunk (default: a quarter of the window, at most 128).", HelpName = "N", CustomParser = OptionParsers.OptionalAtLeast("--chunk-overlap", 0) };
        var shard = new Option<string?>("--shard") { Description = "Embed only part I of N of the records (contiguous, 1-based, in file order); an output already complete for the same job is kept and the run skipped.", HelpName = "I/N" };
        var hiddenStates = new Option<bool>("--hidden-states") { Description = "Also write <name>.hidden_states.<i> [L, H] for i = 0 (embeddings) .. layers." };
        var attentions = new Option<bool>("--attentions") { Description = "Also write <name>.attentions.<i> [heads, L, L] for every layer." };
        var logits = new Option<bool>("--logits") { Description = "Also write <name>.mlm_logits [L, V] from the masked-language-model head." };
        var png = new Option<string?>("--png") { Description = "With --attentions: folder to write heat maps of the attention maps to, <name>.attention.<layer>.png (mean over heads; the last layer, or those of --layers).", HelpName = "DIR" };

        var command = new Command("embed", "Embed every record of a FASTA file and stream the outputs to a safetensors, .npz or .npy file.");
        foreach (var option in new Option[] { checkpoint, input, output, format, include, layers, batchSize, maxBatchTokens, sortWindow, longPolicy, chunkOverlap, shard, hiddenStates, attentions, logits, png })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse =>
        {
            string outputPath = parse.GetRequiredValue(output);
            var settings = new Settings(
                parse.GetRequiredValue(checkpoint),
                parse.GetRequiredValue(input),
                outputPath,
                ResolveFormat(parse.GetValue(format), outputPath),
                parse.GetValue(batchSize),
                parse.GetValue(maxBatchTokens),
                parse.GetValue(sortWindow),
                ParseInclude(parse.GetValue(include)!),
                ParseLayers(parse.GetValue(layers)),
                parse.GetValue(hiddenStates),
                parse.GetValue(attentions),
                parse.GetValue(logits),
                Enum.Parse<LongPolicy>(parse.GetValue(longPolicy)!, ignoreCase: true),
                parse.GetValue(chunkOverlap),
                ParseShard(parse.GetValue(shard)),
                parse.GetValue(png));
            return Execute(context, settings);
        });
        return command;
    }

    /// <summary>The output format: <c>--format</c>, which must agree with a known extension; never guessed from the name alone.</summary>
    internal static OutputFormat ResolveFormat(string? format, string output)
    {
        OutputFormat? byName = Extensions.TryGetValue(Path.GetExtension(output), out var known) ? known : null;
        if (format is null)
        {
            if (byName is OutputFormat named && named != OutputFormat.SafeTensors)
            {
                throw new UsageException($"--output '{output}' names a .{named.ToString().ToLowerInvariant()} file; add --format {named.ToString().ToLowerInvariant()} to write one (the default format is safetensors).");
            }
            return OutputFormat.SafeTensors;
        }
        var chosen = Enum.Parse<OutputFormat>(format, ignoreCase: true);
        if (byName is OutputFormat extension && extension != chosen)
        {
            throw new UsageException($"--output '{output}' ends in {Path.GetExtension(output)} but --format is {format}; give a name that matches the format.");
        }
        return chosen;
    }

    private static Include ParseInclude(string text)
    {
        var result = Include.None;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            result |= part switch
            {
                "per-token" => Include.PerToken,
                "mean" => Include.Mean,
                "bos" => Include.Bos,
                _ => throw new UsageException($"--include takes per-token, mean and bos, comma-separated (got '{part}')."),
            };
        }
        if (result == Include.None) throw new UsageException("--include needs at least one of per-token, mean, bos.");
        return result;
    }

    private static int[]? ParseLayers(string? text)
    {
        if (text is null) return null;
        var layers = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int layer))
            {
                throw new UsageException($"--layers takes whole numbers, comma-separated (got '{part}').");
            }
            layers.Add(layer);
        }
        return layers.ToArray();
    }

    private static (int, int)? ParseShard(string? text)
    {
        if (text is null) return null;
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index >= 1 && index <= count)
        {
            return (index, count);
        }
        throw new UsageException($"--shard takes I/N with 1 <= I <= N, e.g. 2/8 (got '{text}').");
    }

    private static int Execute(CliContext context, Settings settings)
    {
        var clock = Stopwatch.StartNew();
        bool toStdout = TextInput.IsStandardStream(settings.Output);
        bool fromStdin = TextInput.IsStandardStream(settings.Input);
        CheckCombinations(settings, fromStdin);
        if (!toStdout)
        {
            OutputPaths.CheckFile(settings.Output, settings.Checkpoint, (fromStdin ? null : settings.Input, "the input FASTA file"));
            OutputPaths.RemoveLeftovers(context, "embed", settings.Output);
        }

        // A file is read twice: once to count (and check) its records, for the shard's range and the progress bar.
        int? total = fromStdin ? null : FastaReader.Read(settings.Input).Count();
        if (total == 0) throw new CliException($"FASTA file '{settings.Input}' has no records.");
        var (first, end) = settings.Shard is var (index, count) ? ShardRange(total!.Value, index, count) : (0, total ?? int.MaxValue);

        var device = TorchSetup.Device;
        using var checkpoint = Checkpoint.Load(settings.Checkpoint, context.Registry, device);
        var job = JobDescription(settings, checkpoint, fromStdin);
        if (!toStdout && IsComplete(settings, job))
        {
            context.Error.WriteLine($"rnalm embed: '{settings.Output}' is already complete for this job{ShardText(settings)}; skipped");
            return ExitCodes.Success;
        }

        var embedder = new Embedder(context, settings, checkpoint, device);
        var target = toStdout ? OutputTarget.Stream(() => { context.Out.Flush(); return context.OpenStandardOutput(); }, "standard output") : OutputTarget.File(settings.Output);
        var progress = new ProgressReporter(context.Error, context.ErrorIsTerminal, "embed", total is int t ? end - first : 0) { Unit = "records" };
        EmbeddingSink? sink = null;
        try
        {
            sink = new EmbeddingSink(settings, target, embedder.Keys);
            var records = FastaReader.Read(settings.Input).Select((record, i) => (record, i)).Where(r => r.i >= first && r.i < end);
            embedder.Run(records, sink, progress);
            progress.Finish();
            if (embedder.Records == 0) throw new CliException($"FASTA file '{settings.Input}' has no records{ShardText(settings)}.");
            var metadata = embedder.Metadata(job);
            sink.Complete(metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException)
        {
            throw OutputPaths.WriteFailed(settings.Output, e);
        }
        finally
        {
            sink?.Dispose();
        }

        double seconds = clock.Elapsed.TotalSeconds;
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rnalm embed: {embedder.Records} records{ShardText(settings)}, {embedder.Tokens} tokens, {seconds:F2} s ({embedder.Records / Math.Max(seconds, 1e-9):F1} records/s){embedder.LongSummary} -> {(toStdout ? "standard output" : settings.Output)}"));
        return ExitCodes.Success;
    }

    private static string ShardText(Settings settings) => settings.Shard is var (i, n) ? $" (shard {i}/{n})" : "";

    /// <summary>Records [first, end) of shard <paramref name="index"/> (1-based) of <paramref name="count"/>: contiguous, sizes differing by at most one.</summary>
    internal static (int First, int End) ShardRange(int total, int index, int count) =>
        ((int)((long)(index - 1) * total / count), (int)((long)index * total / count));

    private static void CheckCombinations(Settings settings, bool fromStdin)
    {
        if (settings.Format != OutputFormat.SafeTensors)
        {
            string name = settings.Format.ToString().ToLowerInvariant();
            if (settings.Include.HasFlag(Include.PerToken) || settings.HiddenStates || settings.Attentions || settings.Logits)
            {
                throw new UsageException($"--format {name} holds pooled vectors only: use --include mean and/or bos, without per-token, --hidden-states, --attentions or --logits (safetensors holds those).");
            }
            if (settings.Format == OutputFormat.Npy && (settings.Include != Include.Mean && settings.Include != Include.Bos || settings.Layers is { Length: > 1 }))
            {
                throw new UsageException("--format npy holds one matrix: choose one of --include mean or bos and at most one layer (npz holds several).");
            }
        }
        if (settings.Attentions && settings.Long == LongPolicy.Chunk)
        {
            throw new UsageException("--attentions cannot be combined with --long chunk: attention maps of separate windows do not merge into one map.");
        }
        if (settings.Shard is not null && fromStdin)
        {
            throw new UsageException("--shard needs a FASTA file: standard input cannot be counted and split.");
        }
        if (settings.Png is not null && !settings.Attentions)
        {
            throw new UsageException("--png draws attention maps: add --attentions.");
        }
        if (settings.ChunkOverlap is not null && settings.Long != LongPolicy.Chunk)
        {
            throw new UsageException("--chunk-overlap applies only with --long chunk.");
        }
    }

    /// <summary>
    /// What identifies this job's output: the input and checkpoint (path, size and modification time) and every option
    /// that changes the result. An existing output with the same description is complete (outputs are written atomically).
    /// </summary>
    private static string JobDescription(Settings settings, LoadedCheckpoint checkpoint, bool fromStdin)
    {
        static object? FileStamp(string path) => File.Exists(path)
            ? new { path = Path.GetFullPath(path), size = new FileInfo(path).Length, modified = File.GetLastWriteTimeUtc(path).Ticks }
            : null;
        var description = new
        {
            input = fromStdin ? null : FileStamp(settings.Input),
            checkpoint = Path.GetFullPath(settings.Checkpoint),
            weights = FileStamp(Path.Combine(settings.Checkpoint, Checkpoint.WeightsFile)),
            model_type = checkpoint.Config.ModelType,
            format = settings.Format.ToString().ToLowerInvariant(),
            include = settings.Include.ToString(),
            layers = settings.Layers,
            hidden_states = settings.HiddenStates,
            attentions = settings.Attentions,
            logits = settings.Logits,
            @long = settings.Long.ToString().ToLowerInvariant(),
            chunk_overlap = settings.ChunkOverlap,
            shard = settings.Shard is var (i, n) ? $"{i}/{n}" : null,
        };
        return JsonSerializer.Serialize(description);
    }

    private static bool IsComplete(Settings settings, string job)
    {
        if (!File.Exists(settings.Output)) return false;
        try
        {
            if (settings.Format == OutputFormat.SafeTensors)
            {
                using var file = SafeTensorsFile.Open(settings.Output);
                return file.Metadata.TryGetValue("rnalm_job", out var stored) && stored == job;
            }
            if (settings.Format == OutputFormat.Npz)
            {
                var arrays = NumpyReader.ReadNpz(settings.Output);
                if (!arrays.TryGetValue("metadata", out var metadata)) return false;
                using var document = JsonDocument.Parse(metadata.Strings()[0]);
                return document.RootElement.TryGetProperty("rnalm_job", out var stored) && stored.GetString() == job;
            }
        }
        catch (Exception e) when (e is FormatException or IOException or JsonException or InvalidDataException)
        {
            // Not a complete output of ours: it is replaced.
        }
        return false;
    }

    /// <summary>The tensor keys one record gets, as suffixes after <c>&lt;name&gt;.</c> (safetensors) or array names (NumPy).</summary>
    internal sealed record OutputKeys(IReadOnlyList<(int Layer, string Key)> PerToken, IReadOnlyList<(int Layer, string Key)> Mean,
        IReadOnlyList<(int Layer, string Key)> Bos, int Hidden);

    /// <summary>
    /// Receives finished records and writes them: per-token tensors as they come (safetensors), pooled vectors as rows
    /// in input order (NumPy) or per-record tensors (safetensors).
    /// </summary>
    private sealed class EmbeddingSink : IDisposable
    {
        private readonly Settings _settings;
        private readonly SafeTensorsStreamWriter? _safetensors;
        private readonly NumpyStreamWriter? _numpy;
        private readonly List<string> _names = [];

        public EmbeddingSink(Settings settings, OutputTarget target, OutputKeys keys)
        {
            _settings = settings;
            if (settings.Format == OutputFormat.SafeTensors)
            {
                _safetensors = new SafeTensorsStreamWriter(target);
                return;
            }
            _numpy = new NumpyStreamWriter(target, archive: settings.Format == OutputFormat.Npz);
            foreach (var (_, key) in keys.Mean.Concat(keys.Bos)) _numpy.AddMatrix(key, keys.Hidden);
        }

        public void Tensor(int record, int part, string name, string key, ReadOnlySpan<float> values, long[] shape) =>
            _safetensors!.Add($"{name}.{key}", values, shape, ((long)record << 16) | (uint)part);

        public void Row(int record, int part, string name, string key, ReadOnlySpan<float> values)
        {
            if (_safetensors is not null) Tensor(record, part, name, key, values, [values.Length]);
            else _numpy!.AppendRow(key, values);
        }

        public void RecordDone(string name)
        {
            if (_numpy is not null) _names.Add(name);
        }

        public void Complete(Dictionary<string, string> metadata)
        {
            if (_safetensors is not null)
            {
                _safetensors.Complete(metadata);
                return;
            }
            if (_settings.Format == OutputFormat.Npz)
            {
                _numpy!.AddStrings("names", _names);
                _numpy.AddScalarString("metadata", JsonSerializer.Serialize(metadata));
            }
            _numpy!.Complete();
        }

        public void Dispose()
        {
            _safetensors?.Dispose();
            _numpy?.Dispose();
        }
    }

    /// <summary>One model input: a whole record, or one window of a chunked record.</summary>
    private sealed record Row(int Slot, int Window, int[] Ids);

    /// <summary>A record of the current sort window, with what is known about it so far.</summary>
    private sealed class Pending(FastaRecord record, int index)
    {
        public FastaRecord Record { get; } = record;
        public int Index { get; } = index;
        public int[] Ids { get; set; } = [];
        public ChunkedRecord? Chunks { get; set; }
        public Dictionary<string, Tensor?[]> WindowOutputs { get; } = new(StringComparer.Ordinal);
        public int WindowsDone { get; set; }
        public Dictionary<string, float[]> Pooled { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Runs the model over the records and hands finished records to the sink.</summary>
    private sealed class Embedder
    {
        private readonly CliContext _context;
        private readonly Settings _settings;
        private readonly LoadedCheckpoint _checkpoint;
        private readonly Device _device;
        private readonly int _leading;
        private readonly int _trailing;
        private readonly int? _maxTokens;
        private readonly int _overlap;
        private readonly int _layerCount;
        private readonly OutputRequest _request;
        private int _truncated;
        private int _chunked;
        private readonly Plots.PictureFolder? _pictures;
        private readonly HashSet<int> _pictureLayers = [];

        public Embedder(CliContext context, Settings settings, LoadedCheckpoint checkpoint, Device device)
        {
            _context = context;
            _settings = settings;
            _checkpoint = checkpoint;
            _device = device;
            var tokenizer = checkpoint.Tokenizer;
            _leading = tokenizer.Options.AddBos && tokenizer.Vocabulary.BosId is not null ? 1 : 0;
            _trailing = tokenizer.Options.AddEos && tokenizer.Vocabulary.EosId is not null ? 1 : 0;
            _maxTokens = tokenizer.Options.ModelMaxLength;
            _layerCount = checkpoint.Config.NumHiddenLayers;
            if (settings.Include.HasFlag(Include.Bos) && _leading == 0)
            {
                throw new UsageException($"--include bos: the tokenizer of '{settings.Checkpoint}' adds no <cls> token at the start.");
            }
            int[]? layers = settings.Layers?.Select(l => ResolveLayer(l)).ToArray();
            string Suffix(string key, int layer) => layers is null ? key : $"{key}.{layer}";
            int[] chosen = layers ?? [_layerCount];
            string perTokenKey = layers is null ? "last_hidden_state" : "hidden_states";
            var perToken = new List<(int, string)>();
            if (settings.Include.HasFlag(Include.PerToken)) perToken.AddRange(chosen.Select(l => (l, layers is null ? perTokenKey : $"hidden_states.{l}")));
            if (settings.HiddenStates)
            {
                for (int l = 0; l <= _layerCount; l++)
                {
                    if (!perToken.Any(p => p.Item2 == $"hidden_states.{l}")) perToken.Add((l, $"hidden_states.{l}"));
                }
            }
            var mean = settings.Include.HasFlag(Include.Mean) ? chosen.Select(l => (l, Suffix("mean", l))).ToList() : [];
            var bos = settings.Include.HasFlag(Include.Bos) ? chosen.Select(l => (l, Suffix("bos", l))).ToList() : [];
            Keys = new OutputKeys(perToken, mean, bos, checkpoint.Config.HiddenSize);
            if (settings.Png is not null)
            {
                _pictures = new Plots.PictureFolder(settings.Png, "--png", (settings.Input, "the input FASTA file"));
                foreach (int layer in layers ?? [_layerCount]) if (layer >= 1) _pictureLayers.Add(layer);
            }
            bool needsAllLayers = Keys.PerToken.Concat(Keys.Mean).Concat(Keys.Bos).Any(k => k.Layer != _layerCount);
            _request = (needsAllLayers ? OutputRequest.HiddenStates : OutputRequest.None)
                | (settings.Attentions ? OutputRequest.Attentions : OutputRequest.None);
            if (settings.Long == LongPolicy.Chunk && _maxTokens is int max)
            {
                int window = max - _leading - _trailing;
                _overlap = settings.ChunkOverlap ?? Math.Min(128, window / 4);
                if (_overlap >= window)
                {
                    throw new UsageException($"--chunk-overlap {_overlap} must be less than the model's window of {window} tokens (its maximum of {max} less the special tokens).");
                }
            }
        }

        public OutputKeys Keys { get; }

        public int Records { get; private set; }

        public long Tokens { get; private set; }

        public string LongSummary => _settings.Long switch
        {
            LongPolicy.Truncate when _truncated > 0 => $", {_truncated} truncated",
            LongPolicy.Chunk when _chunked > 0 => $", {_chunked} chunked",
            _ => "",
        };

        private int ResolveLayer(int layer)
        {
            int resolved = layer < 0 ? _layerCount + 1 + layer : layer;
            if (resolved < 0 || resolved > _layerCount)
            {
                throw new UsageException($"--layers {layer}: the model has layers 0 (embeddings) to {_layerCount} (or -{_layerCount + 1} to -1 from the end).");
            }
            return resolved;
        }

        public Dictionary<string, string> Metadata(string job)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["model_type"] = _checkpoint.Config.ModelType,
                ["checkpoint"] = Path.GetFullPath(_settings.Checkpoint),
                ["records"] = Records.ToString(CultureInfo.InvariantCulture),
                ["long_policy"] = _settings.Long.ToString().ToLowerInvariant(),
                ["rnalm_job"] = job,
            };
            if (_maxTokens is int max) metadata["max_tokens"] = max.ToString(CultureInfo.InvariantCulture);
            if (_settings.Long == LongPolicy.Chunk)
            {
                metadata["chunk_overlap"] = _overlap.ToString(CultureInfo.InvariantCulture);
                metadata["chunked_records"] = _chunked.ToString(CultureInfo.InvariantCulture);
            }
            if (_settings.Long == LongPolicy.Truncate) metadata["truncated_records"] = _truncated.ToString(CultureInfo.InvariantCulture);
            if (_settings.Shard is var (i, n)) metadata["shard"] = $"{i}/{n}";
            if (Keys.Mean.Count > 0) metadata["mean"] = "mean over the record's tokens other than special tokens (<cls>, <eos>, <unk>, <mask>, ...)";
            if (Keys.Mean.Count + Keys.Bos.Count > 0 && _settings.Layers is not null) metadata["layers"] = string.Join(",", Keys.Mean.Concat(Keys.Bos).Select(k => k.Layer).Distinct());
            return metadata;
        }

        public void Run(IEnumerable<(FastaRecord Record, int Index)> records, EmbeddingSink sink, ProgressReporter progress)
        {
            _checkpoint.Model.Module.eval();
            using var inference = torch.inference_mode();
            var window = new List<Pending>(_settings.SortWindow);
            foreach (var (record, index) in records)
            {
                window.Add(new Pending(record, index));
                if (window.Count == _settings.SortWindow)
                {
                    RunWindow(window, sink, progress);
                    window.Clear();
                }
            }
            if (window.Count > 0) RunWindow(window, sink, progress);
        }

        /// <summary>Encodes a window of records, runs its rows sorted by length in token-budget batches and emits every record.</summary>
        private void RunWindow(List<Pending> window, EmbeddingSink sink, ProgressReporter progress)
        {
            var rows = new List<Row>();
            for (int slot = 0; slot < window.Count; slot++)
            {
                var pending = window[slot];
                rows.AddRange(Prepare(pending, slot));
            }
            rows.Sort((a, b) => a.Ids.Length.CompareTo(b.Ids.Length));
            int done = 0;
            var batch = new List<Row>();
            foreach (var row in rows)
            {
                int longest = Math.Max(batch.Count == 0 ? 0 : batch[^1].Ids.Length, row.Ids.Length);
                if (batch.Count > 0 && (batch.Count == _settings.BatchSize || (long)longest * (batch.Count + 1) > _settings.MaxBatchTokens))
                {
                    done += RunBatch(batch, window, sink);
                    progress.Report(Records, batch.Sum(r => (long)r.Ids.Length));
                    batch.Clear();
                }
                batch.Add(row);
            }
            if (batch.Count > 0)
            {
                done += RunBatch(batch, window, sink);
                progress.Report(Records, batch.Sum(r => (long)r.Ids.Length));
            }
            // Pooled rows go out in input order (a .npy/.npz row is a record; safetensors keys are ordered anyway).
            foreach (var pending in window)
            {
                int part = 1 << 15; // after the record's per-token tensors
                foreach (var (_, key) in Keys.Mean.Concat(Keys.Bos)) sink.Row(pending.Index, part++, pending.Record.Name, key, pending.Pooled[key]);
                sink.RecordDone(pending.Record.Name);
            }
        }

        /// <summary>The model inputs of one record under the long-record policy.</summary>
        private IEnumerable<Row> Prepare(Pending pending, int slot)
        {
            var tokenizer = _checkpoint.Tokenizer;
            var record = pending.Record;
            string origin = $"{Origin(record)} (#{pending.Index + 1})";
            int[] ids = RecordEncoding.Encode(tokenizer, record.Sequence, origin).InputIds;
            pending.Ids = ids;
            Tokens += ids.Length;
            if (_maxTokens is not int max || ids.Length <= max)
            {
                return [new Row(slot, -1, ids)];
            }
            switch (_settings.Long)
            {
                case LongPolicy.Truncate:
                    _truncated++;
                    int[] kept = [.. ids.AsSpan(0, max - _trailing), .. ids.AsSpan(ids.Length - _trailing)];
                    pending.Ids = kept;
                    return [new Row(slot, -1, kept)];
                case LongPolicy.Chunk:
                    _chunked++;
                    var chunks = Chunking.Split(ids, _leading, _trailing, max, _overlap);
                    pending.Chunks = chunks;
                    return chunks.WindowIds.Select((w, i) => new Row(slot, i, w)).ToList();
                default:
                    throw new CliException(
                        $"{origin} has {ids.Length} tokens (special tokens included), more than the model's maximum of {max}; " +
                        "use --long truncate or --long chunk to embed it.");
            }
        }

        private string Origin(FastaRecord record) =>
            $"{(TextInput.IsStandardStream(_settings.Input) ? "<stdin>" : _settings.Input)}:{record.Line}: record '{record.Name}'";

        /// <summary>Runs one batch and hands its finished records to the sink; returns how many records finished.</summary>
        private int RunBatch(List<Row> batch, List<Pending> window, EmbeddingSink sink)
        {
            using var scope = torch.NewDisposeScope();
            var model = _checkpoint.Model;
            int length = batch.Max(r => r.Ids.Length);
            int padId = _checkpoint.Tokenizer.Vocabulary.PadId ?? 0;
            var ids = new long[batch.Count * length];
            var mask = new long[batch.Count * length];
            Array.Fill(ids, padId);
            for (int b = 0; b < batch.Count; b++)
            {
                for (int i = 0; i < batch[b].Ids.Length; i++)
                {
                    ids[b * length + i] = batch[b].Ids[i];
                    mask[b * length + i] = 1;
                }
            }
            var inputIds = torch.tensor(ids, [batch.Count, length], ScalarType.Int64, _device);
            var attentionMask = torch.tensor(mask, [batch.Count, length], ScalarType.Int64, _device);

            BackboneOutput backbone;
            Tensor? logits = null;
            try
            {
                if (_settings.Logits)
                {
                    var result = model.Forward(inputIds, attentionMask, _request);
                    backbone = result.Backbone;
                    logits = result.Logits;
                }
                else
                {
                    backbone = model.Backbone.Forward(inputIds, attentionMask, _request);
                }
            }
            catch (ArgumentException e)
            {
                throw new CliException(Rejection(batch, window, e), e);
            }

            Tensor Layer(int layer) => layer == _layerCount || backbone.HiddenStates is null ? backbone.LastHiddenState : backbone.HiddenStates[layer];

            int finished = 0;
            for (int b = 0; b < batch.Count; b++)
            {
                var row = batch[b];
                var pending = window[row.Slot];
                int rowLength = row.Ids.Length;
                Tensor Positions(Tensor t) => t.select(0, b).narrow(0, 0, rowLength);
                var perToken = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (layer, key) in Keys.PerToken) perToken[key] = Positions(Layer(layer));
                foreach (var (layer, key) in Keys.Mean.Concat(Keys.Bos)) perToken["pool:" + key] = Positions(Layer(layer));
                if (backbone.Attentions is { } maps)
                {
                    for (int i = 0; i < maps.Count; i++) perToken[$"attentions.{i}"] = maps[i].select(0, b).narrow(1, 0, rowLength).narrow(2, 0, rowLength);
                }
                if (logits is not null) perToken["mlm_logits"] = Positions(logits);

                if (pending.Chunks is { } chunks)
                {
                    foreach (var (key, value) in perToken)
                    {
                        if (!pending.WindowOutputs.TryGetValue(key, out var parts)) pending.WindowOutputs[key] = parts = new Tensor?[chunks.Windows.Count];
                        parts[row.Window] = value.to(CPU).clone().DetachFromDisposeScope();
                    }
                    if (++pending.WindowsDone < chunks.Windows.Count) continue;
                    perToken = pending.WindowOutputs.ToDictionary(p => p.Key, p => Chunking.MergeTokens(chunks, p.Value!));
                    foreach (var parts in pending.WindowOutputs.Values)
                    {
                        foreach (var part in parts) part?.Dispose();
                    }
                    pending.WindowOutputs.Clear();
                }
                Emit(pending, perToken, sink);
                finished++;
            }
            return finished;
        }

        /// <summary>Writes one finished record: per-token tensors now, pooled vectors kept until the window ends.</summary>
        private void Emit(Pending pending, Dictionary<string, Tensor> perToken, EmbeddingSink sink)
        {
            string name = pending.Record.Name;
            int part = 0;
            foreach (var (key, value) in perToken)
            {
                if (key.StartsWith("pool:", StringComparison.Ordinal)) continue;
                if (_pictures is not null && key.StartsWith("attentions.", StringComparison.Ordinal)
                    && int.Parse(key["attentions.".Length..], CultureInfo.InvariantCulture) + 1 is int layer && _pictureLayers.Contains(layer))
                {
                    var heads = value.to_type(ScalarType.Float32).mean([0]).cpu().contiguous();
                    int length = (int)heads.shape[0];
                    float[] values = heads.data<float>().ToArray();
                    _pictures.Write(_pictures.PathFor(name, $".attention.{layer}.png"),
                        file => Plots.Charts.HeatMap(file, values, length, $"{name}: attention, layer {layer} (mean over heads)", "token", "attention"));
                }
                var cpu = value.to_type(ScalarType.Float32).cpu().contiguous();
                sink.Tensor(pending.Index, ++part, name, key, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.bytes), cpu.shape);
            }
            if (Keys.Mean.Count > 0)
            {
                var weights = NucleotideWeights(pending);
                foreach (var (_, key) in Keys.Mean)
                {
                    var states = perToken["pool:" + key].to_type(ScalarType.Float32).cpu();
                    pending.Pooled[key] = weights.matmul(states).data<float>().ToArray();
                }
            }
            foreach (var (_, key) in Keys.Bos)
            {
                pending.Pooled[key] = perToken["pool:" + key][0].to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            Records++;
        }

        /// <summary>Weights [L] that average over the record's tokens that are not special tokens.</summary>
        private Tensor NucleotideWeights(Pending pending)
        {
            var tokenizer = _checkpoint.Tokenizer;
            int[] ids = pending.Ids;
            var weights = new float[ids.Length];
            int count = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                if (!tokenizer.IsSpecialToken(ids[i]))
                {
                    weights[i] = 1;
                    count++;
                }
            }
            if (count == 0)
            {
                throw new CliException($"{Origin(pending.Record)} (#{pending.Index + 1}) has no nucleotide tokens to average for --include mean (only special tokens such as <unk> or <mask>).");
            }
            for (int i = 0; i < weights.Length; i++) weights[i] /= count;
            return torch.tensor(weights);
        }

        /// <summary>
        /// Names the records of a rejected batch that the model rejects on their own, each with its reason; only when none
        /// fails alone is the batch as a whole named.
        /// </summary>
        private string Rejection(List<Row> batch, List<Pending> window, ArgumentException batchError)
        {
            var rejected = new List<string>();
            foreach (var row in batch)
            {
                using var scope = torch.NewDisposeScope();
                var pending = window[row.Slot];
                var input = torch.tensor(row.Ids.Select(i => (long)i).ToArray(), [1, row.Ids.Length], ScalarType.Int64, _device);
                try
                {
                    _checkpoint.Model.Forward(input, torch.ones_like(input), _request);
                }
                catch (ArgumentException e)
                {
                    rejected.Add($"{Origin(pending.Record)} (#{pending.Index + 1}): the model rejected it: {ErrorReport.MessageOf(e)}");
                }
            }
            if (rejected.Count > 0) return string.Join("\n", rejected.Distinct());
            string names = string.Join(", ", batch.Select(r => window[r.Slot]).Distinct().OrderBy(p => p.Index).Select(p => $"'{p.Record.Name}' (#{p.Index + 1})"));
            return $"{_settings.Input}: the model rejected the batch of records {names}, although it accepts each alone: {ErrorReport.MessageOf(batchError)}";
        }
    }
}
