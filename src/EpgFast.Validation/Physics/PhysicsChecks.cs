using System.Globalization;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Physics;
using EpgFast.Kernels.Random;
using EpgFast.Models;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Validation.Physics;

/// <summary>
/// The kernel simulator's validation, shared by the self-checks, `epg physics --compare` and the tests:
/// (1) dynamics without constraints against MuJoCo's Euler, (2) contact laws on a sphere and a capsule,
/// (3) the model at rest, (4) random actions across a batch, (5) the torso's displacement under a coordinated
/// trot in both engines (reported, not judged), (6) the constraint model against MuJoCo: one forward step from
/// states MuJoCo recorded with contacts acting, and drops from qpos0 under fixed controls.
/// </summary>
public static class PhysicsValidation
{
    public const double Gravity = 9.81;

    /// <summary>Whether libmujoco 2.2.2 can be loaded (the MuJoCo comparisons need it).</summary>
    public static bool MuJoCoAvailable
    {
        get
        {
            try
            {
                return MuJoCoLibrary.Probe().Version is not null;
            }
            catch (Exception)
            {
                return false;
            }
        }
    }

    // ---------------- check 1: dynamics without constraints ----------------

    /// <summary>Errors of the kernel simulator against MuJoCo (max |diff| / max |MuJoCo| per state, worst over states).</summary>
    public sealed record FreeMotionResult(double MassRelErr, double BiasRelErr, double OneStepRelErr, double HundredStepRelErr)
    {
        public bool Pass => MassRelErr < 1e-4 && BiasRelErr < 1e-4 && OneStepRelErr < 1e-3 && HundredStepRelErr < 1e-2;
    }

    /// <summary>
    /// Contacts and limits disabled in both engines: the mass matrix and bias forces at random states,
    /// then one and 100 Euler steps under random controls (in 1.2 x the control range, so clamping
    /// is exercised), against MuJoCo.
    /// </summary>
    public static FreeMotionResult FreeMotion(Device device, string modelPath, int states = 16, int seed = 3)
    {
        var noConstraints = new EngineOptions { DisableContactAndLimits = true };
        using var k = new KernelPhysics(device, modelPath, states, noConstraints);
        var (qpos, qvel) = RandomStates(k.Model, states, seed);
        var (mass, bias) = k.Inspect(qpos, qvel);
        using var model = LoadMuJoCo(modelPath);
        model.DisableFlags |= MjModel.DisableContact | MjModel.DisableLimit;
        model.Integrator = MjIntegrator.Euler;
        var data = new MjData[states];
        double worstM = 0, worstB = 0, worst1 = 0, worst100 = 0;
        try
        {
            for (int e = 0; e < states; e++)
            {
                data[e] = model.MakeData();
                data[e].SetState(Row(qpos, e, k.Nq), Row(qvel, e, k.Nv));
                data[e].Forward();
                worstM = Math.Max(worstM, MaxRel(Row(mass, e, k.Nv * k.Nv), data[e].FullMassMatrix()));
                worstB = Math.Max(worstB, MaxRel(Row(bias, e, k.Nv), data[e].QfrcBias.ToArray()));
            }
            k.Qpos.CopyFrom(qpos);
            k.Qvel.CopyFrom(qvel);
            k.ResetFlags.CopyFrom(Enumerable.Repeat(1, states).ToArray());
            var rng = new System.Random(seed + 1);
            var lo = k.Model.Actuators.Select(a => a.CtrlLimited ? a.CtrlRange[0] : -1).ToArray();
            var hi = k.Model.Actuators.Select(a => a.CtrlLimited ? a.CtrlRange[1] : 1).ToArray();
            var ctrl = new float[states * k.Nu];
            for (int t = 1; t <= 100; t++)
            {
                for (int i = 0; i < ctrl.Length; i++)
                {
                    int u = i % k.Nu;
                    double mid = (lo[u] + hi[u]) / 2, half = 0.6 * (hi[u] - lo[u]);
                    ctrl[i] = (float)(mid + half * (rng.NextDouble() * 2 - 1));
                }
                k.Ctrl.CopyFrom(ctrl);
                k.Step(1);
                for (int e = 0; e < states; e++)
                {
                    Row(ctrl, e, k.Nu).CopyTo(data[e].Ctrl);
                    data[e].Step();
                }
                if (t is not (1 or 100)) continue;
                device.Synchronize();
                float[] q = k.Qpos.ToArray(), v = k.Qvel.ToArray();
                double worst = 0;
                for (int e = 0; e < states; e++)
                {
                    worst = Math.Max(worst, MaxRel(Row(q, e, k.Nq), data[e].Qpos.ToArray()));
                    worst = Math.Max(worst, MaxRel(Row(v, e, k.Nv), data[e].Qvel.ToArray()));
                }
                if (t == 1) worst1 = worst;
                else worst100 = worst;
            }
        }
        finally
        {
            foreach (var d in data) d?.Dispose();
        }
        return new FreeMotionResult(worstM, worstB, worst1, worst100);
    }

