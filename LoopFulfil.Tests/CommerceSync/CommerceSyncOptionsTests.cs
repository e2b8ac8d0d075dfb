using LoopFulfil.Core.CommerceSync;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Tests.CommerceSync;

public class CommerceSyncOptionsTests
{
    private static IOptions<CommerceSyncOptions> Bind(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new ServiceCollection().AddLoopFulfilCommerceSync(configuration).BuildServiceProvider().GetRequiredService<IOptions<CommerceSyncOptions>>();
    }

    [Fact]
    public void Defaults_fit_a_consumption_plan_and_a_ninety_day_return_window()
    {
        var options = Bind([]).Value;

        Assert.True(options.Enabled);
        Assert.Equal(90, options.ReturnWindowDays);
        Assert.Equal(TimeSpan.FromMinutes(9), options.RunBudget);
        Assert.Equal("0 */15 * * * *", options.IncrementalSchedule);
        Assert.Equal("0 0 3 * * *", options.FullPassSchedule);
        Assert.Equal("commercemap", options.TableName);
    }

    [Fact]
    public void The_CommerceSync_section_binds_every_key()
    {
        var options = Bind(new()
        {
            ["CommerceSync:Enabled"] = "false",
            ["CommerceSync:ReturnWindowDays"] = "30",
            ["CommerceSync:MaxConcurrency"] = "4",
            ["CommerceSync:RunBudget"] = "00:04:00",
            ["CommerceSync:IncrementalSchedule"] = "0 */5 * * * *",
            ["CommerceSync:FullPassSchedule"] = "0 30 2 * * *",
            ["CommerceSync:CurrencyCode"] = "EUR",
        }).Value;

        Assert.False(options.Enabled);
        Assert.Equal(30, options.ReturnWindowDays);
        Assert.Equal(4, options.MaxConcurrency);
        Assert.Equal(TimeSpan.FromMinutes(4), options.RunBudget);
        Assert.Equal("0 */5 * * * *", options.IncrementalSchedule);
        Assert.Equal("0 30 2 * * *", options.FullPassSchedule);
        Assert.Equal("EUR", options.CurrencyCode);
    }

    [Theory]
    [InlineData("CommerceSync:IncrementalSchedule", "*/15 * * * *")]
    [InlineData("CommerceSync:FullPassSchedule", "daily")]
    [InlineData("CommerceSync:FullPassSchedule", "0 0 25 * * *")]
    [InlineData("CommerceSync:RunBudget", "00:00:00")]
    [InlineData("CommerceSync:MaxConcurrency", "0")]
    [InlineData("CommerceSync:ReturnWindowDays", "-1")]
    [InlineData("CommerceSync:TableName", "commerce-map")]
    public void Invalid_settings_are_refused_with_the_key_named(string key, string value)
    {
        var options = Bind(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => options.Value);
        Assert.Contains(key.Replace("CommerceSync:", "", StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
    }
}
