using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Training;

/// <summary>Runs an exported MLP on ONNX Runtime's CPU provider: re-scores a champion on today's test split.</summary>
public static class OnnxMlpRunner
{
    public static float[][] Predict(string modelPath, IReadOnlyList<float[]> rows)
    {
        if (rows.Count == 0) return [];
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(modelPath, options);
        return Predict(session, rows);
    }

    /// <summary>A CPU session with one thread: what training uses to re-score a champion.</summary>
    public static InferenceSession CpuSession(string modelPath)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        return new InferenceSession(modelPath, options);
    }

    public static float[][] Predict(InferenceSession session, IReadOnlyList<float[]> rows, string output = OnnxExport.OutputName)
    {
        var dims = rows[0].Length;
        var flat = new float[rows.Count * dims];
        for (var i = 0; i < rows.Count; i++) rows[i].CopyTo(flat, i * dims);
        using var input = OrtValue.CreateTensorValueFromMemory(flat, [rows.Count, dims]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [OnnxExport.InputName], [input], [output]);
        var probabilities = outputs[0].GetTensorDataAsSpan<float>();
        var classes = probabilities.Length / rows.Count;
        var result = new float[rows.Count][];
        for (var i = 0; i < rows.Count; i++) result[i] = probabilities.Slice(i * classes, classes).ToArray();
        return result;
    }
}
