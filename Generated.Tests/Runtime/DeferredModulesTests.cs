using System;
using System.IO;
using System.Linq;
using RnaLm.Checkpoints;
using RnaLm.Models;
using RnaLm.Modules;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace RnaLm.Tests.Runtime;

/// <summary>
/// Models built on the meta device and given storage afterwards (what <see cref="Checkpoint.Load"/> does): the same
/// state dict as a model built normally, shared tensors still shared, computed buffers computed, and a refusal for a
/// module whose tensors the materializer cannot reach.
/// </summary>
public sealed class DeferredModulesTests
{
    private static SpliceBertConfig TinySpliceBert() =>
        SpliceBertConfig.FromJson(File.ReadAllText(Path.Combine(Fixtures.Models("splicebert"), "config.json")), "splicebert/config.json");

    [Fact]
    public void AMaterializedModelHasTheStateDictOfANormallyBuiltOneOnTheCpu()
    {
        var config = TinySpliceBert();
        using var normal = new SpliceBertForMaskedLM(config, addPoolingLayer: true);
        using var deferred = DeferredModules.BuildOnMeta(() => new SpliceBertForMaskedLM(config, addPoolingLayer: true));
        Assert.All(deferred.parameters(), p => Assert.True(p.is_meta));

        DeferredModules.Materialize(deferred, CPU);

        var expected = normal.state_dict();
        var actual = deferred.state_dict();
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.shape, actual[key].shape);
            Assert.Equal(tensor.dtype, actual[key].dtype);
            Assert.Equal(DeviceType.CPU, actual[key].device_type);
        }
        Assert.All(deferred.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void TheTiedDecoderStillSharesTheWordEmbeddingsAndTheBiasStaysOneTensor()
    {
        var config = TinySpliceBert();
        using var model = DeferredModules.BuildOnMeta(() => new SpliceBertForMaskedLM(config));
        DeferredModules.Materialize(model, CPU);
        var state = model.state_dict();
        // Writing through one name is seen through the other.
        using (no_grad())
        {
            state["model.embeddings.word_embeddings.weight"].fill_(0.25f);
            state["lm_head.bias"].fill_(-1.5f);
        }
        Assert.Equal(0.25f, state["lm_head.decoder.weight"][3, 1].item<float>());
        Assert.Equal(-1.5f, state["lm_head.decoder.bias"][2].item<float>());
    }

    [Fact]
    public void ComputedRotaryFrequenciesAreComputedAgain()
    {
        string json = File.ReadAllText(Path.Combine(Fixtures.Models("rinalmo"), "config.json"));
        var config = RiNalmoConfig.FromJson(json, "rinalmo/config.json");
        using var normal = new RiNalmoModel(config);
        using var deferred = DeferredModules.BuildOnMeta(() => new RiNalmoModel(config));
        DeferredModules.Materialize(deferred, CPU);
        var rotary = deferred.modules().OfType<RotaryEmbedding>().ToList();
        Assert.NotEmpty(rotary);
        using var x = ones(1, 2, 6, config.HiddenSize / config.NumAttentionHeads);
        // The rotation depends only on the frequencies: equal outputs mean equal frequencies.
        using var expected = normal.modules().OfType<RotaryEmbedding>().First().call(x);
        using var actual = rotary[0].call(x);
        Assert.True(expected.allclose(actual, rtol: 0, atol: 0), "the rotary frequencies differ from a normally built model's");
    }

    [Fact]
    public void MaterializedTensorsAreSeparateContiguousLeavesThatTrain()
    {
        var config = TinySpliceBert();
        using var model = DeferredModules.BuildOnMeta(() => new SpliceBertForMaskedLM(config, addPoolingLayer: true));
        DeferredModules.Materialize(model, CPU);
        var parameters = model.named_parameters().ToList();
        using (no_grad())
        {
            for (int i = 0; i < parameters.Count; i++) parameters[i].parameter.fill_((float)i);
        }
        // Each tensor kept its own values: the block's views do not overlap.
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, parameter) = parameters[i];
            Assert.True(parameter.is_contiguous(), $"{name} is not contiguous");
            Assert.True(parameter.is_leaf, $"{name} is not a leaf");
            Assert.Equal((float)i, parameter.min().item<float>());
            Assert.Equal((float)i, parameter.max().item<float>());
        }

        // Two optimizer steps, each between a forward and its backward, like a fine-tuning run.
        torch.manual_seed(3);
        using (no_grad())
        {
            foreach (var (_, parameter) in parameters) parameter.normal_(0, 0.05);
        }
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-2);
        using var ids = tensor(new long[,] { { 1, 6, 7, 8, 9, 2 } });
        using var mask = ones(1, 6, ScalarType.Int64);
        float first = 0, last = 0;
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.Forward(ids, mask).Logits;
            var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), ids.view(-1));
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first, $"the loss did not fall ({first} then {last})");
    }

    /// <summary>A module with a tensor field assigned after registration: neither a parameter nor a buffer.</summary>
    private sealed class HiddenTensorModule : nn.Module<Tensor, Tensor>
    {
        private readonly Linear dense;
        private readonly Tensor _notRegistered;

        public HiddenTensorModule() : base("hidden")
        {
            dense = nn.Linear(2, 2);
            RegisterComponents();
            _notRegistered = zeros(3).DetachFromDisposeScope();
        }

        public override Tensor forward(Tensor input) => dense.call(input) + _notRegistered.sum();
    }

    [Fact]
    public void AModuleHoldingATensorOutsideItsParametersAndBuffersIsRefused()
    {
        using var module = DeferredModules.BuildOnMeta(() => new HiddenTensorModule());
        Assert.Empty(module.named_buffers());
        var e = Assert.Throws<InvalidOperationException>(() => DeferredModules.Materialize(module, CPU));
        Assert.Contains("HiddenTensorModule._notRegistered", e.Message, StringComparison.Ordinal);
    }
}
