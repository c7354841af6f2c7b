namespace Dashboard.Api.Mlflow;

// The messages of mlflow_artifacts.proto and of service.proto's ListArtifacts, as they travel.

public sealed record ListArtifactsRequest(string? Path);

public sealed record ListRunArtifactsRequest(string? RunId, string? RunUuid, string? Path, string? PageToken);

/// <summary>
/// FileInfo: <c>file_size</c> is left out for folders and, as protobuf omits a zero, for empty files (the MLflow
/// recordings show <c>{"path": "empty.txt", "is_dir": false}</c>).
/// </summary>
public sealed record FileInfoMessage(string Path, bool IsDir, long? FileSize);

/// <summary>Both list responses: the proxy's (files only) and the run's (root_uri and run-relative paths).</summary>
public sealed record ListArtifactsResponse(string? RootUri, IReadOnlyList<FileInfoMessage> Files);
