using System;
using System.IO;
using System.Threading;
using RnaLm.Training;
using Xunit;

namespace RnaLm.Tests.Training;

public class ProgressTests
{
    /// <summary>A writer like a terminal: it keeps what was written and counts carriage-return redraws.</summary>
    private sealed class TerminalWriter : StringWriter
    {
        public int Redraws { get; private set; }

        public override void Write(string? value)
        {
            if (value is not null && value.StartsWith('\r') && value != "\r\u001b[K") Redraws++;
            base.Write(value);
        }
    }

    [Fact]
    public void TheBarIsDrawnInPlaceInATerminalFromTheFirstUpdate()
    {
        var terminal = new TerminalWriter();
        var progress = new ProgressReporter(terminal, interactive: true, "pretrain", totalSteps: 4);
        progress.Update(1, 100, 2.5, 1e-3);
        Assert.Equal(1, terminal.Redraws);
        Assert.Contains("pretrain: [######..................] step 1/4 (25.0%) loss 2.5000", terminal.ToString());
        Thread.Sleep(250);
        progress.Update(2, 100, 2.0, 1e-3);
        progress.Message("step 2: held-out loss 1.9");
        progress.Update(4, 100, 1.5, 1e-3); // the last step is always drawn
        progress.Finish();
        string screen = terminal.ToString();
        Assert.Equal(3, terminal.Redraws);
        Assert.Contains("\r\u001b[Kpretrain: step 2: held-out loss 1.9" + Environment.NewLine, screen);
        Assert.Contains("[########################] step 4/4 (100.0%) loss 1.5000", screen);
        Assert.EndsWith(Environment.NewLine, screen);
    }

    [Fact]
    public void AnUnknownTotalCountsWithoutBarOrEta()
    {
        var terminal = new TerminalWriter();
        var progress = new ProgressReporter(terminal, interactive: true, "embed", totalSteps: 0) { Unit = "records" };
        progress.Report(12, 480);
        progress.Finish();
        string screen = terminal.ToString();
        Assert.Contains("embed: records 12 ", screen);
        Assert.DoesNotContain("] ", screen);
        Assert.DoesNotContain("eta", screen);
    }

    [Fact]
    public void RedirectedOutputGetsLogLinesNotRedraws()
    {
        var log = new TerminalWriter();
        var progress = new ProgressReporter(log, interactive: false, "finetune", totalSteps: 3) { LogInterval = TimeSpan.FromHours(1) };
        progress.Update(1, 10, 1, 1e-4);
        progress.Update(3, 10, 0.5, 1e-4);
        Assert.Equal(0, log.Redraws);
        string[] lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines); // only the last step, the interval not having passed
        Assert.StartsWith("finetune: step 3/3 (100.0%)", lines[0]);
    }
}
