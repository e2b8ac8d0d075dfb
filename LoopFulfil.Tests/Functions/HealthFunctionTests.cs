using LoopFulfil.Functions.Functions;
using LoopFulfil.Tests.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LoopFulfil.Tests.Functions;

public class HealthFunctionTests
{
    [Fact]
    public async Task Health_returns_200_with_version_when_storage_answers()
    {
        var function = new HealthFunction(HealthCheckTests.NewCheck(new HealthCheckTests.ProbeTableStore()));

        var result = Assert.IsType<ObjectResult>(await function.Run(new DefaultHttpContext().Request));

        Assert.Equal(StatusCodes.Status200OK, result.StatusCode);
        var body = Assert.IsType<HealthResponse>(result.Value);
        Assert.Equal("healthy", body.Status);
        Assert.True(body.StorageReachable);
        Assert.False(string.IsNullOrWhiteSpace(body.Version));
    }

    [Fact]
    public async Task Health_returns_503_when_storage_is_unreachable()
    {
        var store = new HealthCheckTests.ProbeTableStore { Failure = new HttpRequestException("No such host is known.") };
        var function = new HealthFunction(HealthCheckTests.NewCheck(store));

        var result = Assert.IsType<ObjectResult>(await function.Run(new DefaultHttpContext().Request));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, result.StatusCode);
        Assert.Equal("unhealthy", Assert.IsType<HealthResponse>(result.Value).Status);
    }

    [Fact]
    public void Health_is_an_anonymous_get_on_api_health()
    {
        var run = typeof(HealthFunction).GetMethod(nameof(HealthFunction.Run))!;

        Assert.Equal("Health", run.GetCustomAttributes(typeof(FunctionAttribute), false).Cast<FunctionAttribute>().Single().Name);
        var trigger = run.GetParameters()[0].GetCustomAttributes(typeof(HttpTriggerAttribute), false).Cast<HttpTriggerAttribute>().Single();
        Assert.Equal(AuthorizationLevel.Anonymous, trigger.AuthLevel);
        Assert.Equal(["get"], trigger.Methods ?? []);
        Assert.Equal("health", trigger.Route);
    }
}
