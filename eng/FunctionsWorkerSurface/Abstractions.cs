// Package: Microsoft.Azure.Functions.Worker.Extensions.Abstractions 1.3.0
// (Azure/azure-functions-dotnet-worker, tag abstractions-extension-1.3.0, extensions/Worker.Extensions.Abstractions/src/).
// Attributes are metadata: their constructors store arguments exactly as the real ones do (including the retry
// attributes' interval validation), so reading them through reflection behaves the same on either build.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker
{
    // Source: extensions/Worker.Extensions.Abstractions/src/FunctionAttribute.cs
    [AttributeUsage(AttributeTargets.Method)]
    public class FunctionAttribute : Attribute
    {
        public FunctionAttribute(string name) => Name = name;

        public string Name { get; }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/RetryAttribute.cs
    [AttributeUsage(AttributeTargets.Method)]
    public abstract class RetryAttribute : Attribute
    {
        public RetryAttribute()
        {
        }

        public int MaxRetryCount { get; set; }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/FixedDelayRetryAttribute.cs
    public sealed class FixedDelayRetryAttribute : RetryAttribute
    {
        public FixedDelayRetryAttribute(int maxRetryCount, string delayInterval)
        {
            RetryIntervals.Parse(delayInterval, nameof(delayInterval));
            MaxRetryCount = maxRetryCount;
            DelayInterval = delayInterval;
        }

        public string DelayInterval { get; }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/ExponentialBackoffRetryAttribute.cs
    public sealed class ExponentialBackoffRetryAttribute : RetryAttribute
    {
        public ExponentialBackoffRetryAttribute(int maxRetryCount, string minimumInterval, string maximumInterval)
        {
            var min = RetryIntervals.Parse(minimumInterval, nameof(minimumInterval));
            var max = RetryIntervals.Parse(maximumInterval, nameof(maximumInterval));
            if (min > max)
            {
                throw new ArgumentException("The minimumInterval must not be greater than the maximumInterval.", nameof(minimumInterval));
            }

            MaxRetryCount = maxRetryCount;
            MinimumInterval = minimumInterval;
            MaximumInterval = maximumInterval;
        }

        public string MinimumInterval { get; }

        public string MaximumInterval { get; }
    }

    // Not part of the real API: the validation both retry attributes share, kept internal.
    internal static class RetryIntervals
    {
        internal static TimeSpan Parse(string value, string parameterName)
        {
            if (!TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var interval))
            {
                throw new ArgumentOutOfRangeException(parameterName);
            }

            if (interval.Ticks < 0)
            {
                throw new ArgumentOutOfRangeException(parameterName, "The TimeSpan must not be negative.");
            }

            return interval;
        }
    }
}

namespace Microsoft.Azure.Functions.Worker.Extensions.Abstractions
{
    // Source: extensions/Worker.Extensions.Abstractions/src/BindingAttribute.cs
    [AttributeUsage(AttributeTargets.Method)]
    public abstract class BindingAttribute : Attribute
    {
        public BindingAttribute()
        {
        }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/InputBindingAttribute.cs
    [AttributeUsage(AttributeTargets.Parameter)]
    public abstract class InputBindingAttribute : BindingAttribute
    {
        public InputBindingAttribute()
        {
        }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/OutputBindingAttribute.cs
    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Property)]
    public abstract class OutputBindingAttribute : BindingAttribute
    {
        public OutputBindingAttribute()
        {
        }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/TriggerBindingAttribute.cs
    [AttributeUsage(AttributeTargets.Parameter)]
    public abstract class TriggerBindingAttribute : BindingAttribute
    {
        public TriggerBindingAttribute()
        {
        }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/ISupportCardinality.cs
    public interface ISupportCardinality
    {
        public Cardinality Cardinality { get; set; }
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/ISupportCardinality.cs
    public enum Cardinality
    {
        Many,
        One,
    }

    // Source: extensions/Worker.Extensions.Abstractions/src/DefaultValueAttribute.cs
    [AttributeUsage(AttributeTargets.Property)]
    public class DefaultValueAttribute : Attribute
    {
        public DefaultValueAttribute(string stringDefault) => DefaultStringValue = stringDefault;

        public DefaultValueAttribute(bool boolDefault) => DefaultBoolValue = boolDefault;

        public string? DefaultStringValue { get; }

        public bool? DefaultBoolValue { get; }
    }
}
