using System.Globalization;

namespace Dashboard.Demo;

/// <summary>How a demo experiment's runs score: the quality a configuration reaches and how it trains.</summary>
/// <param name="Final">The primary metric the configuration converges to (an accuracy, a word accuracy, an F1, an hmean).</param>
/// <param name="Speed">How fast the loss decays per epoch (larger is faster).</param>
/// <param name="Overfits">The validation loss turns up after the first third of the epochs.</param>
/// <param name="Diverges">The loss explodes to NaN in the first epochs and the run fails.</param>
internal sealed record DemoOutcome(double Final, double Speed, bool Overfits, bool Diverges);

/// <summary>One demo experiment: a PaddlePaddle training script swept over a grid.</summary>
internal sealed record DemoExperimentSpec(
    string Name,
    string Task,
    string Team,
    string Note,
    string Script,
    string Architecture,
    string InputSignature,
    string OutputSignature,
    DemoDataset Dataset,
    string PrimaryMetric,
    IReadOnlyList<string> ExtraMetrics,
    int Epochs,
    string? ParentRunName,
    IReadOnlyList<string> Users,
    IReadOnlyDictionary<string, string> FixedParams,
    IReadOnlyList<(string Key, string[] Values)> Grid,
    Func<IReadOnlyDictionary<string, string>, DemoOutcome> Score);

internal sealed record DemoDataset(string Name, string SourceType, string Source, string Schema, long Rows);

/// <summary>A planned run: its params, status and curves, decided before anything is stored.</summary>
internal sealed class DemoRunPlan
{
    public required DemoExperimentSpec Experiment { get; init; }
    public required string Name { get; init; }
    public required string User { get; init; }
    public required IReadOnlyDictionary<string, string> Params { get; init; }
    public required string Status { get; init; }
    public required long StartTime { get; init; }
    public required long EndTime { get; init; }
    public required string GitCommit { get; init; }
    public string? Note { get; init; }

    /// <summary>Per metric, the value of each epoch logged (a failed or killed run stops early).</summary>
    public required IReadOnlyDictionary<string, double[]> Curves { get; init; }

    public int EpochsLogged => Curves["train_loss"].Length;

    /// <summary>The last value of the primary metric, NaN when the run never got a finite one.</summary>
    public double Primary => Curves[Experiment.PrimaryMetric] is { Length: > 0 } c ? c[^1] : double.NaN;
}

