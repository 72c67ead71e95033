using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;
using EpgFast.Validation.Physics;

namespace EpgFast.Cli.Verbs;

/// <summary>`epg physics --compare`: the kernel simulator against MuJoCo on one model: free motion, the constrained step, drops, rest, a trot.</summary>
public sealed partial class PhysicsOptions
{
    [Option("compare", HelpText = "Instead: validate the kernel simulator against MuJoCo on --model (mass matrix, bias and free motion without constraints; one forward step with contacts and limits from states MuJoCo recorded; drops under zero and constant controls; the model at rest; a coordinated trot in both engines). Exits 1 unless all pass.")]
    public bool Compare { get; set; }

    private int RunCompare()
    {
        string model = Model ?? MuJoCoModels.AntPath;
        if (!File.Exists(model)) throw new EpgException($"model file '{model}' not found");
        if (!PhysicsValidation.MuJoCoAvailable)
            throw new EpgException("--compare needs libmujoco 2.2.2 (install it with: dotnet pwsh ./build.ps1 deps)");
        using var device = OpenDevice();
        Output.Message($"physics --compare: {model} on the kernel simulator ({device.Name}) against MuJoCo 2.2.2 (Euler)");

        var free = PhysicsValidation.FreeMotion(device, model);
        var step = PhysicsValidation.ConstraintStep(device, model);
        var drop0 = PhysicsValidation.Drop(device, model, 0);
        var drop3 = PhysicsValidation.Drop(device, model, 0.3);
        var rest = PhysicsValidation.Rest(device, model);
        double trotKernel, trotMuJoCo;
        using (var k = new KernelPhysics(device, model, 1))
            trotKernel = PhysicsValidation.TrotDisplacement(k, k.Model);
        using (var cpu = new CpuDevice(1))
        using (var mj = new MuJoCoPhysics(cpu, model, 1, new EngineOptions { Integrator = Physics.Integrator.Euler }))
            trotMuJoCo = PhysicsValidation.TrotDisplacement(mj, Models.MjcfLoader.Load(model));
        bool pass = free.Pass && step.Pass && drop0.Pass && drop3.Pass && rest.Pass;

        static JsonNode? Num(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
        var json = new JsonObject
        {
            ["model"] = model,
            ["backend"] = device.Kind.ToString().ToLowerInvariant(),
            ["mass_matrix_max_rel_err"] = free.MassRelErr,
            ["bias_max_rel_err"] = free.BiasRelErr,
            ["one_step_max_rel_err"] = free.OneStepRelErr,
            ["free_motion_max_rel_err"] = free.HundredStepRelErr,
            ["constraint_states"] = step.States,
            ["constraint_contacts"] = step.Contacts,
            ["constraint_qacc_max_rel_err"] = Num(step.QaccRelErr),
            ["constraint_force_err_over_weight"] = Num(step.ForceErrOverWeight),
            ["drop_zero_torso_z_err"] = Num(drop0.TorsoZErr),
            ["drop_zero_hinge_err_deg"] = drop0.HingeErrDeg,
            ["drop_constant_torso_z_err"] = Num(drop3.TorsoZErr),
            ["drop_constant_hinge_err_deg"] = drop3.HingeErrDeg,
            ["rest_force_ratio"] = Num(rest.ForceRatio),
            ["rest_kinetic_ratio"] = rest.KineticRatio,
            ["rest_max_penetration"] = rest.MaxPenetration,
            ["trot_displacement_kernel"] = Num(trotKernel),
            ["trot_displacement_mujoco"] = Num(trotMuJoCo),
            ["pass"] = pass,
        };
        Output.Result(Json, json, () =>
        {
            string Mark(bool ok) => ok ? "ok  " : "FAIL";
            Console.WriteLine($"{Mark(free.MassRelErr < 1e-4)} mass matrix max rel err      {free.MassRelErr:g3}  (< 1e-4, vs mj_fullM)");
            Console.WriteLine($"{Mark(free.BiasRelErr < 1e-4)} bias max rel err             {free.BiasRelErr:g3}  (< 1e-4, vs qfrc_bias)");
            Console.WriteLine($"{Mark(free.OneStepRelErr < 1e-3)} one Euler step max rel err   {free.OneStepRelErr:g3}  (< 1e-3)");
            Console.WriteLine($"{Mark(free.HundredStepRelErr < 1e-2)} 100 Euler steps max rel err  {free.HundredStepRelErr:g3}  (< 1e-2)");
            if (step.Applicable)
            {
                Console.WriteLine($"{Mark(step.Pass)} constrained qacc max rel err  {step.QaccRelErr:g3}  (< 1e-3; {step.States} states MuJoCo recorded, {step.Contacts} contacts)");
                Console.WriteLine($"{Mark(step.Pass)} contact normal force err     {step.ForceErrOverWeight:g3} of the weight  (< 1e-3)");
            }
            else
            {
                Console.WriteLine("     constrained step             n/a (MuJoCo reached no state with contacts)");
            }
            Console.WriteLine($"{Mark(drop0.Pass)} drop, zero controls          torso z {drop0.TorsoZErr * 1000:F3} mm (< 10), hinges {drop0.HingeErrDeg:F4} deg (< 2), 100 env steps");
            Console.WriteLine($"{Mark(drop3.Pass)} drop, controls +-0.3         torso z {drop3.TorsoZErr * 1000:F3} mm (< 10), hinges {drop3.HingeErrDeg:F4} deg (< 2), 100 env steps");
            Console.WriteLine($"{Mark(double.IsNaN(rest.ForceRatio) || Math.Abs(rest.ForceRatio - 1) < 0.05)} rest normal force / weight   {(double.IsNaN(rest.ForceRatio) ? "n/a (no contacts)" : rest.ForceRatio.ToString("F4"))}  (within 5%)");
            Console.WriteLine($"{Mark(rest.KineticRatio < 1e-3)} rest kinetic energy / peak   {rest.KineticRatio:g3}  (< 1e-3 after 4 s)");
            Console.WriteLine($"{Mark(rest.MaxPenetration < 0.01)} rest max penetration         {rest.MaxPenetration * 1000:F2} mm  (< 10 mm)");
            Console.WriteLine(double.IsNaN(trotKernel)
                ? "     trot displacement            n/a (the model has no free root body)"
                : $"     trot displacement (400 env steps)  kernel {trotKernel:F3} m, MuJoCo {trotMuJoCo:F3} m  (reported only: open-loop gaits are chaotic)");
            Console.WriteLine(pass ? "pass" : "FAIL");
        });
        return pass ? 0 : 1;
    }
}
