namespace LoopFulfil.Tests.Loop;

/// <summary>Reads fixtures copied to the test output (never from /work/shared).</summary>
internal static class LoopFixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Loop");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static string Text(string name) => File.ReadAllText(Path.Combine(Directory, name));
}
