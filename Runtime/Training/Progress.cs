using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace RnaLm.Training;

/// <summary>
/// Progress of long work on stderr: a one-line bar redrawn in place (step, percentage, loss, tokens/s, ETA) when the
/// writer is an interactive terminal, otherwise a log line every <see cref="LogInterval"/> (and on demand), so logs
/// redirected to a file stay readable.
/// </summary>
public sealed class ProgressReporter
{
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw; // null until the bar is first drawn
    private TimeSpan _lastLog = TimeSpan.Zero;
    private long _startStep;
    private long _tokens;
    private bool _barVisible;

    /// <param name="writer">Where to write (usually stderr).</param>
    /// <param name="interactive">Draw a bar in place (true only for a terminal).</param>
    /// <param name="label">Prefix of every line, e.g. "pretrain".</param>
    /// <param name="totalSteps">Units (steps, records) of the whole run; 0 when unknown (no bar, percentage or ETA).</param>
    /// <param name="startStep">The step the run starts (or resumes) at.</param>
    public ProgressReporter(TextWriter writer, bool interactive, string label, long totalSteps, long startStep = 0)
    {
        _writer = writer ?? throw new ArgumentNullException(nameof(writer));
        _interactive = interactive;
        _label = label;
        TotalSteps = totalSteps;
        _startStep = startStep;
    }

    /// <summary>True when stderr is a terminal (not redirected).</summary>
    public static bool StderrIsTerminal => !Console.IsErrorRedirected;

    public long TotalSteps { get; }

    /// <summary>What is counted, shown before the count (default "step").</summary>
    public string Unit { get; init; } = "step";

    /// <summary>Time between log lines in non-interactive mode (default 30 s).</summary>
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Tokens per second since the start (or resume).</summary>
    public double TokensPerSecond => _tokens / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);

    /// <summary>Reports that <paramref name="step"/> steps are done, <paramref name="tokens"/> more tokens were processed.</summary>
    public void Update(long step, long tokens, double loss, double learningRate) =>
        Report(step, tokens, string.Create(CultureInfo.InvariantCulture, $"loss {loss:F4} lr {learningRate:E2}"));

    /// <summary>
    /// Reports that <paramref name="done"/> units (steps, records) are done and <paramref name="tokens"/> more tokens
    /// were processed; <paramref name="detail"/> (e.g. the loss) is shown after the count.
    /// </summary>
    public void Report(long done, long tokens, string? detail = null)
    {
        _tokens += tokens;
        var now = _clock.Elapsed;
        bool last = TotalSteps > 0 && done >= TotalSteps;
        if (_interactive)
        {
            if (_lastDraw is { } drawn && now - drawn < TimeSpan.FromMilliseconds(200) && !last) return;
            _lastDraw = now;
            _writer.Write("\r" + Line(done, detail, bar: true) + "\u001b[K");
            _writer.Flush();
            _barVisible = true;
        }
        else if (now - _lastLog >= LogInterval || last)
        {
            _lastLog = now;
            _writer.WriteLine(Line(done, detail, bar: false));
            _writer.Flush();
        }
    }

    /// <summary>Writes a message on its own line (the bar is redrawn at the next update).</summary>
    public void Message(string text)
    {
        if (_barVisible)
        {
            _writer.Write("\r\u001b[K");
            _barVisible = false;
        }
        _writer.WriteLine($"{_label}: {text}");
        _writer.Flush();
    }

    /// <summary>Ends the bar line.</summary>
    public void Finish()
    {
        if (_barVisible) _writer.WriteLine();
        _barVisible = false;
        _writer.Flush();
    }

    private string Line(long done, string? detail, bool bar)
    {
        bool known = TotalSteps > 0;
        double fraction = known ? Math.Clamp((double)done / TotalSteps, 0, 1) : 0;
        var text = new StringBuilder();
        text.Append(_label).Append(": ");
        if (bar && known)
        {
            const int width = 24;
            int filled = (int)Math.Round(fraction * width);
            text.Append('[').Append('#', filled).Append('.', width - filled).Append("] ");
        }
        double unitsDone = done - _startStep;
        double secondsPerUnit = unitsDone > 0 ? _clock.Elapsed.TotalSeconds / unitsDone : double.NaN;
        var eta = !known || double.IsNaN(secondsPerUnit) ? (TimeSpan?)null : TimeSpan.FromSeconds(secondsPerUnit * Math.Max(0, TotalSteps - done));
        text.Append(Unit).Append(' ').Append(done.ToString(CultureInfo.InvariantCulture));
        if (known) text.Append(string.Create(CultureInfo.InvariantCulture, $"/{TotalSteps} ({fraction * 100:F1}%)"));
        if (!string.IsNullOrEmpty(detail)) text.Append(' ').Append(detail);
        text.Append(string.Create(CultureInfo.InvariantCulture, $" {TokensPerSecond:F0} tok/s elapsed {Format(_clock.Elapsed)}"));
        if (known) text.Append(" eta ").Append(eta is { } e ? Format(e) : "?");
        return text.ToString();
    }

    /// <summary>h:mm:ss.</summary>
    public static string Format(TimeSpan t) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");
}
