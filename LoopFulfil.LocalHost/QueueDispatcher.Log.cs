using Microsoft.Extensions.Logging;

namespace LoopFulfil.LocalHost;

public sealed partial class QueueDispatcher
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: storage unavailable, retrying")]
    private partial void LogStoreUnavailable(Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: receive failed ({Failures} in a row)")]
    private partial void LogReceiveFailed(Exception exception, string queue, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: handler failed for message {MessageId} on delivery {DeliveryCount}")]
    private partial void LogHandlerFailed(Exception exception, string queue, string messageId, int deliveryCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue {Queue}: message {MessageId} moved to the poison queue ({Reason}) after {DeliveryCount} deliveries")]
    private partial void LogPoisoned(string queue, string messageId, string reason, int deliveryCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue {Queue}: the poison callback failed for message {MessageId}")]
    private partial void LogOnPoisonFailed(Exception exception, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: could not settle store message {StoreMessageId}; it reappears when its lock runs out")]
    private partial void LogSettleFailed(Exception exception, string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: could not release store message {StoreMessageId} on shutdown; it reappears when its lock runs out")]
    private partial void LogReleaseFailed(Exception exception, string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue}: lock renewal failed for store message {StoreMessageId}; retrying before the lock runs out")]
    private partial void LogRenewFailed(Exception exception, string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: lock lost for store message {StoreMessageId}")]
    private partial void LogLockLost(Exception exception, string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: store message {StoreMessageId} lost its lock while waiting its turn; it will be redelivered")]
    private partial void LogLockLostWhileWaiting(string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue}: received store message {StoreMessageId} again after its lock lapsed; kept its place")]
    private partial void LogLockRecovered(string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: store message {StoreMessageId} was handled but its lock had lapsed; it will be deleted unhandled if it comes back")]
    private partial void LogCompletedButLockLost(string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue}: deleting store message {StoreMessageId}, already handled")]
    private partial void LogDeletingCompletedRedelivery(string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: store message {StoreMessageId} arrived after its lane closed; it is released")]
    private partial void LogLaneClosed(string queue, string storeMessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: shutdown grace expired with {Held} messages held; cancelling handlers and releasing them")]
    private partial void LogGraceExpired(string queue, int held);
}
