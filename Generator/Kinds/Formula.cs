using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace RnaLm.Generator.Kinds;

/// <summary>
/// An integer formula over configuration values: the one definition of a parameter shape or a FLOP count, evaluated
/// at compile time (constants per variant) and printed as C# for the config class (the same formula at run time).
/// Variables are the local names the emitted code declares (<see cref="Vars"/>).
/// </summary>
internal abstract class Expr : IEquatable<Expr>
{
    public static readonly Expr Zero = new Const(0);
    public static readonly Expr One = new Const(1);

    public static Expr C(long value) => new Const(value);

    public static Expr V(string name) => new Var(name);

    public static Expr operator +(Expr a, Expr b) => a is Const { Value: 0 } ? b : b is Const { Value: 0 } ? a : a is Const x && b is Const y ? C(x.Value + y.Value) : new Binary('+', a, b);

    public static Expr operator -(Expr a, Expr b) => b is Const { Value: 0 } ? a : new Binary('-', a, b);

    public static Expr operator *(Expr a, Expr b) =>
        a is Const { Value: 0 } || b is Const { Value: 0 } ? Zero
        : a is Const { Value: 1 } ? b : b is Const { Value: 1 } ? a
        : a is Const x && b is Const y ? C(x.Value * y.Value) : new Binary('*', a, b);

    /// <summary>Integer division, truncating (as C# and as Python's <c>//</c> for non-negative operands).</summary>
    public static Expr operator /(Expr a, Expr b) => b is Const { Value: 1 } ? a : new Binary('/', a, b);

    public static implicit operator Expr(long value) => C(value);

    /// <summary>
    /// <c>int(numerator / denominator · e)</c> in double arithmetic, exactly as Python computes RiNALMo's
    /// <c>int(2 / 3 · intermediate_size)</c>: printed as <c>(long)(2.0 / 3.0 * e)</c>, evaluated the same way.
    /// </summary>
    public static Expr TruncatedFraction(double numerator, double denominator, Expr e) => new Fraction(numerator, denominator, e);

    /// <summary><paramref name="then"/> when the config's boolean property <paramref name="property"/> is true, else 0.</summary>
    public static Expr If(string property, Expr then) => then is Const { Value: 0 } ? Zero : new Conditional(property, then);

    /// <summary>Sum of terms (0 when empty).</summary>
    public static Expr Sum(IEnumerable<Expr> terms) => terms.Aggregate(Zero, (a, b) => a + b);

    public abstract long Evaluate(IReadOnlyDictionary<string, long> values);

    /// <summary>C# source text (<c>checked</c> context is up to the caller).</summary>
    public abstract string ToCSharp();

    /// <summary>The operator precedence when printed (higher binds tighter).</summary>
    protected virtual int Precedence => 10;

    protected string Wrap(int outer) => Precedence < outer ? "(" + ToCSharp() + ")" : ToCSharp();

    public abstract bool Equals(Expr? other);

    public override bool Equals(object? obj) => obj is Expr e && Equals(e);

    public override int GetHashCode() => ToCSharp().GetHashCode();

    public override string ToString() => ToCSharp();

    private sealed class Const : Expr
    {
        public Const(long value) => Value = value;

        public long Value { get; }

        public override long Evaluate(IReadOnlyDictionary<string, long> values) => Value;

        public override string ToCSharp() => Value.ToString(CultureInfo.InvariantCulture);

        public override bool Equals(Expr? other) => other is Const c && c.Value == Value;
    }

    private sealed class Var : Expr
    {
        public Var(string name) => Name = name;

        public string Name { get; }

        public override long Evaluate(IReadOnlyDictionary<string, long> values) =>
            values.TryGetValue(Name, out var v) ? v : throw new InvalidOperationException("formula variable '" + Name + "' has no value");

        public override string ToCSharp() => Name;

        public override bool Equals(Expr? other) => other is Var v && v.Name == Name;
    }

    private sealed class Binary : Expr
    {
        public Binary(char op, Expr left, Expr right)
        {
            Op = op;
            Left = left;
            Right = right;
        }

        public char Op { get; }

        public Expr Left { get; }

        public Expr Right { get; }

        protected override int Precedence => Op is '+' or '-' ? 1 : 2;

        public override long Evaluate(IReadOnlyDictionary<string, long> values)
        {
            long a = Left.Evaluate(values), b = Right.Evaluate(values);
            return checked(Op switch
            {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                _ => a / b,
            });
        }

        // Left-associative, and integer division does not associate with multiplication: the right operand keeps its
        // parentheses at equal precedence unless both operators are the same associative one.
        public override string ToCSharp() =>
            Left.Wrap(Precedence) + " " + Op + " " + Right.Wrap(Right is Binary b && b.Op == Op && Op is '+' or '*' ? Precedence : Precedence + 1);

        public override bool Equals(Expr? other) => other is Binary b && b.Op == Op && b.Left.Equals(Left) && b.Right.Equals(Right);
    }

