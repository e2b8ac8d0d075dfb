using System.Text;
using LoopFulfil.LocalHost;

namespace LoopFulfil.Tests.LocalHost;

public class LocalQueueEnvelopeTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Utf8_json_body_travels_as_readable_text_and_comes_back_byte_exact()
    {
        // Whitespace, a BOM, escapes and non-ASCII: a webhook body must survive exactly (signatures were computed on it).
        var body = Encoding.UTF8.GetBytes("\uFEFF{ \"id\": \"R-1\",\n \"note\": \"caf\u00e9 \\\"quoted\\\" \u2713\" }  ");
        var envelope = new LocalQueueEnvelope("msg-1", "return-42", new Dictionary<string, string> { ["topic"] = "return.created" }, body, At);

        var encoded = envelope.Encode();

        Assert.Contains("\"body\":", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        Assert.True(LocalQueueEnvelope.TryDecode(encoded, out var decoded, out var error), error);
        Assert.Equal(body, decoded!.Body.ToArray());
        Assert.Equal("msg-1", decoded.MessageId);
        Assert.Equal("return-42", decoded.SessionId);
        Assert.Equal("return.created", decoded.Properties["topic"]);
        Assert.Equal(At, decoded.EnqueuedAt);
    }

    [Fact]
    public void Binary_body_travels_as_base64_and_comes_back_byte_exact()
    {
        byte[] body = [0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80];
        var envelope = new LocalQueueEnvelope("msg-2", null, new Dictionary<string, string>(), body, At);

        var encoded = envelope.Encode();

        Assert.Contains("\"bodyBase64\":", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        Assert.True(LocalQueueEnvelope.TryDecode(encoded, out var decoded, out _));
        Assert.Equal(body, decoded!.Body.ToArray());
        Assert.Null(decoded.SessionId);
        Assert.Empty(decoded.Properties);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2]")]
    [InlineData("{\"body\":\"x\"}")]
    [InlineData("{\"messageId\":\"m\"}")]
    [InlineData("{\"messageId\":\"m\",\"bodyBase64\":\"***\"}")]
    public void Bytes_that_are_not_an_envelope_are_reported_not_thrown(string text)
    {
        Assert.False(LocalQueueEnvelope.TryDecode(Encoding.UTF8.GetBytes(text), out var envelope, out var error));
        Assert.Null(envelope);
        Assert.False(string.IsNullOrEmpty(error));
    }
}
