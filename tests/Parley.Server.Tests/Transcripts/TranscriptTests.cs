using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Transcripts;

/// <summary>Runs every Transcripts/*.xmpp file.</summary>
public sealed class TranscriptTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Transcripts"), "*.xmpp"))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Transcript_passes(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Transcripts", file);
        await TranscriptRunner.RunAsync(Transcript.Parse(file, await File.ReadAllTextAsync(path)));
    }
}
