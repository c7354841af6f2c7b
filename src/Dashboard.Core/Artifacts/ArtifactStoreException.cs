namespace Dashboard.Artifacts;

/// <summary>
/// The storage behind an artifact store failed: refused the credentials, could not be reached, lost a bucket. Not
/// the caller's fault, so the API answers 500 and logs it. The message names the store (never a secret), what it
/// was doing and the service's error code; the SDK's exception is the inner one.
/// </summary>
public sealed class ArtifactStoreException : IOException
{
    public ArtifactStoreException()
    {
    }

    public ArtifactStoreException(string message) : base(message)
    {
    }

    public ArtifactStoreException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
