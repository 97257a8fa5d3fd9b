namespace Parley.Interop.Tests;

/// <summary>Programs of this repository as the test command builds them, in the configuration of this test assembly.</summary>
public static class BuiltOutput
{
    /// <summary>The path of <paramref name="dll"/> in the output of the project in <paramref name="projectDirectory"/> (from the repository root).</summary>
    public static string Dll(string projectDirectory, string dll)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Parley.slnx"))) root = Path.GetDirectoryName(root.TrimEnd('/'))!;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(root, projectDirectory, "bin", configuration, "net10.0", dll);
        Assert.True(File.Exists(path), "built by the test command: " + path);
        return path;
    }
}
