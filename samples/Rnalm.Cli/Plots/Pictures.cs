using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using RnaLm.IO;
using ScottPlot;

namespace RnaLm.Cli.Plots;

/// <summary>
/// A folder given to <c>--svg</c> or <c>--png</c>: created when missing, one file per record named after it (characters
/// other than letters, digits, '.', '-' and '_' become '_'; a name used twice gets a number). Files are written under a
/// temporary name and renamed, and never over one of the command's inputs.
/// </summary>
internal sealed class PictureFolder
{
    private readonly string _folder;
    private readonly string _option;
    private readonly (string? Path, string Description)[] _inputs;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public PictureFolder(string folder, string option, params (string? Path, string Description)[] inputs)
    {
        var status = FileProbe.Stat(folder);
        if (status.Kind is not (FileKind.Missing or FileKind.Directory))
        {
            throw new UsageException($"{option} '{folder}' is a file; give a folder for the pictures.");
        }
        _folder = folder;
        _option = option;
        _inputs = inputs;
    }

    /// <summary>The file for record <paramref name="name"/> with <paramref name="suffix"/> (e.g. ".svg").</summary>
    public string PathFor(string name, string suffix)
    {
        var safe = new StringBuilder();
        foreach (char c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        string stem = safe.Length == 0 || safe[0] == '.' ? "_" + safe : safe.ToString();
        string file = stem + suffix;
        for (int n = 2; !_used.Add(file); n++) file = $"{stem}-{n}{suffix}";
        return Path.Combine(_folder, file);
    }

    /// <summary>Writes one picture with <paramref name="write"/> (given a temporary path) and moves it into place.</summary>
    public void Write(string path, Action<string> write)
    {
        Directory.CreateDirectory(_folder);
        if (File.Exists(path))
        {
            foreach (var (input, description) in _inputs)
            {
                if (input is not null && File.Exists(input) && FileProbe.SameObject(path, input))
                {
                    throw new UsageException($"{_option}: '{path}' is {description} '{input}'; refusing to overwrite it.");
                }
            }
        }
        string temporary = path + ".tmp-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12] + Path.GetExtension(path);
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new CliException($"Cannot write {_option} picture '{path}': {e.Message}", e);
        }
    }
}

/// <summary>PNG pictures drawn with ScottPlot: heat maps of contact and attention maps, and training curves.</summary>
internal static class Charts
{
    /// <summary>
    /// A heat map of a square [L, L] matrix (row-major), position 1 at the top left, with a colour bar; values are
    /// shown on a fixed [0, 1] scale when they are probabilities.
    /// </summary>
    public static void HeatMap(string path, float[] values, int length, string title, string axis, string scale)
    {
        var data = new double[length, length];
        for (int i = 0; i < length; i++)
        {
            for (int j = 0; j < length; j++) data[i, j] = values[i * length + j];
        }
        var plot = new Plot();
        var map = plot.Add.Heatmap(data);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, 1);
        map.Extent = new CoordinateRect(0.5, length + 0.5, length + 0.5, 0.5);
        var bar = plot.Add.ColorBar(map);
        bar.Label = scale;
        plot.Title(title);
        plot.XLabel($"{axis} j");
        plot.YLabel($"{axis} i");
        plot.Axes.SetLimits(0.5, length + 0.5, length + 0.5, 0.5);
        int size = Math.Clamp(length * 6 + 200, 500, 1400);
        plot.SavePng(path, size + 90, size);
    }

    /// <summary>
    /// Training and held-out loss against the step from a run's <c>trainer_state.json</c> (its <c>loss_history</c> and
    /// <c>evaluations</c>), with the held-out accuracy on the right axis when the evaluations have one.
    /// </summary>
    public static void TrainingCurves(string statePath, string path, string title)
    {
        var state = JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
        var plot = new Plot();
        if (state["loss_history"] is JsonArray history && history.Count > 0)
        {
            double[] steps = history.Select(p => p![0]!.GetValue<double>()).ToArray();
            double[] losses = history.Select(p => p![1]!.GetValue<double>()).ToArray();
            var train = plot.Add.Scatter(steps, losses);
            train.LegendText = "training loss";
            train.MarkerSize = steps.Length > 60 ? 0 : 4;
        }
        if (state["evaluations"] is JsonArray evaluations && evaluations.Count > 0)
        {
            var points = evaluations.OfType<JsonObject>().ToList();
            double[] steps = points.Select(e => e["step"]!.GetValue<double>()).ToArray();
            var loss = points.Select(e => e["loss"]?.GetValue<double>() ?? double.NaN).ToArray();
            if (loss.Any(double.IsFinite))
            {
                var held = plot.Add.Scatter(steps, loss);
                held.LegendText = "held-out loss";
                held.MarkerSize = 7;
                held.LinePattern = LinePattern.Dashed;
            }
            var accuracy = points.Select(e => e["accuracy"]?.GetValue<double>() ?? double.NaN).ToArray();
            if (accuracy.Any(double.IsFinite))
            {
                var right = plot.Add.Scatter(steps, accuracy);
                right.Axes.YAxis = plot.Axes.Right;
                right.LegendText = "held-out accuracy";
                right.MarkerSize = 7;
                plot.Axes.Right.Label.Text = "accuracy";
                plot.Axes.SetLimitsY(0, 1, plot.Axes.Right);
            }
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        plot.ShowLegend(Edge.Bottom); // below the axes, so it hides no point of the curves
        plot.SavePng(path, 900, 520);
    }
}