    /// <summary>Random states: free joints at N(0, 0.5) positions with random unit quaternions, hinges in [-1, 1] rad, velocities N(0, 1); float-rounded.</summary>
    public static (float[] Qpos, float[] Qvel) RandomStates(PhysicsModel m, int n, int seed)
    {
        var rng = new System.Random(seed);
        double N() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var qpos = new float[n * m.Nq];
        var qvel = new float[n * m.Nv];
        for (int e = 0; e < n; e++)
        {
            foreach (var j in m.Joints)
            {
                int a = e * m.Nq + j.QposAdr;
                if (j.Type == JointType.Free)
                {
                    for (int c = 0; c < 3; c++) qpos[a + c] = (float)(N() * 0.5);
                    double w = N(), x = N(), y = N(), z = N(), norm = Math.Sqrt(w * w + x * x + y * y + z * z);
                    qpos[a + 3] = (float)(w / norm);
                    qpos[a + 4] = (float)(x / norm);
                    qpos[a + 5] = (float)(y / norm);
                    qpos[a + 6] = (float)(z / norm);
                }
                else
                {
                    qpos[a] = (float)(rng.NextDouble() * 2 - 1);
                }
            }
            for (int i = 0; i < m.Nv; i++) qvel[e * m.Nv + i] = (float)N();
        }
        return (qpos, qvel);
    }

    // ---------------- check 2: contact laws on simple bodies ----------------

    /// <summary>Friction of the simple-body models.</summary>
    public const double Mu = 0.5;

