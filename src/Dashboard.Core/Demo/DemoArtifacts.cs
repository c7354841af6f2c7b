using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Dashboard.Demo;

/// <summary>
/// The files a demo run leaves in its artifacts, shaped as <c>mlflow.paddle.log_model</c> of MLflow 2.17 writes them
/// (the recorded session's MLmodel, requirements.txt, conda.yaml and python_env.yaml, tests/Dashboard.Core.Tests/
/// ModelCards/Fixtures), plus what training scripts add: a metrics CSV and a plot.
/// </summary>
internal static class DemoArtifacts
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Mlmodel(DemoRunPlan run, string runId, string modelUuid, string utcTimeCreated) => $"""
        artifact_path: model
        flavors:
          paddle:
            code: null
            paddle_version: {DemoPlan.PaddleVersion}
            pickled_model: model
          python_function:
            env:
              conda: conda.yaml
              virtualenv: python_env.yaml
            loader_module: mlflow.paddle
            model_path: model
            python_version: {DemoPlan.PythonVersion}
        mlflow_version: {DemoPlan.MlflowVersion}
        model_uuid: {modelUuid}
        run_id: {runId}
        signature:
          inputs: '{run.Experiment.InputSignature}'
          outputs: '{run.Experiment.OutputSignature}'
          params: null
        utc_time_created: '{utcTimeCreated}'

        """;

    /// <summary>The model JSON an MLflow 2 client sends to runs/log-model alongside the files.</summary>
    public static string ModelJson(string runId, string modelUuid, string utcTimeCreated) => new JsonObject
    {
        ["run_id"] = runId,
        ["artifact_path"] = "model",
        ["utc_time_created"] = utcTimeCreated,
        ["model_uuid"] = modelUuid,
        ["flavors"] = new JsonObject
        {
            ["python_function"] = new JsonObject
            {
                ["model_path"] = "model",
                ["loader_module"] = "mlflow.paddle",
                ["python_version"] = DemoPlan.PythonVersion,
                ["env"] = new JsonObject { ["conda"] = "conda.yaml", ["virtualenv"] = "python_env.yaml" },
            },
            ["paddle"] = new JsonObject { ["pickled_model"] = "model", ["paddle_version"] = DemoPlan.PaddleVersion, ["code"] = null },
        },
    }.ToJsonString();

    public static string Requirements(DemoRunPlan run)
    {
        var lines = new List<string> { $"mlflow=={DemoPlan.MlflowVersion}", $"paddlepaddle=={DemoPlan.PaddleVersion}" };
        if (run.Experiment.Task == "text-classification")
        {
            lines.Add("paddlenlp==2.8.1");
        }
        if (run.Experiment.Task == "ocr")
        {
            lines.Add("paddleocr==2.8.1");
            lines.Add("opencv-python==4.10.0.84");
        }
        lines.Add("numpy==1.26.4");
        return string.Join('\n', lines) + "\n";
    }

    public static string Conda(DemoRunPlan run) =>
        "channels:\n- conda-forge\ndependencies:\n" + $"- python={DemoPlan.PythonVersion}\n- pip<=24.0\n- pip:\n"
        + string.Concat(Requirements(run).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => $"  - {l}\n"))
        + "name: mlflow-env\n";

    public const string PythonEnv = $"python: {DemoPlan.PythonVersion}\nbuild_dependencies:\n- pip==24.0\n- setuptools==69.5.1\n- wheel==0.43.0\ndependencies:\n- -r requirements.txt\n";

    /// <summary>The stub program file the recorded sessions uploaded, naming this run's network.</summary>
    public static string Program(DemoRunPlan run) =>
        $$"""{"format": "stub-paddle-program", "class": "{{run.Experiment.Architecture}}", "module": "__main__", "input_spec": "None"}""";

    /// <summary>Per epoch, every metric the run logged, as scripts write with pandas' to_csv.</summary>
    public static string MetricsCsv(DemoRunPlan run)
    {
        var keys = run.Curves.Keys.Order(StringComparer.Ordinal).ToList();
        var csv = new StringBuilder("epoch," + string.Join(',', keys) + "\n");
        for (var e = 0; e < run.EpochsLogged; e++)
        {
            csv.Append(e.ToString(Inv));
            foreach (var key in keys)
            {
                var v = run.Curves[key][e];
                csv.Append(',').Append(double.IsNaN(v) ? "nan" : v.ToString("G6", Inv));
            }
            csv.Append('\n');
        }
        return csv.ToString();
    }

    public static byte[] LossPlot(DemoRunPlan run) => PngPlot.LineChart([run.Curves["train_loss"], run.Curves["val_loss"]]);
}
