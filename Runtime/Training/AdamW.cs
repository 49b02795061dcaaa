using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RnaLm.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Training;

/// <summary>Hyper-parameters of <see cref="AdamW"/>.</summary>
public sealed record AdamWOptions
{
    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.98;

    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Decoupled weight decay (0.01), applied to every parameter <see cref="AdamW.Decays"/> accepts.</summary>
    public double WeightDecay { get; init; } = 0.01;
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter) with decoupled weight decay, written out so that its whole state — the step count and
/// the two moment tensors of every parameter — can be saved to and restored from a safetensors file bit for bit.
/// Weight decay skips biases and LayerNorm weights (every parameter whose name ends in <c>.bias</c> or whose module
/// is a <c>layer_norm</c>); embeddings and linear weights decay. A parameter shared under several names (tied
/// weights) is updated once.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<Entry> _entries = new();

    private sealed record Entry(string Name, Parameter Parameter, bool Decay, Tensor ExpAvg, Tensor ExpAvgSq);

    /// <param name="parameters">Named parameters (e.g. <c>module.named_parameters()</c>); those that do not require grad are skipped.</param>
    /// <param name="options">Hyper-parameters.</param>
    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, AdamWOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Options = options ?? new AdamWOptions();
        var seen = new HashSet<IntPtr>();
        foreach (var (name, parameter) in parameters)
        {
            if (!parameter.requires_grad) continue;
            if (!seen.Add(DataPointer(parameter))) continue; // tied: the same storage under another name
            var expAvg = zeros_like(parameter).DetachFromDisposeScope();
            var expAvgSq = zeros_like(parameter).DetachFromDisposeScope();
            _entries.Add(new Entry(name, parameter, Decays(name), expAvg, expAvgSq));
        }
        if (_entries.Count == 0) throw new ArgumentException("No trainable parameters were given to the optimizer.", nameof(parameters));
    }

    public AdamWOptions Options { get; }

    /// <summary>Optimizer steps taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>Names of the parameters with weight decay.</summary>
    public IReadOnlyList<string> Decayed => _entries.Where(e => e.Decay).Select(e => e.Name).ToList();

    /// <summary>Names of the parameters without weight decay.</summary>
    public IReadOnlyList<string> NotDecayed => _entries.Where(e => !e.Decay).Select(e => e.Name).ToList();

    /// <summary>The optimized parameters (each shared tensor once).</summary>
    public IReadOnlyList<Parameter> Parameters => _entries.Select(e => e.Parameter).ToList();

    /// <summary>Whether a parameter of this name gets weight decay: not biases, not LayerNorm weights.</summary>
    public static bool Decays(string name) =>
        !name.EndsWith(".bias", StringComparison.Ordinal) && !name.EndsWith("bias", StringComparison.Ordinal) &&
        !name.Contains("layer_norm", StringComparison.Ordinal) && !name.Contains("LayerNorm", StringComparison.Ordinal);

    /// <summary>
    /// Identifies a tensor's memory (storage address plus offset), so the same parameter reached under two names or
    /// through two wrapper objects (tied weights) is recognised. Falls back to the wrapper handle for other dtypes.
    /// </summary>
    internal static IntPtr DataPointer(Tensor t)
    {
        switch (t.dtype)
        {
            case ScalarType.Float32:
            {
                using var storage = t.storage<float>();
                return storage.data_ptr() + (nint)(t.storage_offset() * sizeof(float));
            }
            case ScalarType.Float64:
            {
                using var storage = t.storage<double>();
                return storage.data_ptr() + (nint)(t.storage_offset() * sizeof(double));
            }
            default:
                return t.Handle;
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        using var noGrad = no_grad();
        foreach (var e in _entries) e.Parameter.grad?.zero_();
    }

    /// <summary>Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = _entries.Select(e => e.Parameter.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        double total = Math.Sqrt(grads.Sum(g => g.to_type(ScalarType.Float64).square().sum().item<double>()));
        if (maxNorm > 0 && total > maxNorm)
        {
            double factor = maxNorm / (total + 1e-6);
            foreach (var g in grads) g.mul_(factor);
        }
        return total;
    }

    /// <summary>One AdamW update with learning rate <paramref name="learningRate"/>; parameters without a gradient are skipped.</summary>
    public void Step(double learningRate)
    {
        StepCount++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        double correction1 = 1 - Math.Pow(b1, StepCount);
        double correction2 = 1 - Math.Pow(b2, StepCount);
        double stepSize = learningRate / correction1;
        double sqrtCorrection2 = Math.Sqrt(correction2);
        using var noGrad = no_grad();
        foreach (var e in _entries)
        {
            using var scope = NewDisposeScope();
            var grad = e.Parameter.grad;
            if (grad is null) continue;
            if (e.Decay && Options.WeightDecay != 0) e.Parameter.mul_(1 - learningRate * Options.WeightDecay);
            e.ExpAvg.mul_(b1).add_(grad, alpha: 1 - b1);
            e.ExpAvgSq.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
            var denominator = e.ExpAvgSq.sqrt().div_(sqrtCorrection2).add_(Options.Epsilon);
            e.Parameter.addcdiv_(e.ExpAvg, denominator, value: -stepSize);
        }
    }

    /// <summary>Writes the state: <c>exp_avg.&lt;name&gt;</c> and <c>exp_avg_sq.&lt;name&gt;</c> tensors, the step count and hyper-parameters as metadata.</summary>
    public void Save(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var e in _entries)
        {
            tensors.Add(new($"exp_avg.{e.Name}", e.ExpAvg));
            tensors.Add(new($"exp_avg_sq.{e.Name}", e.ExpAvgSq));
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["optimizer"] = "adamw",
            ["step"] = StepCount.ToString(CultureInfo.InvariantCulture),
            ["beta1"] = Options.Beta1.ToString("R", CultureInfo.InvariantCulture),
            ["beta2"] = Options.Beta2.ToString("R", CultureInfo.InvariantCulture),
            ["eps"] = Options.Epsilon.ToString("R", CultureInfo.InvariantCulture),
            ["weight_decay"] = Options.WeightDecay.ToString("R", CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Restores a state written by <see cref="Save"/> for the same parameters.</summary>
    /// <exception cref="FormatException">The file is not an AdamW state of these parameters (the message names what differs).</exception>
    public void Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("optimizer", out var kind) || kind != "adamw" ||
            !file.Metadata.TryGetValue("step", out var stepText) ||
            !long.TryParse(stepText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long step))
        {
            throw new FormatException($"{path}: not an AdamW optimizer state (metadata 'optimizer' and 'step' are required).");
        }
        var expectedNames = _entries.SelectMany(e => new[] { $"exp_avg.{e.Name}", $"exp_avg_sq.{e.Name}" }).ToHashSet(StringComparer.Ordinal);
        var stored = file.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var missing = expectedNames.Except(stored).ToList();
        var extra = stored.Except(expectedNames).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new FormatException($"{path}: the optimizer state does not match the model's trainable parameters " +
                $"(missing: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}; unexpected: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", …" : "")}).");
        }
        using var noGrad = no_grad();
        foreach (var e in _entries)
        {
            foreach (var (key, target) in new[] { ($"exp_avg.{e.Name}", e.ExpAvg), ($"exp_avg_sq.{e.Name}", e.ExpAvgSq) })
            {
                using var value = file.Load(key);
                if (!value.shape.SequenceEqual(target.shape)) throw new FormatException($"{path}: '{key}' has shape [{string.Join(", ", value.shape)}], the parameter [{string.Join(", ", target.shape)}].");
                target.copy_(value);
            }
        }
        StepCount = step;
    }

    public void Dispose()
    {
        foreach (var e in _entries)
        {
            e.ExpAvg.Dispose();
            e.ExpAvgSq.Dispose();
        }
        _entries.Clear();
    }
}
