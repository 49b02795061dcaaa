using System;
using System.IO;
using RnaLm.Training;

namespace RnaLm.Cli.Plots;

/// <summary>Writes <c>curves.png</c> into a training run's folder from its newest <c>trainer_state.json</c>.</summary>
internal static class TrainingCurvesFile
{
    public const string FileName = "curves.png";

    /// <param name="context">For the message naming the file.</param>
    /// <param name="command">pretrain or finetune.</param>
    /// <param name="runFolder">The run's <c>--output</c> folder (written by the run, so the picture may replace an older one).</param>
    /// <param name="stateFolder">The folder whose trainer_state.json holds the history (final/ or the last checkpoint), or null.</param>
    public static void Write(CliContext context, string command, string runFolder, string? stateFolder)
    {
        if (stateFolder is null) return;
        string state = Path.Combine(stateFolder, CheckpointWriter.TrainerStateFile);
        if (!File.Exists(state)) return;
        string path = Path.Combine(runFolder, FileName);
        var folder = new PictureFolder(runFolder, "--output");
        folder.Write(path, temporary => Charts.TrainingCurves(state, temporary, $"rnalm {command}: {Path.GetFileName(Path.GetFullPath(runFolder))}"));
        context.Error.WriteLine($"rnalm {command}: loss and evaluation curves -> {path}");
    }
}
