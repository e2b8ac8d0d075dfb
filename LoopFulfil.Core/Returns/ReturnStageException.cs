using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;

namespace LoopFulfil.Core.Returns;

/// <summary>
/// A permanent problem a stage found, with the category (and so the owning team) the exception record gets.
/// Throwing it is equivalent to <see cref="ReturnContext.RaiseAsync"/>: the record is created, the pipeline stops for
/// this return and the message is completed.
/// </summary>
public sealed class ReturnStageException : PermanentIntegrationException
{
    public ReturnStageException(ExceptionCategory category, string message, Exception? innerException = null)
        : base(message, innerException!) => Category = category;

    public ReturnStageException() : this(ExceptionCategory.FulfilRejected, "A return stage failed permanently.") { }

    public ReturnStageException(string message) : this(ExceptionCategory.FulfilRejected, message) { }

    public ReturnStageException(string message, Exception innerException) : this(ExceptionCategory.FulfilRejected, message, innerException) { }

    public ExceptionCategory Category { get; }

    /// <summary>SKUs involved (SKU categories: the rechecker replays once they are all active).</summary>
    public IReadOnlyList<string> Skus { get; init; } = [];

    /// <summary>Separates several problems of one category on one return (null: one record per category and return).</summary>
    public string? DetailKey { get; init; }
}
