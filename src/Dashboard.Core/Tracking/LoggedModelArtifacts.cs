using Dashboard.Artifacts;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>A file or folder among a logged model's artifacts, its path relative to the model's artifact root.</summary>
public sealed record ModelArtifactFile(string Path, bool IsDirectory, long? Size);

/// <summary>
/// logged-models/{id}/artifacts/directories: the children of a folder of a model's artifacts, read through the
/// artifact store behind the server's <c>mlflow-artifacts:</c> proxy, with paths relative to the model's root as
/// MLflow's _list_artifacts_for_proxied_run_artifact_root answers them.
/// </summary>
public static class LoggedModelArtifacts
{
    public static async Task<IReadOnlyList<ModelArtifactFile>> ListAsync(IArtifactStore store, LoggedModel model, string? directory,
        CancellationToken ct)
    {
        // A location outside this server's store (an experiment created elsewhere with another scheme) is not ours to list.
        var root = ArtifactLocations.StorePath(model.ArtifactLocation) ?? throw new MlflowException(ErrorCode.NOT_IMPLEMENTED,
            $"The artifacts of logged model '{model.Id}' are stored at '{model.ArtifactLocation}', outside this server's artifact store.");
        var relative = string.IsNullOrEmpty(directory) ? ArtifactPath.Root : ArtifactPath.Parse(directory, "artifact_directory_path");
        var entries = await store.ListAsync(root.Append(relative), ct);
        return [.. entries.Select(e => new ModelArtifactFile(
            relative.IsRoot ? e.Name : $"{relative.Value}/{e.Name}", e.IsDirectory, e.IsDirectory ? null : e.Size))];
    }
}
