using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Clusters;

/// <summary>
/// A real single-node Slurm (munged, slurmctld, slurmd) in a temp folder, after ../shared/docs/slurm-single-node.md;
/// <see cref="MissingReason"/> says why none could be started. The daemons are stopped by the PIDs they wrote.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    private static readonly string[] Daemons = ["munged", "slurmctld", "slurmd"];
    private readonly List<string> _pidFiles = [];
    private readonly string? _previousConf = Environment.GetEnvironmentVariable("SLURM_CONF");

    public SlurmCluster()
    {
        if (!OperatingSystem.IsLinux())
        {
            MissingReason = "the Slurm test runs on Linux only";
            return;
        }
        var missing = Daemons.Concat(["sbatch", "scontrol", "scancel", "sinfo"]).Where(p => Find(p) is null).ToArray();
        if (missing.Length > 0)
        {
            MissingReason = $"Slurm is not installed ({string.Join(", ", missing)} not found): apt-get install -y slurm-wlm munge";
            return;
        }
        Folder = TestPaths.NewTempDirectory();
        string F(string name) => Path.Combine(Folder, name);
        Directory.CreateDirectory(F("state"));
        Directory.CreateDirectory(F("spool"));
        File.WriteAllBytes(F("munge.key"), RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(F("munge.key"), UnixFileMode.UserRead);
        string host = Output("hostname", "-s").Trim();
        int memoryMb = 1024;
        ConfPath = F("slurm.conf");
        File.WriteAllText(ConfPath, $"""
            ClusterName=persongen-test
            SlurmctldHost={host}
            AuthType=auth/munge
            AuthInfo=socket={F("munge.socket")}
            CredType=cred/munge
            SlurmUser=root
            SlurmdUser=root
            SlurmctldPort={FreePort()}
            SlurmdPort={FreePort()}
            StateSaveLocation={F("state")}
            SlurmdSpoolDir={F("spool")}
            SlurmctldPidFile={F("slurmctld.pid")}
            SlurmdPidFile={F("slurmd.pid")}
            SlurmctldLogFile={F("slurmctld.log")}
            SlurmdLogFile={F("slurmd.log")}
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            ReturnToService=2
            MpiDefault=none
            JobAcctGatherType=jobacct_gather/none
            NodeName={host} CPUs={Environment.ProcessorCount} RealMemory={memoryMb} State=UNKNOWN
            PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP

            """);
        Environment.SetEnvironmentVariable("SLURM_CONF", ConfPath);
        try
        {
            Start("munged", F("munged.pid"), $"--key-file={F("munge.key")}", $"--socket={F("munge.socket")}", $"--pid-file={F("munged.pid")}",
                $"--log-file={F("munged.log")}", $"--seed-file={F("munge.seed")}", "--force");
            Start("slurmctld", F("slurmctld.pid"), "-f", ConfPath);
            Start("slurmd", F("slurmd.pid"), "-f", ConfPath);
            WaitUntil(() => Output("sinfo", "-h", "-o", "%T").Trim() == "idle", TimeSpan.FromSeconds(60), "the Slurm node to become idle");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Why no Slurm runs here (not installed), or null.</summary>
    public string? MissingReason { get; }

    public string Folder { get; } = "";
    public string ConfPath { get; } = "";

    /// <summary>Polls <paramref name="done"/> every 0.5 s; fails naming <paramref name="what"/> (with the daemon logs) after <paramref name="limit"/>.</summary>
    public void WaitUntil(Func<bool> done, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit) Assert.Fail($"timed out after {limit.TotalSeconds} s waiting for {what}; logs in {Folder}");
            Thread.Sleep(500);
        }
    }

    public void Dispose()
    {
        // Jobs left by a failed test would outlive slurmd in their slurmstepd; this cluster's jobs only (SLURM_CONF).
        if (_pidFiles.Count == 3 && Find("scancel") is not null)
        {
            Output("scancel", "--user=root");
            var clock = Stopwatch.StartNew();
            while (Output("squeue", "-h", "-o", "%i").Trim().Length > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(500);
        }
        foreach (string pidFile in Enumerable.Reverse(_pidFiles))
        {
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) continue;
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
        _pidFiles.Clear();
        Environment.SetEnvironmentVariable("SLURM_CONF", _previousConf);
    }

    private void Start(string daemon, string pidFile, params string[] arguments)
    {
        _pidFiles.Add(pidFile);
        var start = new ProcessStartInfo(Find(daemon)!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{daemon} failed to start (exit {process.ExitCode}): {error}");
        WaitUntil(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, TimeSpan.FromSeconds(30), $"{daemon}'s pid file");
    }

    private static string Output(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Find(program) ?? program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(folder => Path.Combine(folder, program)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
