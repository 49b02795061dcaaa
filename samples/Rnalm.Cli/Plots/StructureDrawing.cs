using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace RnaLm.Cli.Plots;

/// <summary>
/// Draws an RNA secondary structure as SVG with a planar layout: the exterior loop along a horizontal line, every stem
/// as a ladder of base pairs, every hairpin, internal and multi-branch loop as a circle through its bases (each
/// backbone step and each closing pair a chord of the circle), pseudoknot pairs — those that cross the nested pairs —
/// as curved arcs, and a position number every 10 nucleotides.
/// </summary>
internal static class StructureDrawing
{
    private const double Scale = 18; // pixels per backbone step
    private const double Rung = 1.2; // pair width in backbone steps

    private readonly record struct Point(double X, double Y)
    {
        public static Point operator +(Point a, Point b) => new(a.X + b.X, a.Y + b.Y);
        public static Point operator -(Point a, Point b) => new(a.X - b.X, a.Y - b.Y);
        public static Point operator *(Point a, double s) => new(a.X * s, a.Y * s);
        public double Length => Math.Sqrt(X * X + Y * Y);
        public Point Unit => Length > 1e-12 ? this * (1 / Length) : new Point(0, -1);
    }

    /// <summary>
    /// The SVG of one structure.
    /// </summary>
    /// <param name="title">Shown above the drawing (the record name).</param>
    /// <param name="sequence">One character per position (the letters drawn in the bases).</param>
    /// <param name="pairs">Base pairs (0-based i &lt; j); each position pairs at most once.</param>
    public static string Svg(string title, string sequence, IReadOnlyList<(int I, int J)> pairs)
    {
        int n = sequence.Length;
        var (nested, knots) = SplitNested(n, pairs);
        var partner = Enumerable.Repeat(-1, n).ToArray();
        foreach (var (i, j) in nested)
        {
            partner[i] = j;
            partner[j] = i;
        }
        var position = new Point[n];
        var outward = new Point[n];
        LayOutExterior(partner, position, outward);

        double minX = position.Min(p => p.X) - 2.5, maxX = position.Max(p => p.X) + 2.5;
        double minY = position.Min(p => p.Y) - 2.5, maxY = position.Max(p => p.Y) + 2.5;
        foreach (var (i, j) in knots) minY = Math.Min(minY, Math.Min(position[i].Y, position[j].Y) - ArcHeight(position[i], position[j]) - 1);
        double width = (maxX - minX) * Scale, height = (maxY - minY) * Scale + 30;
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        string X(Point p) => F((p.X - minX) * Scale);
        string Y(Point p) => F((p.Y - minY) * Scale + 30);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" font-family=\"sans-serif\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(width - 8)}\" y=\"20\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{n} nt, {nested.Count + knots.Count} pairs{(knots.Count > 0 ? $" ({knots.Count} pseudoknotted)" : "")}</text>\n");

