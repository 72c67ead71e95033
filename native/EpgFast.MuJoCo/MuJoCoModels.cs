namespace EpgFast.MuJoCo;

/// <summary>The models that ship with EpgFast (native/models/, copied next to the binaries as models/).</summary>
public static class MuJoCoModels
{
    /// <summary>The project's Ant (native/models/ant.xml): nq 15, nv 14, nu 8, Euler, timestep 0.01.</summary>
    public static string AntPath => Find("ant.xml");

    /// <summary>
    /// A shipped model by file name: models/NAME next to the binaries, else native/models/NAME in
    /// the current directory or one of its parents (running from a source checkout).
    /// </summary>
    public static string Find(string fileName)
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "models", fileName);
        if (File.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "native", "models", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        return beside;
    }
}
