namespace EpgFast.Kernels.Random;

/// <summary>The consumers of random numbers, one stream kind each, so no two ever share numbers.</summary>
public static class RandomStreams
{
    public const uint Test = 0;
    public const uint EsNoise = 1;
    public const uint PolicyInit = 2;
    public const uint ActionNoise = 3;
    public const uint TaskSample = 4;
    public const uint EnvReset = 5;
    public const uint Minibatch = 6;
    public const uint LossInit = 7;
}