        svg.Append("<g stroke=\"#999\" stroke-width=\"1.5\" fill=\"none\">\n");
        for (int k = 0; k + 1 < n; k++) svg.Append($"<line x1=\"{X(position[k])}\" y1=\"{Y(position[k])}\" x2=\"{X(position[k + 1])}\" y2=\"{Y(position[k + 1])}\"/>\n");
        svg.Append("</g>\n<g stroke=\"#1f4e9c\" stroke-width=\"2.5\">\n");
        foreach (var (i, j) in nested) svg.Append($"<line class=\"pair\" x1=\"{X(position[i])}\" y1=\"{Y(position[i])}\" x2=\"{X(position[j])}\" y2=\"{Y(position[j])}\"/>\n");
        svg.Append("</g>\n<g stroke=\"#d1495b\" stroke-width=\"1.8\" stroke-dasharray=\"5 3\" fill=\"none\">\n");
        foreach (var (i, j) in knots)
        {
            var a = position[i];
            var b = position[j];
            var middle = (a + b) * 0.5;
            var control = new Point(middle.X, Math.Min(a.Y, b.Y) - 2 * ArcHeight(a, b));
            svg.Append($"<path class=\"pseudoknot\" d=\"M {X(a)} {Y(a)} Q {X(control)} {Y(control)} {X(b)} {Y(b)}\"/>\n");
        }
        svg.Append("</g>\n<g font-size=\"10\" text-anchor=\"middle\" dominant-baseline=\"central\">\n");
        for (int k = 0; k < n; k++)
        {
            string fill = partner[k] >= 0 ? "#dce8fa" : knots.Any(p => p.I == k || p.J == k) ? "#fbe0e4" : "#f2f2f2";
            svg.Append($"<circle cx=\"{X(position[k])}\" cy=\"{Y(position[k])}\" r=\"{F(0.42 * Scale)}\" fill=\"{fill}\" stroke=\"#666\" stroke-width=\"0.8\"/>");
            svg.Append($"<text x=\"{X(position[k])}\" y=\"{Y(position[k])}\">{Escape(sequence[k].ToString())}</text>\n");
        }
        svg.Append("</g>\n<g font-size=\"9\" fill=\"#333\" text-anchor=\"middle\" dominant-baseline=\"central\">\n");
        for (int k = 9; k < n; k += 10)
        {
            var label = position[k] + outward[k] * 1.35;
            svg.Append($"<line x1=\"{X(position[k] + outward[k] * 0.5)}\" y1=\"{Y(position[k] + outward[k] * 0.5)}\" x2=\"{X(position[k] + outward[k] * 0.9)}\" y2=\"{Y(position[k] + outward[k] * 0.9)}\" stroke=\"#333\" stroke-width=\"0.8\"/>");
            svg.Append($"<text class=\"number\" x=\"{X(label)}\" y=\"{Y(label)}\">{k + 1}</text>\n");
        }
        svg.Append("</g>\n</svg>\n");
        return svg.ToString();
    }

    private static double ArcHeight(Point a, Point b) => Math.Min(6, 0.25 * (a - b).Length + 1);

    /// <summary>
    /// The largest pseudoknot-free part is drawn in the plane: pairs are taken 5'→3' and kept unless they cross a pair
    /// already kept; the others are pseudoknot pairs, drawn as arcs.
    /// </summary>
    private static (List<(int I, int J)> Nested, List<(int I, int J)> Knots) SplitNested(int n, IReadOnlyList<(int I, int J)> pairs)
    {
        var nested = new List<(int, int)>();
        var knots = new List<(int, int)>();
        foreach (var (i0, j0) in pairs.Select(p => (Math.Min(p.I, p.J), Math.Max(p.I, p.J))).OrderBy(p => p.Item1))
        {
            if (i0 < 0 || j0 >= n) throw new ArgumentException($"Pair ({i0 + 1}, {j0 + 1}) lies outside the {n} positions.");
            bool crosses = nested.Any(p => (p.Item1 < i0 && i0 < p.Item2 && p.Item2 < j0) || (i0 < p.Item1 && p.Item1 < j0 && j0 < p.Item2));
            (crosses ? knots : nested).Add((i0, j0));
        }
        return (nested, knots);
    }

    /// <summary>The exterior loop along the x axis; each top-level stem rises from it as a ladder (towards negative y).</summary>
    private static void LayOutExterior(int[] partner, Point[] position, Point[] outward)
    {
        double x = 0;
        for (int k = 0; k < partner.Length;)
        {
            if (partner[k] > k)
            {
                int j = partner[k];
                position[k] = new Point(x, 0);
                position[j] = new Point(x + Rung, 0);
                LayOutStem(k, j, new Point(0, -1), partner, position, outward);
                x += Rung + 1;
                k = j + 1;
            }
            else
            {
                position[k] = new Point(x, 0);
                outward[k] = new Point(0, 1);
                x += 1;
                k++;
            }
        }
    }

    /// <summary>A stem whose outermost pair (i, j) is placed, growing along <paramref name="direction"/>, then the loop it closes.</summary>
    private static void LayOutStem(int i, int j, Point direction, int[] partner, Point[] position, Point[] outward)
    {
        var across = (position[j] - position[i]).Unit;
        outward[i] = across * -1;
        outward[j] = across;
        while (i + 1 < j - 1 && partner[i + 1] == j - 1)
        {
            position[i + 1] = position[i] + direction;
            position[j - 1] = position[j] + direction;
            i++;
            j--;
            outward[i] = across * -1;
            outward[j] = across;
        }
        LayOutLoop(i, j, direction, partner, position, outward);
    }

    /// <summary>
    /// The loop closed by pair (i, j): its bases on a circle whose chords are the backbone steps (length 1) and the
    /// pairs that close it and its branches (length <see cref="Rung"/>); each branch continues as a stem pointing away
    /// from the circle's centre.
    /// </summary>
    private static void LayOutLoop(int i, int j, Point direction, int[] partner, Point[] position, Point[] outward)
    {
        var vertices = new List<int> { i };
        var chords = new List<double>();
        var branches = new List<(int A, int B)>();
        for (int k = i + 1; k < j;)
        {
            chords.Add(1);
            vertices.Add(k);
            if (partner[k] > k)
            {
                chords.Add(Rung);
                vertices.Add(partner[k]);
                branches.Add((k, partner[k]));
                k = partner[k] + 1;
            }
            else
            {
                k++;
            }
        }
        chords.Add(1); // last loop base (or i itself) to j
        vertices.Add(j);
        double radius = Radius(chords.Append(Rung).ToList());

        var middle = (position[i] + position[j]) * 0.5;
        double offset = Math.Sqrt(Math.Max(0, radius * radius - Rung * Rung / 4));
        var centre = middle + direction * offset;
        double start = Math.Atan2(position[i].Y - centre.Y, position[i].X - centre.X);
        double end = Math.Atan2(position[j].Y - centre.Y, position[j].X - centre.X);
        double closing = 2 * Math.Asin(Math.Min(1, Rung / (2 * radius)));
        // Walk from i around the far side of the circle to j: the sense for which the walk ends at j.
        double sense = Math.Abs(Normalize(start + (2 * Math.PI - closing) - end)) < Math.Abs(Normalize(start - (2 * Math.PI - closing) - end)) ? 1 : -1;
        double angle = start;
        for (int v = 1; v < vertices.Count - 1; v++)
        {
            angle += sense * 2 * Math.Asin(Math.Min(1, chords[v - 1] / (2 * radius)));
            position[vertices[v]] = centre + new Point(Math.Cos(angle), Math.Sin(angle)) * radius;
            outward[vertices[v]] = (position[vertices[v]] - centre).Unit;
        }
        foreach (var (a, b) in branches)
        {
            var branchDirection = ((position[a] + position[b]) * 0.5 - centre).Unit;
            LayOutStem(a, b, branchDirection, partner, position, outward);
        }
    }

    /// <summary>The radius at which chords of the given lengths go once around a circle (bisection).</summary>
    private static double Radius(IReadOnlyList<double> chords)
    {
        double longest = chords.Max();
        double low = longest / 2, high = chords.Sum();
        for (int step = 0; step < 100; step++)
        {
            double r = (low + high) / 2;
            double total = chords.Sum(c => 2 * Math.Asin(Math.Min(1, c / (2 * r))));
            if (total > 2 * Math.PI) low = r;
            else high = r;
        }
        return (low + high) / 2;
    }

    private static double Normalize(double angle)
    {
        while (angle > Math.PI) angle -= 2 * Math.PI;
        while (angle < -Math.PI) angle += 2 * Math.PI;
        return angle;
    }

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