    /// <summary>
    /// A sphere (r 0.1) or a capsule (r 0.05, half-length 0.2, axis along the slope) with its centre
    /// <paramref name="height"/> above a plane tilted by <paramref name="tiltDeg"/> about y; density
    /// 1000, friction 0.5, margin 0.01, timestep 0.01.
    /// </summary>
    public static string ContactModelXml(string shape, double tiltDeg, double height)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        double t = tiltDeg * Math.PI / 180;
        double px = Math.Sin(t) * height, pz = Math.Cos(t) * height;
        string geom = shape == "sphere"
            ? """<geom type="sphere" size="0.1" density="1000"/>"""
            : """<geom type="capsule" fromto="-0.2 0 0 0.2 0 0" size="0.05" density="1000"/>""";
        return $"""
            <mujoco model="{shape}">
              <option timestep="0.01"/>
              <default><geom friction="{F(Mu)}" margin="0.01"/></default>
              <worldbody>
                <geom name="floor" type="plane" size="20 20 1" euler="0 {F(tiltDeg)} 0"/>
                <body name="b" pos="{F(px)} 0 {F(pz)}" euler="0 {F(tiltDeg)} 0">
                  <freejoint/>
                  {geom}
                </body>
              </worldbody>
            </mujoco>
            """;
    }

    /// <summary>Writes a generated model to a temporary file and returns its path.</summary>
    public static string TempModel(string xml, string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "epgfast-physics");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{name}-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.xml");
        File.WriteAllText(path, xml);
        return path;
    }

    /// <summary>The kernel simulator's trajectory, one entry per env step of 5 physics steps: qpos, summed normal force of the last physics step.</summary>
    public static List<(double[] Qpos, double Force)> RunKernel(Device device, string path, int envSteps, double[]? qvel0 = null)
    {
        using var k = new KernelPhysics(device, path, 1) { Diagnose = true };
        if (qvel0 is not null)
        {
            k.Qvel.CopyFrom(qvel0.Select(x => (float)x).ToArray());
            k.ResetFlags.CopyFrom([1]);
        }
        var result = new List<(double[], double)>();
        for (int s = 0; s < envSteps; s++)
        {
            k.Step(5);
            device.Synchronize();
            var d = k.Diagnostics.ToArray();
            result.Add((k.Qpos.ToArray().Select(x => (double)x).ToArray(), d[SimDims.DiagNormalForce]));
        }
        return result;
    }

    /// <summary>The same run in MuJoCo (Euler, the file's settings).</summary>
    public static List<(double[] Qpos, double Force)> RunMuJoCo(string path, int envSteps, double[]? qvel0 = null)
    {
        using var m = LoadMuJoCo(path);
        using var data = m.MakeData();
        if (qvel0 is not null) qvel0.CopyTo(data.Qvel);
        var result = new List<(double[], double)>();
        for (int s = 0; s < envSteps; s++)
        {
            for (int f = 0; f < 5; f++) data.Step();
            data.Forward();
            double force = 0;
            for (int c = 0; c < data.Ncon; c++) force += data.Contact(c).NormalForce;
            result.Add((data.Qpos.ToArray(), force));
        }
        return result;
    }

    /// <summary>Check 2's measurements (MuJoCo's fields are NaN when libmujoco is missing).</summary>
    public sealed record ContactLawResult(
        double SphereForceRatio, double CapsuleForceRatio,
        double SphereRestGap, double CapsuleRestGap, double SphereRestGapMuJoCo, double CapsuleRestGapMuJoCo,
        double SlideDistance, double SlideDistanceMuJoCo, double CoulombDistance,
        double Drift20, double Drift20MuJoCo, double Drift35, double Drift35MuJoCo, double Coulomb35)
    {
        public bool Pass =>
            Math.Abs(SphereForceRatio - 1) < 0.02 && Math.Abs(CapsuleForceRatio - 1) < 0.02
            && (double.IsNaN(SphereRestGapMuJoCo) || Math.Abs(SphereRestGap - SphereRestGapMuJoCo) < 1e-3)
            && (double.IsNaN(CapsuleRestGapMuJoCo) || Math.Abs(CapsuleRestGap - CapsuleRestGapMuJoCo) < 1e-3)
            && Math.Abs(SlideDistance / CoulombDistance - 1) < 0.05
            && Drift20 < 0.02 && Math.Abs(Drift35 / Coulomb35 - 1) < 0.1;
    }

    /// <summary>
    /// A sphere and a capsule at rest (2 s: summed normal force / weight, gap under the lowest point),
    /// a capsule launched along its axis at 2 m/s (slide distance vs v^2 / (2 mu g)), a capsule on a
    /// plane tilted 20 and 35 degrees for 2 s (drift; friction angle atan 0.5 = 26.6 degrees).
    /// </summary>
    public static ContactLawResult ContactLaws(Device device, bool withMuJoCo)
    {
        double Weight(string path) => MjcfLoader.Load(path).TotalMass * Gravity;
        double nan = double.NaN;
        (double Ratio, double Gap, double GapMj) Rest(string shape, double radius)
        {
            string path = TempModel(ContactModelXml(shape, 0, radius + 0.05), shape);
            var k = RunKernel(device, path, 40);
            double gapMj = withMuJoCo ? RunMuJoCo(path, 40)[^1].Qpos[2] - radius : nan;
            return (k[^1].Force / Weight(path), k[^1].Qpos[2] - radius, gapMj);
        }
        var sphere = Rest("sphere", 0.1);
        var capsule = Rest("capsule", 0.05);

        string slide = TempModel(ContactModelXml("capsule", 0, 0.06), "capsule-slide");
        double[] v0 = [2, 0, 0, 0, 0, 0];
        double slideK = RunKernel(device, slide, 30, v0)[^1].Qpos[0];
        double slideMj = withMuJoCo ? RunMuJoCo(slide, 30, v0)[^1].Qpos[0] : nan;

        (double K, double Mj) Tilt(double deg)
        {
            string path = TempModel(ContactModelXml("capsule", deg, 0.06), $"capsule-tilt{deg}");
            var start = MjcfLoader.Load(path).Qpos0;
            double Drift(double[] q) => Math.Sqrt(Enumerable.Range(0, 3).Sum(i => (q[i] - start[i]) * (q[i] - start[i])));
            return (Drift(RunKernel(device, path, 40)[^1].Qpos), withMuJoCo ? Drift(RunMuJoCo(path, 40)[^1].Qpos) : nan);
        }
        var t20 = Tilt(20);
        var t35 = Tilt(35);
        double a35 = 35 * Math.PI / 180;
        return new ContactLawResult(sphere.Ratio, capsule.Ratio, sphere.Gap, capsule.Gap, sphere.GapMj, capsule.GapMj,
            slideK, slideMj, 2.0 * 2.0 / (2 * Mu * Gravity),
            t20.K, t20.Mj, t35.K, t35.Mj, 0.5 * Gravity * (Math.Sin(a35) - Mu * Math.Cos(a35)) * 2 * 2);
    }

    // ---------------- check 3: the model at rest ----------------

    /// <summary>Check 3's measurements; ForceRatio is NaN for a model without contacts.</summary>
    public sealed record RestResult(double ForceRatio, double KineticRatio, double PeakKinetic, double MaxPenetration, double FinalHeight)
    {
        public bool Pass => (double.IsNaN(ForceRatio) || Math.Abs(ForceRatio - 1) < 0.05) && KineticRatio < 1e-3 && MaxPenetration < 0.01;
    }

    /// <summary>
    /// Zero controls from the initial pose for <paramref name="seconds"/>: final kinetic energy over
    /// its peak, summed contact normal force over the weight, the deepest penetration of any geom
    /// into the plane at any step, and the final height of the first body.
    /// </summary>
    public static RestResult Rest(Device device, string modelPath, double seconds = 4, int frameSkip = 5)
    {
        using var k = new KernelPhysics(device, modelPath, 1) { Diagnose = true };
        int steps = (int)Math.Round(seconds / (k.Timestep * frameSkip));
        double peak = 0, kinetic = 0, force = 0, pen = 0;
        for (int s = 0; s < steps; s++)
        {
            k.Step(frameSkip);
            device.Synchronize();
            var d = k.Diagnostics.ToArray();
            kinetic = d[SimDims.DiagKinetic];
            peak = Math.Max(peak, kinetic);
            force = d[SimDims.DiagNormalForce];
            pen = Math.Max(pen, d[SimDims.DiagPenetration]);
        }
        double g = Math.Sqrt(k.Model.Gravity.Sum(x => x * x));
        double ratio = k.Packed.Dims.NSlots > 0 && g > 0 ? force / (k.Model.TotalMass * g) : double.NaN;
        var q = k.Qpos.ToArray();
        double height = k.Model.Joints.Count > 0 && k.Model.Joints[0].Type == JointType.Free ? q[2] : double.NaN;
        return new RestResult(ratio, peak > 0 ? kinetic / peak : 0, peak, pen, height);
    }

    // ---------------- check 4: random actions ----------------

    /// <summary>Check 4's measurements.</summary>
    public sealed record RobustnessResult(long EnvSteps, bool Finite, double MaxKinetic, double MaxPenetration, double MaxHeight)
    {
        // MuJoCo's soft contacts let a fast leg sink: MuJoCo 2.2.2 itself reached 106 mm under 200 x 500 random env steps
        public bool Pass => Finite && MaxKinetic < 1000 && MaxPenetration < 0.15 && MaxHeight < 10;
    }

    /// <summary>
    /// <paramref name="envs"/> x <paramref name="steps"/> env steps (frame skip 5) under uniform random
    /// actions in [-1, 1], drawn on the device each env step: every state finite, kinetic energy
    /// bounded, no geom deep in the floor, the root body below 10 m.
    /// </summary>
    public static RobustnessResult RandomActions(Device device, string modelPath, int envs, int steps, ulong seed = 1)
        => device.WithViews(new RandomActionsCode(device, modelPath, envs, steps, seed));

    private sealed record RandomActionsCode(Device Device, string ModelPath, int Envs, int Steps, ulong Seed) : IViewCode<RobustnessResult>
    {
        public RobustnessResult Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
            => RandomActions<TF>(Device, ModelPath, Envs, Steps, Seed);
    }

    private static RobustnessResult RandomActions<TF>(Device device, string modelPath, int envs, int steps, ulong seed)
        where TF : struct, IView<float>
    {
        using var k = new KernelPhysics(device, modelPath, envs) { Diagnose = true };
        bool finite = true;
        double maxKinetic = 0, maxPen = 0, maxHeight = double.NegativeInfinity;
        bool free = k.Model.Joints.Count > 0 && k.Model.Joints[0].Type == JointType.Free;
        for (int s = 0; s < steps; s++)
        {
            if (k.Nu > 0)
                device.Launch(k.Ctrl.Length, new FillUniformKernel<TF>
                {
                    Output = k.Ctrl.View<TF>(),
                    Seed = seed,
                    Stream = Philox.Stream(RandomStreams.Test, 4, (uint)s),
                    Low = -1f,
                    High = 1f,
                });
            k.Step(5);
            // check every few env steps (reading back costs more than stepping on a GPU)
            if (s % 10 != 9 && s != steps - 1) continue;
            device.Synchronize();
            var d = k.Diagnostics.ToArray();
            var q = k.Qpos.ToArray();
            var v = k.Qvel.ToArray();
            finite &= q.All(float.IsFinite) && v.All(float.IsFinite) && d.All(float.IsFinite);
            for (int e = 0; e < envs; e++)
            {
                maxKinetic = Math.Max(maxKinetic, d[e * SimDims.DiagSize + SimDims.DiagKinetic]);
                maxPen = Math.Max(maxPen, d[e * SimDims.DiagSize + SimDims.DiagPenetration]);
                if (free) maxHeight = Math.Max(maxHeight, q[e * k.Nq + 2]);
            }
        }
        return new RobustnessResult((long)envs * steps, finite, maxKinetic, maxPen, free ? maxHeight : 0);
    }

    // ---------------- check 5: coordinated trot ----------------

    /// <summary>
    /// The trot of the measurements (amplitude 0.8, a 20-env-step cycle): actuator u at env step t gets
    /// 0.8 sin(2 pi t / 20 + phi_u), phi_u = pi ((u / 2) mod 2) + (pi / 2) (u mod 2): hip and ankle of a leg a
    /// quarter cycle apart, consecutive legs (the Ant's actuator pairs 4, 1, 2, 3) half a cycle apart,
    /// so diagonal legs move together.
    /// </summary>
    public static float TrotControl(int u, int t) =>
        (float)(0.8 * Math.Sin(2 * Math.PI * t / 20.0 + Math.PI * ((u / 2) % 2) + Math.PI / 2 * (u % 2)));

    /// <summary>
    /// Horizontal displacement of the root body after <paramref name="steps"/> env steps of the trot
    /// (one environment); NaN when qpos does not start with a free joint.
    /// </summary>
    public static double TrotDisplacement(IPhysicsBatch physics, PhysicsModel model, int steps = 400, int frameSkip = 5)
    {
        if (model.Joints.Count == 0 || model.Joints[0].Type != JointType.Free) return double.NaN;
        physics.Device.Synchronize();
        var q0 = physics.Qpos.ToArray();
        var ctrl = new float[physics.Envs * physics.Nu];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < ctrl.Length; i++) ctrl[i] = TrotControl(i % physics.Nu, t);
            physics.Ctrl.CopyFrom(ctrl);
            physics.Step(frameSkip);
        }
        physics.Device.Synchronize();
        var q = physics.Qpos.ToArray();
        return Math.Sqrt((q[0] - q0[0]) * (q[0] - q0[0]) + (q[1] - q0[1]) * (q[1] - q0[1]));
    }

    // ---------------- check 6: the constraint model against MuJoCo ----------------

    /// <summary>
    /// One forward step from recorded states: qacc's max |diff| / max |MuJoCo's| (worst state) and the worst
    /// contact normal force difference over the model's weight.
    /// </summary>
    public sealed record ConstraintStepResult(int States, int Contacts, double QaccRelErr, double ForceErrOverWeight)
    {
        /// <summary>False when MuJoCo reached no state with contacts (a model without them): nothing to compare.</summary>
        public bool Applicable => States > 0;
        public bool Pass => !Applicable || (Contacts >= States && QaccRelErr < 1e-3 && ForceErrOverWeight < 1e-3);
    }

    /// <summary>
    /// MuJoCo's mj_forward against the kernel simulator's forward dynamics (<see cref="KernelPhysics.Inspect"/>)
    /// at states MuJoCo reached under random controls with contacts acting (<see cref="RecordStates"/>): qacc
    /// and each contact's normal force. A capsule's two plane contacts are matched in MuJoCo's order (its +z end
    /// first); when only one end touches, the other slot's force must be 0.
    /// </summary>
    public static ConstraintStepResult ConstraintStep(Device device, string modelPath, int envs = 6, int envSteps = 60, int every = 9, int seed = 17)
    {
        var (qpos, qvel, ctrl) = RecordStates(modelPath, envs, envSteps, every, seed);
        using var k = new KernelPhysics(device, modelPath, 1);
        int n = qpos.Length / k.Nq;
        if (n == 0) return new ConstraintStepResult(0, 0, double.NaN, double.NaN);
        var got = k.Inspect(qpos, qvel, ctrl);
        var slotGeom = k.Packed.SlotGeom;
        using var model = LoadMuJoCo(modelPath);
        using var data = model.MakeData();
        double weight = model.BodyMass.Sum() * Gravity;
        double worstAcc = 0, worstForce = 0;
        int contacts = 0;
        for (int e = 0; e < n; e++)
        {
            data.SetState(Row(qpos, e, k.Nq), Row(qvel, e, k.Nv));
            for (int u = 0; u < k.Nu; u++) data.Ctrl[u] = ctrl[e * k.Nu + u];
            data.Forward();
            worstAcc = Math.Max(worstAcc, MaxRel(Row(got.Qacc, e, k.Nv), data.Qacc.ToArray()));
            var byGeom = Enumerable.Range(0, data.Ncon).Select(data.Contact).GroupBy(c => c.Geom2).ToDictionary(g => g.Key, g => g.Select(c => c.NormalForce).ToArray());
            contacts += data.Ncon;
            foreach (int geom in slotGeom.Distinct())
            {
                var forces = Enumerable.Range(0, slotGeom.Length).Where(s => slotGeom[s] == geom).Select(s => (double)got.SlotForce[e * got.SlotStride + s]).ToArray();
                var want = byGeom.GetValueOrDefault(geom, []);
                if (want.Length == forces.Length)
                    for (int i = 0; i < want.Length; i++) worstForce = Math.Max(worstForce, Math.Abs(want[i] - forces[i]) / weight);
                else
                    worstForce = Math.Max(worstForce, Math.Abs(want.Sum() - forces.Sum()) / weight);
            }
        }
        return new ConstraintStepResult(n, contacts, worstAcc, worstForce);
    }

    /// <summary>
    /// States MuJoCo reaches from qpos0 with its hinges perturbed by U(-0.1, 0.1) under random controls (a new draw
    /// every env step of 5 physics steps), every <paramref name="every"/>-th physics step that ends with contacts,
    /// rounded to float32 (the kernel simulator's precision; MuJoCo then starts from the same numbers).
    /// qpos: (n, nq), qvel: (n, nv), ctrl: (n, nu).
    /// </summary>
    public static (float[] Qpos, float[] Qvel, float[] Ctrl) RecordStates(string modelPath, int envs, int envSteps, int every, int seed)
    {
        using var model = LoadMuJoCo(modelPath);
        var m = MjcfLoader.Load(modelPath);
        var rng = new Random(seed);
        var qpos = new List<float>();
        var qvel = new List<float>();
        var ctrl = new List<float>();
        int step = 0;
        for (int e = 0; e < envs; e++)
        {
            using var data = model.MakeData();
            var q0 = model.Qpos0;
            foreach (var j in m.Joints)
                if (j.Type == JointType.Hinge) data.Qpos[j.QposAdr] = q0[j.QposAdr] + rng.NextDouble() * 0.2 - 0.1;
            for (int t = 0; t < envSteps; t++)
            {
                for (int u = 0; u < model.Nu; u++) data.Ctrl[u] = rng.NextDouble() * 2 - 1;
                for (int f = 0; f < 5; f++)
                {
                    data.Step();
                    data.Forward(); // the contacts of the state reached (a step reports those of the state it left)
                    if (data.Ncon == 0 || ++step % every != 0) continue;
                    qpos.AddRange(data.Qpos.ToArray().Select(x => (float)x));
                    qvel.AddRange(data.Qvel.ToArray().Select(x => (float)x));
                    ctrl.AddRange(data.Ctrl.ToArray().Select(x => (float)x));
                }
            }
        }
        return (qpos.ToArray(), qvel.ToArray(), ctrl.ToArray());
    }

    /// <summary>Drop and settle: the worst difference from MuJoCo at any env step (torso height: the first free joint's z; NaN without one).</summary>
    public sealed record DropResult(double TorsoZErr, double HingeErrDeg, double FinalZ)
    {
        public bool Pass => !(TorsoZErr >= 0.01) && HingeErrDeg < 2;
    }

    /// <summary>
    /// From qpos0 at rest, <paramref name="envSteps"/> env steps (frame skip 5) with control u fixed at
    /// +<paramref name="level"/> for even u and -<paramref name="level"/> for odd u, on both engines.
    /// </summary>
    public static DropResult Drop(Device device, string modelPath, double level, int envSteps = 100)
    {
        using var k = new KernelPhysics(device, modelPath, 1);
        using var model = LoadMuJoCo(modelPath);
        model.Integrator = MjIntegrator.Euler;
        using var data = model.MakeData();
        var free = k.Model.Joints.FirstOrDefault(j => j.Type == JointType.Free);
        var hinges = k.Model.Joints.Where(j => j.Type == JointType.Hinge).Select(j => j.QposAdr).ToArray();
        var ctrl = Enumerable.Range(0, k.Nu).Select(u => (float)(u % 2 == 0 ? level : -level)).ToArray();
        k.Ctrl.CopyFrom(ctrl);
        for (int u = 0; u < k.Nu; u++) data.Ctrl[u] = ctrl[u];
        double worstZ = free is null ? double.NaN : 0, worstHinge = 0;
        for (int t = 0; t < envSteps; t++)
        {
            k.Step(5);
            for (int f = 0; f < 5; f++) data.Step();
            var q = k.Qpos.ToArray();
            var want = data.Qpos;
            if (free is not null) worstZ = Math.Max(worstZ, Math.Abs(q[free.QposAdr + 2] - want[free.QposAdr + 2]));
            foreach (int a in hinges) worstHinge = Math.Max(worstHinge, Math.Abs(q[a] - want[a]) * 180 / Math.PI);
        }
        return new DropResult(worstZ, worstHinge, free is null ? double.NaN : data.Qpos[free.QposAdr + 2]);
    }

    // ---------------- helpers ----------------

    public static MjModel LoadMuJoCo(string path)
    {
        try
        {
            return MjModel.Load(path);
        }
        catch (MuJoCoException e)
        {
            throw new EpgException(e.Message);
        }
    }

    public static double[] Row(float[] a, int row, int width)
    {
        var r = new double[width];
        for (int i = 0; i < width; i++) r[i] = a[row * width + i];
        return r;
    }

    /// <summary>max |got - want| / max |want| over the whole vector.</summary>
    public static double MaxRel(IReadOnlyList<double> got, IReadOnlyList<double> want)
    {
        double scale = 1e-300, worst = 0;
        for (int i = 0; i < want.Count; i++) scale = Math.Max(scale, Math.Abs(want[i]));
        for (int i = 0; i < got.Count; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[i]) / scale);
        return worst;
    }
}

