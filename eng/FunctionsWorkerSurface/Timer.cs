// Package: Microsoft.Azure.Functions.Worker.Extensions.Timer 4.3.1 (tag timer-4.3.1, extensions/Worker.Extensions.Timer/src/).
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

// Source: extensions/Worker.Extensions.Timer/src/TimerTriggerAttribute.cs (usage inherited: Parameter)
public sealed class TimerTriggerAttribute : TriggerBindingAttribute
{
    public TimerTriggerAttribute(string schedule)
    {
        Schedule = schedule;
        UseMonitor = true;
    }

    public string Schedule { get; private set; }

    public bool UseMonitor { get; set; }

    public bool RunOnStartup { get; set; }
}

// Source: extensions/Worker.Extensions.Timer/src/TimerInfo.cs
// Plain data in the real package too: tests construct it to invoke timer functions.
public class TimerInfo
{
    public ScheduleStatus? ScheduleStatus { get; set; }

    public bool IsPastDue { get; set; }
}

// Source: extensions/Worker.Extensions.Timer/src/ScheduleStatus.cs
public class ScheduleStatus
{
    public DateTime Last { get; set; }

    public DateTime Next { get; set; }

    public DateTime LastUpdated { get; set; }
}
