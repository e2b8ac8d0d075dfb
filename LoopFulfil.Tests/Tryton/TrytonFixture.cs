using LoopFulfil.Sandbox.Tryton;

namespace LoopFulfil.Tests.Tryton;

/// <summary>
/// One Tryton engine (eng/tryton/start.sh) for the whole test run's Tryton collection. If Tryton cannot be installed
/// or started, every Tryton test fails with the script's output: these tests never skip.
/// </summary>
public sealed class TrytonFixture : IAsyncLifetime
{
    private TrytonEngine? _engine;
    private InvalidOperationException? _failure;

    public TrytonEngine Engine => _engine ?? throw new InvalidOperationException("Tryton did not start: " + _failure?.Message, _failure);

    public async Task InitializeAsync()
    {
        // A first start on a fresh machine installs packages and builds the database; later ones copy it.
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            _engine = await TrytonEngine.StartAsync(progress: null, patience.Token);
        }
        catch (InvalidOperationException ex)
        {
            _failure = ex;
        }
        catch (OperationCanceledException ex)
        {
            _failure = new InvalidOperationException("eng/tryton/start.sh did not get Tryton ready within 8 minutes.", ex);
        }
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}

/// <summary>The Tryton tests share one engine and run one after another (SQLite serialises writers).</summary>
[CollectionDefinition(Name)]
public sealed class TrytonTests : ICollectionFixture<TrytonFixture>
{
    public const string Name = "Tryton";
}
