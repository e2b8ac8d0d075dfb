using Microsoft.AspNetCore.Http;

namespace LoopFulfil.Sandbox.Hosting;

/// <summary>
/// The sandboxes' request logs: a request is recorded once, when its answer starts (before any byte reaches the
/// client, so a caller that counts requests right after its call returned sees that call), or after the pipeline
/// when no answer ever started (the connection was dropped).
/// </summary>
internal static class AnswerRecording
{
    public static async Task RunAsync(HttpContext context, Func<Task> pipeline, Action record)
    {
        var recorded = 0;
        void Once()
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                record();
            }
        }

        context.Response.OnStarting(() =>
        {
            Once();
            return Task.CompletedTask;
        });
        try
        {
            await pipeline();
        }
        finally
        {
            Once();
        }
    }
}