/// <summary>
/// The demo's content (docs/adr/0010-dashboard-ui.md, "Demo data"): six PaddlePaddle experiments (MNIST with SimpleCNN
/// and ResNet18, OCR recognition and detection, text classification with ERNIE and a BiLSTM), swept over learning
/// rate, batch size, optimizer and a few architecture knobs. Everything comes from one seeded <see cref="Random"/>,
/// so the same seed plans the same runs, params and curves; only times are placed relative to the day of seeding,
/// so that "last 7 days" filters and "3 days ago" mean something in the demo.
/// </summary>
internal static class DemoPlan
{
    public const string Framework = "paddlepaddle";
    public const string PaddleVersion = "2.6.1";
    public const string MlflowVersion = "2.17.0";
    public const string PythonVersion = "3.10.14";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<DemoExperimentSpec> Experiments { get; } =
    [
        new("mnist-simplecnn", "mnist", "vision",
            "Handwritten digits with a two-layer CNN (paddle.vision.datasets.MNIST). Baseline for new hires: a full grid over " +
            "learning rate, batch size and optimizer, nested under one search run.",
            "examples/mnist/train_simplecnn.py", "SimpleCNN",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 28, 28]}}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]""",
            new("mnist-train", "paddle.vision.datasets", "paddle.vision.datasets.MNIST(mode='train')",
                """{"mlflow_tensorspec": {"features": "[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 1, 28, 28]}}]", "targets": "[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1, 1]}}]"}}""",
                60_000),
            "val_accuracy", [], 10, "grid-search lr×batch×optimizer", ["li.wei", "maria.garcia"],
            new Dictionary<string, string> { ["epochs"] = "10", ["model"] = "SimpleCNN", ["dropout"] = "0.25" },
            [("learning_rate", ["0.1", "0.01", "0.001", "0.0001"]), ("batch_size", ["32", "64", "128"]), ("optimizer", ["sgd", "momentum", "adam"])],
            p => Classifier(p, best: 0.9925, floor: 0.90, adamBest: 0.001, sgdBest: 0.1, diverge: p["optimizer"] == "adam" && p["learning_rate"] == "0.1")),

        new("mnist-resnet18", "mnist", "vision",
            "ResNet18 from paddle.vision.models on MNIST, 20 epochs: without weight decay the validation loss turns up after " +
            "a few epochs (overfitting), which the charts show.",
            "examples/mnist/train_resnet.py", "ResNet18",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 28, 28]}}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]""",
            new("mnist-train", "paddle.vision.datasets", "paddle.vision.datasets.MNIST(mode='train')", "{}", 60_000),
            "val_accuracy", [], 20, "resnet18 sweep", ["maria.garcia"],
            new Dictionary<string, string> { ["epochs"] = "20", ["model"] = "ResNet18", ["pretrained"] = "false" },
            [("learning_rate", ["0.1", "0.05", "0.01", "0.001"]), ("batch_size", ["64", "128"]), ("optimizer", ["momentum", "adam"]),
                ("weight_decay", ["0", "0.0005"])],
            p => Classifier(p, best: 0.9962, floor: 0.95, adamBest: 0.001, sgdBest: 0.05,
                diverge: p["optimizer"] == "adam" && p["learning_rate"] is "0.1" or "0.05") with { Overfits = p["weight_decay"] == "0" }),

        new("ocr-crnn-recognition", "ocr", "document-ai",
            "PaddleOCR text recognition (CRNN with CTC loss) on a synthetic Chinese and English line corpus. Metric: word " +
            "accuracy and normalized edit distance on the validation lines.",
            "tools/train.py -c configs/rec/rec_crnn.yml", "CRNN",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 48, 320]}}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 80, 6625]}}]""",
            new("ocr-rec-lines-v3", "local", "s3://datasets/ocr/rec/lines-v3/train_list.txt", "{}", 420_000),
            "val_word_acc", ["val_norm_edit_dis"], 30, null, ["zhang.min", "sam.okafor"],
            new Dictionary<string, string> { ["epochs"] = "30", ["model"] = "CRNN", ["loss"] = "CTCLoss", ["max_text_length"] = "25" },
            [("backbone", ["MobileNetV3", "ResNet34"]), ("learning_rate", ["0.001", "0.0005", "0.0001"]), ("batch_size", ["64", "128", "256"]),
                ("seed", ["1", "2", "3"])],
            p => new DemoOutcome(
                Final: (p["backbone"] == "ResNet34" ? 0.842 : 0.801) - (0.025 * Math.Abs(Math.Log10(D(p["learning_rate"]) / 0.0005)))
                    - (p["batch_size"] == "256" ? 0.012 : 0),
                Speed: 0.12 + (D(p["learning_rate"]) * 60), Overfits: false, Diverges: false)),

        new("ocr-dbnet-detection", "ocr", "document-ai",
            "PaddleOCR text detection (DBNet) on scanned invoices and receipts; hmean of precision and recall at IoU 0.5.",
            "tools/train.py -c configs/det/det_db.yml", "DBNet",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 640, 640]}}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 640, 640]}}]""",
            new("ocr-det-invoices-v2", "local", "s3://datasets/ocr/det/invoices-v2/train_icdar.txt", "{}", 18_500),
            "hmean", ["precision", "recall"], 25, null, ["zhang.min"],
            new Dictionary<string, string> { ["epochs"] = "25", ["model"] = "DBNet", ["thresh"] = "0.3", ["box_thresh"] = "0.6" },
            [("backbone", ["MobileNetV3", "ResNet50"]), ("learning_rate", ["0.001", "0.0007", "0.0003"]), ("batch_size", ["8", "16"]),
                ("seed", ["1", "2"])],
            p => new DemoOutcome(
                Final: (p["backbone"] == "ResNet50" ? 0.873 : 0.821) - (0.02 * Math.Abs(Math.Log10(D(p["learning_rate"]) / 0.0007))),
                Speed: 0.15, Overfits: p["backbone"] == "ResNet50" && p["batch_size"] == "8", Diverges: false)),

        new("text-classification-ernie", "text-classification", "nlp",
            "ERNIE 3.0 medium fine-tuned on ChnSentiCorp (sentiment, two classes) with PaddleNLP; a search over learning " +
            "rate, batch size, sequence length and optimizer, nested under one search run.",
            "examples/text_classification/train.py", "ernie-3.0-medium-zh",
            """[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1, -1]}, "name": "input_ids"}, {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1, -1]}, "name": "token_type_ids"}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]""",
            new("chnsenticorp", "paddlenlp.datasets", "paddlenlp.datasets.load_dataset('chnsenticorp', splits='train')", "{}", 9_600),
            "eval_accuracy", ["eval_f1"], 5, "hpo ernie-3.0 chnsenticorp", ["sam.okafor", "li.wei"],
            new Dictionary<string, string> { ["epochs"] = "5", ["model"] = "ernie-3.0-medium-zh", ["warmup_proportion"] = "0.1" },
            [("learning_rate", ["5e-05", "3e-05", "2e-05"]), ("batch_size", ["16", "32"]), ("max_seq_length", ["128", "256"]),
                ("optimizer", ["adamw", "adam"]), ("seed", ["1", "2"])],
            p => new DemoOutcome(
                Final: 0.951 - (0.012 * Math.Abs(Math.Log10(D(p["learning_rate"]) / 3e-5)) * 10) + (p["max_seq_length"] == "256" ? 0.004 : 0)
                    - (p["optimizer"] == "adam" ? 0.006 : 0),
                Speed: 0.9, Overfits: p["learning_rate"] == "5e-05", Diverges: false)),

        new("text-classification-bilstm", "text-classification", "nlp",
            "A BiLSTM baseline on ChnSentiCorp (jieba tokens, 300-dimensional embeddings): cheaper than ERNIE, several points " +
            "behind it, and it overfits with the largest hidden size.",
            "examples/text_classification/rnn/train.py", "BiLSTM",
            """[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1, -1]}}]""",
            """[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]""",
            new("chnsenticorp", "paddlenlp.datasets", "paddlenlp.datasets.load_dataset('chnsenticorp', splits='train')", "{}", 9_600),
            "eval_accuracy", [], 12, null, ["sam.okafor"],
            new Dictionary<string, string> { ["epochs"] = "12", ["model"] = "BiLSTM", ["embedding_dim"] = "300" },
            [("learning_rate", ["0.01", "0.002", "0.001"]), ("batch_size", ["32", "64"]), ("hidden_size", ["128", "256", "512"]), ("seed", ["1", "2"])],
            p => new DemoOutcome(
                Final: 0.887 - (0.02 * Math.Abs(Math.Log10(D(p["learning_rate"]) / 0.002))) + (p["hidden_size"] == "256" ? 0.006 : 0),
                Speed: 0.45, Overfits: p["hidden_size"] == "512", Diverges: false)),
    ];

    /// <summary>The large sweep of <c>--seed-demo-runs</c>: SimpleCNN on MNIST over a fine grid, without artifacts.</summary>
    public static DemoExperimentSpec LargeSweep { get; } = Experiments[0] with
    {
        Name = "mnist-simplecnn-large-sweep",
        Note = "A large random search of SimpleCNN on MNIST, made by --seed-demo-runs for performance trials (no artifacts).",
        ParentRunName = null,
        Grid = [],
    };

    /// <summary>The grid's configurations in a fixed order (the last key varies fastest).</summary>
    public static List<Dictionary<string, string>> Configurations(DemoExperimentSpec spec)
    {
        var result = new List<Dictionary<string, string>> { new(spec.FixedParams, StringComparer.Ordinal) };
        foreach (var (key, values) in spec.Grid)
        {
            result = [.. result.SelectMany(c => values.Select(v => new Dictionary<string, string>(c, StringComparer.Ordinal) { [key] = v }))];
        }
        return result;
    }

    /// <summary>Plans one run: status, duration and curves from the configuration's outcome and the shared random source.</summary>
    public static DemoRunPlan Run(DemoExperimentSpec spec, IReadOnlyDictionary<string, string> p, string name, long start, Random rng)
    {
        var outcome = spec.Score(p);
        var epochs = spec.Epochs;
        var killedAt = rng.NextDouble() < 0.04 ? 1 + rng.Next(Math.Max(1, epochs - 2)) : (int?)null;
        var divergeAt = outcome.Diverges ? 1 + rng.Next(2) : (int?)null;
        var logged = divergeAt ?? killedAt ?? epochs;
        var final = Math.Clamp(outcome.Final + Noise(rng, 0.004), 0.05, 0.9995);

        var curves = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            ["train_loss"] = new double[logged],
            ["val_loss"] = new double[logged],
            [spec.PrimaryMetric] = new double[logged],
            ["learning_rate"] = new double[logged],
        };
        foreach (var extra in spec.ExtraMetrics)
        {
            curves[extra] = new double[logged];
        }
        var lr = p.TryGetValue("learning_rate", out var l) ? D(l) : 0.001;
        var startLoss = 2.3 + Noise(rng, 0.05);
        var floorLoss = Math.Max(0.01, (1 - final) * 1.6);
        for (var e = 0; e < logged; e++)
        {
            var decay = Math.Exp(-outcome.Speed * 3 * (e + 1));
            var train = floorLoss * 0.7 + ((startLoss - floorLoss) * decay) + Noise(rng, 0.02 * (floorLoss + decay));
            var val = floorLoss + ((startLoss - floorLoss) * decay * 1.05) + Noise(rng, 0.03 * (floorLoss + decay));
            if (outcome.Overfits && e > epochs / 3)
            {
                // Training loss keeps falling while the validation loss climbs: the classic overfitting picture.
                train *= 1 - (0.03 * (e - (epochs / 3)));
                val += 0.012 * Math.Pow(e - (epochs / 3), 1.4);
            }
            var acc = final * (1 - (0.85 * Math.Exp(-outcome.Speed * 4 * (e + 1)))) + Noise(rng, 0.003);
            if (outcome.Overfits && e > epochs / 2)
            {
                acc -= 0.002 * (e - (epochs / 2));
            }
            if (divergeAt is { } d)
            {
                // Too large a step for Adam: the loss explodes, then is no number at all.
                train = e == d - 1 ? double.NaN : startLoss * Math.Pow(8, e + 1);
                val = e == d - 1 ? double.NaN : startLoss * Math.Pow(9, e + 1);
                acc = 0.098 + Noise(rng, 0.01);
            }
            curves["train_loss"][e] = Math.Max(0.0005, train);
            curves["val_loss"][e] = Math.Max(0.0005, val);
            curves[spec.PrimaryMetric][e] = Math.Clamp(acc, 0, 1);
            // Cosine decay from the configured rate, as Paddle's CosineAnnealingDecay.
            curves["learning_rate"][e] = lr * 0.5 * (1 + Math.Cos(Math.PI * e / epochs));
            foreach (var extra in spec.ExtraMetrics)
            {
                curves[extra][e] = extra switch
                {
                    "val_norm_edit_dis" => Math.Clamp(acc + ((1 - acc) * 0.72) + Noise(rng, 0.002), 0, 1),
                    "precision" => Math.Clamp(acc + 0.025 + Noise(rng, 0.005), 0, 1),
                    "recall" => Math.Clamp(acc - 0.022 + Noise(rng, 0.005), 0, 1),
                    _ => Math.Clamp(acc - 0.004 + Noise(rng, 0.003), 0, 1),
                };
            }
        }
        // Train loss of a diverged run is NaN at its last epoch (logged as such: MLflow keeps NaN).
        if (divergeAt is not null)
        {
            curves["train_loss"][^1] = double.NaN;
            curves["val_loss"][^1] = double.NaN;
        }

        var batch = p.TryGetValue("batch_size", out var b) ? D(b) : 32;
        var epochSeconds = spec.Dataset.Rows / (batch * 40.0) * (spec.Architecture.Contains("ResNet", StringComparison.Ordinal) ? 2.5 : 1)
            * (1 + Noise(rng, 0.05));
        var status = divergeAt is not null ? "FAILED" : killedAt is not null ? "KILLED" : "FINISHED";
        return new DemoRunPlan
        {
            Experiment = spec,
            Name = name,
            User = spec.Users[rng.Next(spec.Users.Count)],
            Params = p,
            Status = status,
            StartTime = start,
            EndTime = start + (long)(Math.Max(20, epochSeconds) * 1000 * logged) + 15_000,
            GitCommit = Convert.ToHexStringLower(BitConverter.GetBytes(rng.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(rng.NextInt64()))
                + Convert.ToHexStringLower(BitConverter.GetBytes(rng.Next())),
            Note = status switch
            {
                "FAILED" => $"Diverged: loss became NaN at epoch {logged} (learning rate {p.GetValueOrDefault("learning_rate")} is too large for {p.GetValueOrDefault("optimizer")}).",
                "KILLED" => $"Stopped by hand after epoch {logged}: the GPU was needed elsewhere.",
                _ => null,
            },
            Curves = curves,
        };
    }

    /// <summary>A short run name the way people name them: the model and the values that differ in the grid.</summary>
    public static string RunName(DemoExperimentSpec spec, IReadOnlyDictionary<string, string> p) =>
        string.Join("-", new[] { spec.Architecture.ToLowerInvariant() }
            .Concat(spec.Grid.Select(g => Short(g.Key) + p[g.Key])));

    private static string Short(string key) => key switch
    {
        "learning_rate" => "lr",
        "batch_size" => "bs",
        "optimizer" => "",
        "weight_decay" => "wd",
        "max_seq_length" => "len",
        "hidden_size" => "h",
        "backbone" => "",
        "seed" => "s",
        _ => key,
    };

    private static DemoOutcome Classifier(IReadOnlyDictionary<string, string> p, double best, double floor, double adamBest, double sgdBest, bool diverge)
    {
        var lr = D(p["learning_rate"]);
        // Momentum wants a smaller step than plain SGD; Adam a smaller one still.
        var optimum = p["optimizer"] switch { "adam" => adamBest, "momentum" => sgdBest / 10, _ => sgdBest };
        var distance = Math.Abs(Math.Log10(lr / optimum));
        var batchPenalty = p["batch_size"] switch { "128" => 0.0015, "32" => 0.0005, _ => 0 };
        var optimizerPenalty = p["optimizer"] == "sgd" ? 0.002 : 0;
        var final = best - ((best - floor) * Math.Min(1, distance * distance / 6)) - batchPenalty - optimizerPenalty;
        return new DemoOutcome(final, Speed: 0.25 + (Math.Min(1, lr / optimum) * 0.35), Overfits: false, Diverges: diverge);
    }

    /// <summary>Gaussian noise (Box-Muller) from the shared source, so the whole demo follows one seed.</summary>
    private static double Noise(Random rng, double sigma)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Sin(2.0 * Math.PI * u2);
    }

    internal static double D(string value) => double.Parse(value, NumberStyles.Float, Inv);
}
