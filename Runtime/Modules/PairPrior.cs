using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Modules;

/// <summary>
/// ERNIE-RNA's base-pairing prior (models.md §2.3): a V×V pair map (A–U 2, C–G 3, G–U alpha, else 0) looked up from
/// the token ids, then the MLP <c>dense2(act(dense1(pair)))</c> (1 → h/2 → h; act is GELU unless the spec names another),
/// arranged as the first layer's attention bias [B, h, L, L]. Keys <c>pairwise_bias_proj.dense1</c>,
/// <c>pairwise_bias_proj.dense2</c>.
/// </summary>
public sealed class PairPrior : nn.Module<Tensor, Tensor>
{
    /// <summary>The largest magnitude of <c>pairwise_alpha</c> accepted: far beyond the A–U (2) and C–G (3) values, and small
    /// enough that the prior's attention biases stay finite in float32.</summary>
    public const double MaxAlpha = 1000;

    private readonly Linear dense1;
    private readonly Linear dense2;
    private readonly float[] _map;
    private readonly long _vocabSize;
    private readonly Func<Tensor, Tensor> _activation;

    /// <param name="heads">Attention heads h.</param>
    /// <param name="vocabSize">V.</param>
    /// <param name="a">Id of A.</param>
    /// <param name="c">Id of C.</param>
    /// <param name="g">Id of G.</param>
    /// <param name="u">Id of U.</param>
    /// <param name="alpha">The G–U pair value (<c>pairwise_alpha</c>).</param>
    /// <param name="activation">Activation between the two layers, by its <c>hidden_act</c> name (<see cref="Activations.Known"/>).</param>
    /// <exception cref="System.ArgumentException">Fewer than 2 heads (the MLP's hidden width h/2 would be 0), an alpha
    /// that is not a finite number of magnitude at most <see cref="MaxAlpha"/>, or an activation that is not known.</exception>
    public PairPrior(long heads, long vocabSize, long a, long c, long g, long u, double alpha, string activation = "gelu") : base("pairwise_bias_proj")
    {
        if (heads < 2)
        {
            throw new System.ArgumentException(
                $"num_attention_heads is {heads}, but the base-pairing prior projects onto h/2 hidden units and needs at least 2 heads.", nameof(heads));
        }
        if (!(System.Math.Abs(alpha) <= MaxAlpha))
        {
            throw new System.ArgumentException(
                $"pairwise_alpha is {alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}; the G–U pair value must be a number " +
                $"between -{MaxAlpha} and {MaxAlpha} (A–U pairs count 2 and C–G pairs 3).", nameof(alpha));
        }
        _activation = Activations.Resolve(activation, "pairwise bias activation");
        dense1 = nn.Linear(1, heads / 2);
        dense2 = nn.Linear(heads / 2, heads);
        _vocabSize = vocabSize;
        _map = new float[vocabSize * vocabSize];
        void Set(long x, long y, float value)
        {
            _map[x * vocabSize + y] = value;
            _map[y * vocabSize + x] = value;
        }
        Set(a, u, 2f);
        Set(c, g, 3f);
        Set(g, u, (float)alpha);
        RegisterComponents();
    }

    /// <summary>The V×V pair table on <paramref name="device"/> (made once per device and reused).</summary>
    private Tensor Table(Device device)
    {
        if (_table is null || _table.IsInvalid || _table.device != device)
        {
            _table?.Dispose();
            _table = tensor(_map, new long[] { _vocabSize, _vocabSize }, device: device).DetachFromDisposeScope(); // [V, V]
        }
        return _table;
    }

    private Tensor? _table;

    /// <summary>The pair values [B, L, L] of a batch of token ids.</summary>
    public Tensor PairMap(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        var index = (inputIds.unsqueeze(2) * _vocabSize + inputIds.unsqueeze(1)).flatten(); // [B·L·L]: row ids_i, column ids_j
        var pairs = Table(inputIds.device).view(-1).index_select(0, index).view(batch, length, length); // [B, L, L]
        return pairs.MoveToOuterDisposeScope();
    }

    /// <param name="inputIds">[B, L] token ids.</param>
    /// <returns>The first layer's attention bias [B, h, L, L].</returns>
    /// <remarks>
    /// The MLP reads one pair value at a time and a pair value depends only on the two token ids, so it runs once on
    /// the V×V table and the [B, L, L] pairs gather their h outputs from it: V² MLP rows instead of B·L².
    /// </remarks>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        var values = Table(inputIds.device).to_type(dense1.weight!.dtype).view(-1, 1);        // [V·V, 1]
        var perPair = dense2.call(_activation(dense1.call(values))).t();                       // [h, V·V]
        var index = (inputIds.unsqueeze(2) * _vocabSize + inputIds.unsqueeze(1)).flatten();   // [B·L·L]
        var bias = perPair.index_select(1, index).view(-1, batch, length, length);            // [h, B, L, L]
        return bias.transpose(0, 1).MoveToOuterDisposeScope();                                // [B, h, L, L]
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _table?.Dispose();
        base.Dispose(disposing);
    }
}
