namespace Dashboard.Errors;

/// <summary>
/// The one exception type for errors a caller can act on. Rendered as MLflow's
/// <c>{"error_code", "message"}</c> under the MLflow paths and as ProblemDetails under /api/v1.
/// </summary>
public sealed class MlflowException : Exception
{
    public MlflowException(ErrorCode errorCode, string message) : base(message) => ErrorCode = errorCode;

    public MlflowException() : this(ErrorCode.INTERNAL_ERROR, "Internal error") { }

    public MlflowException(string message) : this(ErrorCode.INTERNAL_ERROR, message) { }

    public MlflowException(string message, Exception innerException) : base(message, innerException) =>
        ErrorCode = ErrorCode.INTERNAL_ERROR;

    public ErrorCode ErrorCode { get; }

    public int HttpStatus => ErrorCode.HttpStatus();

    public static MlflowException InvalidParameter(string message) => new(ErrorCode.INVALID_PARAMETER_VALUE, message);

    public static MlflowException NotFound(string message) => new(ErrorCode.RESOURCE_DOES_NOT_EXIST, message);

    public static MlflowException AlreadyExists(string message) => new(ErrorCode.RESOURCE_ALREADY_EXISTS, message);

    /// <summary>MLflow's "Missing value for required parameter 'x'." (validation.missing_value).</summary>
    public static MlflowException Missing(string path) =>
        InvalidParameter($"Missing value for required parameter '{path}'.");
}