    private sealed class Conditional : Expr
    {
        public Conditional(string property, Expr then)
        {
            Property = property;
            Then = then;
        }

        public string Property { get; }

        public Expr Then { get; }

        public override long Evaluate(IReadOnlyDictionary<string, long> values) =>
            values.TryGetValue(Property, out var v) ? (v != 0 ? Then.Evaluate(values) : 0) : throw new InvalidOperationException("formula condition '" + Property + "' has no value");

        public override string ToCSharp() => "(" + Property + " ? " + Then.ToCSharp() + " : 0)";

        public override bool Equals(Expr? other) => other is Conditional c && c.Property == Property && c.Then.Equals(Then);
    }

    private sealed class Fraction : Expr
    {
        public Fraction(double numerator, double denominator, Expr inner)
        {
            Numerator = numerator;
            Denominator = denominator;
            Inner = inner;
        }

        public double Numerator { get; }

        public double Denominator { get; }

        public Expr Inner { get; }

        public override long Evaluate(IReadOnlyDictionary<string, long> values) => (long)(Numerator / Denominator * Inner.Evaluate(values));

        public override string ToCSharp() =>
            "(long)(" + Emit.Code.Double(Numerator) + " / " + Emit.Code.Double(Denominator) + " * " + Inner.Wrap(3) + ")";

        public override bool Equals(Expr? other) =>
            other is Fraction f && f.Numerator.Equals(Numerator) && f.Denominator.Equals(Denominator) && f.Inner.Equals(Inner);
    }
}

/// <summary>The formula variables: the locals <c>CountBackboneParameters()</c> and <c>ForwardFlops()</c> declare.</summary>
internal static class Vars
{
    /// <summary>hidden_size.</summary>
    public static readonly Expr H = Expr.V("h");
    /// <summary>intermediate_size.</summary>
    public static readonly Expr I = Expr.V("i");
    /// <summary>vocab_size.</summary>
    public static readonly Expr V = Expr.V("v");
    /// <summary>num_hidden_layers.</summary>
    public static readonly Expr N = Expr.V("n");
    /// <summary>num_attention_heads.</summary>
    public static readonly Expr Heads = Expr.V("heads");
    /// <summary>max_position_embeddings.</summary>
    public static readonly Expr P = Expr.V("p");
    /// <summary>type_vocab_size.</summary>
    public static readonly Expr T = Expr.V("t");
    /// <summary>The sequence length in tokens (FLOPs only).</summary>
    public static readonly Expr L = Expr.V("l");

    /// <summary>Each variable with the config property it reads.</summary>
    public static readonly IReadOnlyList<(string Name, string Property)> Properties = new[]
    {
        ("h", "HiddenSize"), ("i", "IntermediateSize"), ("v", "VocabSize"), ("n", "NumHiddenLayers"),
        ("heads", "NumAttentionHeads"), ("p", "MaxPositionEmbeddings"), ("t", "TypeVocabSize"),
    };
}

/// <summary>Where a parameter lives: the backbone's embeddings/encoder/model level, or once per layer.</summary>
internal enum ParamScope
{
    /// <summary>A key under the backbone prefix, e.g. <c>embeddings.word_embeddings.weight</c>.</summary>
    Backbone,
    /// <summary>A key under <c>encoder.layer.{i}.</c>, repeated for every layer.</summary>
    Layer,
}

/// <summary>
/// One tensor of the backbone's state dict as a kind declares it: its key (relative to the backbone prefix, or to
/// <c>encoder.layer.{i}</c>), its shape as formulas, and whether model cards count it (stored rotary frequencies are not).
/// The parameter count and the structure tests are derived from these declarations.
/// </summary>
/// <param name="Condition">A boolean config property the tensor exists under (a config-bound switch), or null.</param>
internal sealed record ParamDecl(ParamScope Scope, string Key, Expr[] Shape, bool Counted = true, string? Condition = null)
{
    public Expr Elements => Condition is null ? Product : Expr.If(Condition, Product);

    private Expr Product => Shape.Aggregate(Expr.One, (a, b) => a * b);

    public bool Equals(ParamDecl? other) =>
        other is not null && Scope == other.Scope && Key == other.Key && Counted == other.Counted && Condition == other.Condition && Shape.SequenceEqual(other.Shape);

    public override int GetHashCode() => (Scope, Key).GetHashCode();

    public static ParamDecl Backbone(string key, params Expr[] shape) => new(ParamScope.Backbone, key, shape);

    public static ParamDecl Layer(string key, params Expr[] shape) => new(ParamScope.Layer, key, shape);
}

/// <summary>
/// Multiply-adds of one forward pass as a polynomial in the length L: <c>PerSequence + PerToken·L + PerPair·L²</c>
/// (<c>ForwardFlops</c> doubles them). Each kind adds its own terms.
/// </summary>
internal sealed record FlopTerms(Expr PerSequence, Expr PerToken, Expr PerPair, string Description)
{
    public static FlopTerms None => new(Expr.Zero, Expr.Zero, Expr.Zero, "");
}
