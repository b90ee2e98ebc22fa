using System.Text;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Tests.Store;

public sealed class DurableFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CreateOnlyHasOneWinnerWhenEveryWriterPlacesItsFileAtOnce()
    {
        // Each writer waits after its fsync until all are ready, so the placing steps overlap as much as they can:
        // a check-then-rename would let two writers both see no file and both "win".
        const int writers = 4;
        const int rounds = 150;
        for (var round = 0; round < rounds; round++)
        {
            var path = Path.Combine(_dir.Path, $"race-{round}");
            using var ready = new Barrier(writers);
            var won = new bool[writers];
            var threads = Enumerable.Range(0, writers).Select(i => new Thread(() =>
                won[i] = DurableFile.TryCreate(
                    path, s => s.Write(Encoding.UTF8.GetBytes($"writer {i}")), step =>
                    {
                        if (step == DurableStep.Synced)
                        {
                            ready.SignalAndWait();
                        }
                    }))).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            var winner = Assert.Single(Enumerable.Range(0, writers), i => won[i]);
            Assert.Equal($"writer {winner}", File.ReadAllText(path));
        }

        Assert.Equal(rounds, Directory.GetFiles(_dir.Path).Length);
    }
}
