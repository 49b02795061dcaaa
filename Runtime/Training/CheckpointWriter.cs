using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RnaLm.Checkpoints;
using RnaLm.IO;
using RnaLm.Models;
using RnaLm.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>
/// Writes model folders in the layout <see cref="Checkpoint"/> reads (<c>config.json</c>, <c>vocab.txt</c>,
/// <c>tokenizer_config.json</c>, <c>model.safetensors</c>), with tied keys left out as <c>save_pretrained</c> does, and
/// replaces folders atomically.
/// </summary>
public static class CheckpointWriter
{
    /// <summary>The file that marks a folder as written by the trainer (and holds its resumable state).</summary>
    public const string TrainerStateFile = "trainer_state.json";

    /// <summary>The optimizer moments beside a checkpoint.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>
    /// The state dict of <paramref name="module"/> without the keys a loader fills by tying (a tied key whose source
    /// is also stored) — what <c>save_pretrained</c> keeps. Tensors are the module's own (not copies).
    /// </summary>
    public static List<KeyValuePair<string, Tensor>> StateToSave(nn.Module module, CheckpointNaming naming)
    {
        var state = module.state_dict();
        var tiedAway = naming.Tied.Where(t => state.ContainsKey(t.Key) && state.ContainsKey(t.Source)).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        return state.Where(kv => !tiedAway.Contains(kv.Key) && !naming.IsIgnored(kv.Key)).Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)).ToList();
    }

    /// <summary>Writes the weights of <paramref name="module"/> to <paramref name="path"/> (safetensors, tied keys omitted).</summary>
    public static void SaveWeights(string path, nn.Module module, CheckpointNaming naming, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null) foreach (var (k, v) in metadata) meta[k] = v;
        using var noGrad = no_grad();
        SafeTensors.Save(path, StateToSave(module, naming), meta);
    }

    /// <summary>Writes <c>vocab.txt</c> and <c>tokenizer_config.json</c> the way <see cref="RnaTokenizer.FromDirectory"/> reads them.</summary>
    public static void SaveTokenizer(string directory, RnaTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var vocab = new StringBuilder();
        foreach (string token in tokenizer.Vocabulary.Tokens) vocab.Append(token).Append('\n');
        File.WriteAllText(Path.Combine(directory, Checkpoint.VocabFile), vocab.ToString(), new UTF8Encoding(false));
        var options = tokenizer.Options;
        var config = new JsonObject
        {
            // A DNA vocabulary (U rewritten to T) is MultiMolecule's DnaTokenizer; both rewrites are written explicitly
            // because their defaults depend on the class.
            ["tokenizer_class"] = options.ReplaceUWithT ? "DnaTokenizer" : "RnaTokenizer",
            ["nmers"] = options.Nmers,
            ["codon"] = options.Codon,
            ["do_upper_case"] = options.UpperCase,
            ["replace_T_with_U"] = options.ReplaceTWithU,
            ["replace_U_with_T"] = options.ReplaceUWithT,
            ["model_max_length"] = options.ModelMaxLength,
            ["bos_token"] = options.AddBos ? Vocabulary.ClsToken : null,
            ["eos_token"] = options.AddEos ? Vocabulary.EosToken : null,
            ["pad_token"] = Vocabulary.PadToken,
            ["unk_token"] = Vocabulary.UnkToken,
            ["mask_token"] = Vocabulary.MaskToken,
            ["padding_side"] = "right",
        };
        if (options.RnaTypes is { } types)
        {
            config["additional_special_tokens"] = new JsonArray(types.AllTokens.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
            config["rna_types"] = new JsonObject
            {
                ["indicator"] = types.Indicator,
                ["types"] = new JsonArray(types.Types.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            };
        }
        File.WriteAllText(Path.Combine(directory, Checkpoint.TokenizerConfigFile),
            config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", new UTF8Encoding(false));
    }

    /// <summary>Writes a complete model folder's files into <paramref name="directory"/> (which must exist).</summary>
    public static void SaveModelFiles(string directory, IModelConfig config, RnaTokenizer tokenizer, nn.Module module, CheckpointNaming naming)
    {
        File.WriteAllText(Path.Combine(directory, Checkpoint.ConfigFile), config.ToJson(), new UTF8Encoding(false));
        SaveTokenizer(directory, tokenizer);
        SaveWeights(Path.Combine(directory, Checkpoint.WeightsFile), module, naming);
    }

    /// <summary>
    /// Builds a folder in a temporary sibling (<c>.name.tmp-…</c>) with <paramref name="write"/>, then renames it to
    /// <paramref name="target"/>. An existing <paramref name="target"/> is replaced only when <paramref name="mayReplace"/>
    /// accepts it (e.g. it is an earlier checkpoint of this run); the old folder is moved aside (<c>.name.old-…</c>)
    /// first and deleted after the rename, so a crash leaves either the old or the new folder, never a half-written
    /// one, and <see cref="RemoveLeftovers"/> puts a folder moved aside back when the crash came before the rename.
    /// </summary>
    /// <exception cref="IOException">The target exists and may not be replaced, or writing failed (the message names
    /// <paramref name="target"/>, not the temporary folder).</exception>
    public static void WriteDirectoryAtomically(string target, Action<string> write, Func<string, bool> mayReplace)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        string parent = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        if (Directory.Exists(full) && !mayReplace(full))
        {
            throw new IOException($"'{target}' already exists and is not a checkpoint written by rnalm; refusing to replace it.");
        }
        if (File.Exists(full)) throw new IOException($"'{target}' is a file; refusing to replace it with a checkpoint folder.");
        string temp = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            write(temp);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException) throw SafeTensors.NamingTheDestination(e, temp, full);
            throw;
        }
        string? old = null;
        if (Directory.Exists(full))
        {
            old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
            Directory.Move(full, old);
        }
        Directory.Move(temp, full);
        if (old is not null) TryDelete(old);
    }

    /// <summary>
    /// Deletes a folder so that a crash never leaves it half deleted under its own name: it is renamed to a hidden
    /// <c>.deleting-name-…</c> sibling first (atomic), then removed; <see cref="RemoveLeftovers"/> finishes the job
    /// after a crash.
    /// </summary>
    public static void DeleteDirectoryAtomically(string directory)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string doomed = Path.Combine(Path.GetDirectoryName(full)!, $".deleting-{Path.GetFileName(full)}-{Guid.NewGuid():N}");
        Directory.Move(full, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    private static readonly Regex TemporaryFolder = new(@"^\.(?<name>checkpoint-[0-9]{7,}|final)\.tmp-[0-9a-f]{32}$", RegexOptions.CultureInvariant);
    private static readonly Regex MovedAsideFolder = new(@"^\.(?<name>checkpoint-[0-9]{7,}|final)\.old-[0-9a-f]{32}$", RegexOptions.CultureInvariant);
    private static readonly Regex DeletingFolder = new(@"^\.deleting-checkpoint-[0-9]{7,}-[0-9a-f]{32}$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Cleans what an interrupted run left in its folder, and only that: half-written <c>.checkpoint-N.tmp-…</c> and
    /// <c>.final.tmp-…</c> folders and half-deleted <c>.deleting-checkpoint-N-…</c> folders are removed; a folder moved
    /// aside for replacement (<c>.name.old-…</c>) is put back when its replacement never arrived, and removed otherwise.
    /// Nothing whose name does not match these patterns exactly is touched.
    /// </summary>
    /// <returns>The number of folders removed or put back.</returns>
    public static int RemoveLeftovers(string runDirectory)
    {
        int count = 0;
        foreach (string path in Directory.EnumerateDirectories(runDirectory, ".*").ToList())
        {
            string name = Path.GetFileName(path);
            if (FileProbe.LinkStat(path).Kind != FileKind.Directory) continue; // never follow a link out of the run folder
            if (TemporaryFolder.IsMatch(name) || DeletingFolder.IsMatch(name))
            {
                Directory.Delete(path, recursive: true);
                count++;
            }
            else if (MovedAsideFolder.Match(name) is { Success: true } aside)
            {
                string original = Path.Combine(runDirectory, aside.Groups["name"].Value);
                if (Directory.Exists(original)) Directory.Delete(path, recursive: true);
                else Directory.Move(path, original);
                count++;
            }
        }
        return count;
    }

    /// <summary>Whether a folder holds a trainer state file (so rnalm wrote it and may replace it).</summary>
    public static bool IsTrainerCheckpoint(string directory) => File.Exists(Path.Combine(directory, TrainerStateFile));

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
