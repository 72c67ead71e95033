namespace EpgFast.MuJoCo;

/// <summary>
/// A clear, one-line MuJoCo failure (library missing or of the wrong version, a model that does
/// not load). The engine turns it into its user-facing error.
/// </summary>
public sealed class MuJoCoException(string message) : Exception(message);
