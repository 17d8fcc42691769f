using PersonGen.Runtime;
using Spectre.Console;

namespace PersonGen.Cli;

/// <summary>
/// Shows a library operation's <see cref="ProgressUpdate"/> reports as Spectre.Console progress bars, one bar
/// per stage. Use it for anything that can take more than a second. On a non-interactive console (redirected
/// output, tests) the work runs without a display.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, handing it an <see cref="IProgress{T}"/> that drives the bars.</summary>
    public static T Run<T>(IAnsiConsole console, Func<IProgress<ProgressUpdate>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive) return work(new Silent());
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new Adapter(context)));
    }

    /// <summary>As <see cref="Run{T}"/> for work without a result.</summary>
    public static void Run(IAnsiConsole console, Action<IProgress<ProgressUpdate>> work) =>
        Run(console, progress => { work(progress); return 0; });

    private sealed class Silent : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) { }
    }

    /// <summary>Maps each stage to a progress task; synchronous, so reports are shown in order.</summary>
    internal sealed class Adapter(ProgressContext context) : IProgress<ProgressUpdate>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();

        public void Report(ProgressUpdate value)
        {
            lock (_gate)
            {
                if (!_tasks.TryGetValue(value.Stage, out var task))
                {
                    task = context.AddTask(Markup.Escape(value.Stage), maxValue: Math.Max(1, value.Total));
                    _tasks[value.Stage] = task;
                }
                if (value.Total > 0) task.MaxValue = value.Total;
                else task.IsIndeterminate = true;
                task.Value = value.Completed;
                context.Refresh();
            }
        }
    }
}
