using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Benchmarks;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Bench;

/// <summary>
/// The MuJoCo backend on one thread against MuJoCo's own `mujoco-testspeed` (libmujoco-samples)
/// on the same model (native/models/ant.xml, Euler, dt 0.01) in the same run. Every invocation
/// runs 20,000 physics steps from qpos0 with testspeed's control signal (ctrl_j at step i =
/// 0.01 (2 Halton(i, j + 2) - 1), ctrlnoise 0.01), so both simulate the same trajectory.
/// Results are per physics step. The testspeed baseline includes its process start and model
/// compile; its own timer's steps/s is printed too (look for "testspeed reports").
/// Run: dotnet pwsh ./build.ps1 bench -- --filter '*MuJoCo*'
/// </summary>
public class MuJoCoBench
{
    private const int Steps = 20_000;
    private const double CtrlNoise = 0.01;

    private string _model = "";
    private CpuDevice _cpu = null!;
    private MuJoCoPhysics _physics = null!;
    private double[] _ctrl = null!;
    private readonly List<double> _reported = [];

    [GlobalSetup]
    public void Setup()
    {
        _model = MuJoCoModels.AntPath;
        _cpu = new CpuDevice(1);
        _physics = new MuJoCoPhysics(_cpu, _model, 1);
        // ctrl: (Steps, nu), testspeed's pseudo-random control noise
        int nu = _physics.Nu;
        _ctrl = new double[Steps * nu];
        for (int i = 0; i < Steps; i++)
            for (int j = 0; j < nu; j++)
                _ctrl[i * nu + j] = CtrlNoise * (2 * TestSpeedComparison.Halton(i, j + 2) - 1);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "mujoco-testspeed (C, process)")]
    public void TestSpeed()
    {
        var psi = new ProcessStartInfo("mujoco-testspeed") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { _model, Steps.ToString(CultureInfo.InvariantCulture), "1", CtrlNoise.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("mujoco-testspeed did not start (apt-get install libmujoco-samples)");
        string output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        foreach (var line in output.Split('\n'))
            if (line.Contains("Steps per second", StringComparison.Ordinal))
                _reported.Add(double.Parse(line[(line.IndexOf(':') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>The backend's step with frame skip 1: ctrl in, one mj_step, qpos/qvel out as float32, per physics step.</summary>
    [Benchmark(OperationsPerInvoke = Steps, Description = "MuJoCoPhysics, frame skip 1")]
    public void BackendFrameSkip1() => Run(1);

    /// <summary>The env path: ctrl written and state copied out once per env step of 5 physics steps.</summary>
    [Benchmark(OperationsPerInvoke = Steps, Description = "MuJoCoPhysics, frame skip 5")]
    public void BackendFrameSkip5() => Run(5);

    private void Run(int frameSkip)
    {
        ResetToQpos0();
        var ctrl = ((CpuBuffer<float>)_physics.Ctrl).Span;
        int nu = _physics.Nu;
        for (int i = 0; i < Steps; i += frameSkip)
        {
            for (int j = 0; j < nu; j++) ctrl[j] = (float)_ctrl[i * nu + j];
            _physics.Step(frameSkip);
        }
    }

    private void ResetToQpos0()
    {
        _physics.Qpos.CopyFrom(_physics.Qpos0);
        _physics.Qvel.Clear();
        _physics.ResetFlags.CopyFrom([1]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_reported.Count > 0)
        {
            _reported.Sort();
            Console.WriteLine($"// testspeed reports (its own timer, {_reported.Count} runs): median {_reported[_reported.Count / 2]:F0} steps/s, min {_reported[0]:F0}, max {_reported[^1]:F0}");
        }
        _physics.Dispose();
        _cpu.Dispose();
    }
}
