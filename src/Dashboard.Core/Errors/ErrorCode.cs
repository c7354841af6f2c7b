namespace Dashboard.Errors;

/// <summary>
/// MLflow's error codes (databricks.proto) that this server emits. The names are the wire values.
/// </summary>
#pragma warning disable CA1707 // the member names are the wire contract
public enum ErrorCode
{
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    BAD_REQUEST,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    ENDPOINT_NOT_FOUND,
    PERMISSION_DENIED,
    UNAUTHENTICATED,
    REQUEST_LIMIT_EXCEEDED,
    INVALID_STATE,
    NOT_IMPLEMENTED,
    TEMPORARILY_UNAVAILABLE,
}
#pragma warning restore CA1707

public static class ErrorCodes
{
    /// <summary>MLflow's status table (mlflow/exceptions.py). A validation error is never a 5xx: clients retry those.</summary>
    public static int HttpStatus(this ErrorCode code) => code switch
    {
        // MLflow answers RESOURCE_ALREADY_EXISTS with 400, not 409.
        ErrorCode.INVALID_PARAMETER_VALUE or ErrorCode.BAD_REQUEST or ErrorCode.RESOURCE_ALREADY_EXISTS => 400,
        ErrorCode.UNAUTHENTICATED => 401,
        ErrorCode.PERMISSION_DENIED => 403,
        ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.ENDPOINT_NOT_FOUND => 404,
        ErrorCode.REQUEST_LIMIT_EXCEEDED => 429,
        // Not sent by our MLflow endpoints (MLflow's own 500 for it is replaced by 400 there): /api/v1 uses it for an
        // illegal state transition (a promotion request that is no longer Pending), answered 409 Conflict.
        ErrorCode.INVALID_STATE => 409,
        ErrorCode.NOT_IMPLEMENTED => 501,
        ErrorCode.TEMPORARILY_UNAVAILABLE => 503,
        _ => 500,
    };
}
