using MyRnaModels.Models;
using RnaLm.Native;
using TorchSharp;

// Load libtorch first: if a native library cannot load, the exception names the file and the reason.
var libraries = LibTorch.Load();
Console.WriteLine($"libtorch: {libraries.TorchCpu}");

// The generator registered the spec's variant in this project's catalog (namespace = RootNamespace).
var variant = MyRnaModels.ModelCatalog.Registry.GetVariant("minibert");
var config = (MiniBertConfig)variant.Config;
var tokenizer = variant.CreateTokenizer();

torch.manual_seed(2024);
using var model = new MiniBertModel(config);
model.eval();

var encoded = tokenizer.Encode("ACGUACGUNN");
var (ids, mask) = encoded.ToTensors();
using (torch.inference_mode())
{
    var output = model.Forward(ids, mask);
    Console.WriteLine($"shape: [{string.Join(", ", output.LastHiddenState.shape)}]");
}
long counted = model.parameters().Sum(p => p.numel());
Console.WriteLine($"parameters: {counted} counted, {variant.Parameters} declared");