/// <summary>Check 1 on the device: mass matrix, bias and Euler steps of the Ant without constraints against MuJoCo.</summary>
public sealed class PhysicsFreeMotionCheck : ISelfCheck
{
    public string Name => "physics.free-motion-vs-mujoco";

    public (bool Passed, string Detail) Run(Device device)
    {
        if (!PhysicsValidation.MuJoCoAvailable) return (false, "libmujoco 2.2.2 not available (install libmujoco2.2.2: dotnet pwsh ./build.ps1 deps)");
        var r = PhysicsValidation.FreeMotion(device, MuJoCoModels.AntPath);
        return (r.Pass, $"Ant, 16 random states: mass matrix {r.MassRelErr:g2}, bias {r.BiasRelErr:g2} (< 1e-4); 1 step {r.OneStepRelErr:g2} (< 1e-3), 100 steps {r.HundredStepRelErr:g2} (< 1e-2) max rel err");
    }
}

/// <summary>Check 2 on the device: rest force, rest gap, Coulomb slide and tilted planes.</summary>
public sealed class PhysicsContactLawCheck : ISelfCheck
{
    public string Name => "physics.contact-laws";

    public (bool Passed, string Detail) Run(Device device)
    {
        bool mj = PhysicsValidation.MuJoCoAvailable;
        var r = PhysicsValidation.ContactLaws(device, mj);
        string gaps = mj
            ? $"rest gap sphere {r.SphereRestGap * 1000:F2} mm (MuJoCo {r.SphereRestGapMuJoCo * 1000:F2}), capsule {r.CapsuleRestGap * 1000:F2} mm (MuJoCo {r.CapsuleRestGapMuJoCo * 1000:F2})"
            : "rest gap not compared (no libmujoco)";
        return (r.Pass, $"normal force/weight sphere {r.SphereForceRatio:F4}, capsule {r.CapsuleForceRatio:F4}; {gaps}; slide {r.SlideDistance:F3} m vs Coulomb {r.CoulombDistance:F3} m; drift 20 deg {r.Drift20 * 1000:F1} mm, 35 deg {r.Drift35:F2} m vs {r.Coulomb35:F2} m");
    }
}

