using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using RnaLm.Generator.Diagnostics;

namespace RnaLm.Generator.Kinds;

/// <summary><c>"pair_prior"</c>: ERNIE-RNA's base-pairing prior, carried from layer to layer.</summary>
internal sealed class PairPriorBiasKind : AttentionBiasKind
{
    public static readonly FieldDef Alpha = new("alpha", FieldType.Number, 0.8,
        "The G–U value of the pair map (A–U 2, C–G 3); default of the config's `pairwise_alpha`.", ConfigKey: "pairwise_alpha");

    public static readonly FieldDef Activation = new("activation", FieldType.Activation, "gelu",
        "Activation between the MLP's two layers (`pairwise_bias_proj.dense1`, `.dense2`).");

    public override string Name => "pair_prior";

    public override string Summary =>
        "A pair map from the token ids (A–U 2, C–G 3, G–U `alpha`, else 0) through an MLP 1 → heads/2 → heads is layer 1's bias; each layer's pre-softmax logits are the next layer's bias (`attention_biases` outputs).";

    public override ImmutableArray<FieldDef> Fields => ImmutableArray.Create(Alpha, Activation);

    public override bool CarriesLogits => true;

    public override IEnumerable<(string Name, object? Value)> TemplateValues(KindSpec spec, KindContext context)
    {
        var vocabulary = context.Model.Variants[0].Tokenizer.Vocabulary;
        int Id(string token)
        {
            for (int i = 0; i < vocabulary.Count; i++) if (vocabulary[i] == token) return i;
            return -1;
        }
        yield return ("a", Id("A"));
        yield return ("c", Id("C"));
        yield return ("g", Id("G"));
        yield return ("u", Id("U"));
        string activation = spec.Get<string>("activation");
        yield return ("activation_arg", activation == "gelu" ? "" : ", activation: " + Emit.Code.String(activation));
    }

    public override IEnumerable<ParamDecl> Params(KindSpec spec, KindContext context)
    {
        var half = Vars.Heads / 2;
        yield return ParamDecl.Backbone("pairwise_bias_proj.dense1.weight", half, Expr.One);
        yield return ParamDecl.Backbone("pairwise_bias_proj.dense1.bias", half);
        yield return ParamDecl.Backbone("pairwise_bias_proj.dense2.weight", Vars.Heads, half);
        yield return ParamDecl.Backbone("pairwise_bias_proj.dense2.bias", Vars.Heads);
    }

    public override FlopTerms Flops(KindSpec spec, KindContext context) =>
        new(Vars.V * Vars.V * (Vars.Heads / 2 + Vars.Heads / 2 * Vars.Heads), Expr.Zero, Expr.Zero,
            "V²·(h/2)·(1 + h) for the pair-prior MLP, run once on the V×V pair table and gathered for the token pairs");

    public override void Check(KindRules rules, KindSpec spec)
    {
        if (rules.Value("attention.softmax") is "queries")
        {
            rules.Report(DiagnosticDescriptors.InvalidPairPrior, new[] { "attention.softmax", "attention.biases.pair_prior" },
                "with softmax \"queries\"; it needs softmax \"keys\"");
        }
        if (rules.Value("tokenizer.vocabulary") is ImmutableArray<string> vocabulary && !vocabulary.IsDefault
            && !(vocabulary.Contains("A") && vocabulary.Contains("C") && vocabulary.Contains("G") && vocabulary.Contains("U")))
        {
            rules.Report(DiagnosticDescriptors.InvalidPairPrior, new[] { "tokenizer.alphabet", "tokenizer.segmentation", "attention.biases.pair_prior" },
                "with a vocabulary that lacks the single-letter tokens A, C, G and U");
        }
        if (rules.Value("dims.heads") is int heads && heads / 2 == 0)
        {
            rules.Report(DiagnosticDescriptors.InvalidPairPrior, new[] { "dims.heads", "attention.biases.pair_prior" },
                "with " + heads.ToString(System.Globalization.CultureInfo.InvariantCulture) + " attention head: its MLP 1 -> heads/2 -> heads needs at least 2 heads");
        }
    }
}