/// <summary>Check 3 on the device: the Ant settles at rest.</summary>
public sealed class PhysicsRestCheck : ISelfCheck
{
    public string Name => "physics.ant-at-rest";

    public (bool Passed, string Detail) Run(Device device)
    {
        var r = PhysicsValidation.Rest(device, MuJoCoModels.AntPath);
        return (r.Pass, $"4 s zero controls: KE/peak {r.KineticRatio:g2} (< 1e-3), normal force/weight {r.ForceRatio:F4} (within 5%), max penetration {r.MaxPenetration * 1000:F2} mm (< 10), torso z {r.FinalHeight:F4} m");
    }
}

/// <summary>Check 4 on the device: 1e6 env steps of random actions.</summary>
public sealed class PhysicsRandomActionsCheck : ISelfCheck
{
    public string Name => "physics.random-actions";

    public (bool Passed, string Detail) Run(Device device)
    {
        // 1e6 env steps; ILGPU's CPU accelerator (a debugging device, ~50x slower) runs 2e4
        int steps = device.Kind == BackendKind.IlgpuCpu ? 10 : 500;
        var r = PhysicsValidation.RandomActions(device, MuJoCoModels.AntPath, envs: 2000, steps: steps);
        return (r.Pass, $"{r.EnvSteps:N0} Ant env steps: finite {r.Finite}, max KE {r.MaxKinetic:F1} J (< 1000), max penetration {r.MaxPenetration * 1000:F1} mm (< 150), max torso z {r.MaxHeight:F2} m");
    }
}

/// <summary>Check 6 on the device: the constraint model against MuJoCo on the Ant (one forward step from recorded states, a drop).</summary>
public sealed class PhysicsConstraintCheck : ISelfCheck
{
    public string Name => "physics.constraints-vs-mujoco";

    public (bool Passed, string Detail) Run(Device device)
    {
        if (!PhysicsValidation.MuJoCoAvailable) return (false, "libmujoco 2.2.2 not available (install libmujoco2.2.2: dotnet pwsh ./build.ps1 deps)");
        var step = PhysicsValidation.ConstraintStep(device, MuJoCoModels.AntPath);
        var drop = PhysicsValidation.Drop(device, MuJoCoModels.AntPath, 0);
        return (step.Applicable && step.Pass && drop.Pass, $"Ant, {step.States} recorded states ({step.Contacts} contacts): qacc {step.QaccRelErr:g2} max rel err (< 1e-3), normal force {step.ForceErrOverWeight:g2} of the weight (< 1e-3); "
            + $"100-env-step drop: torso z {drop.TorsoZErr * 1000:F3} mm (< 10), hinges {drop.HingeErrDeg:F4} deg (< 2)");
    }
}
