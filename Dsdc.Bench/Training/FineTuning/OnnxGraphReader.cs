using System.Text;

namespace Dsdc.Training.FineTuning;

/// <summary>A node of an ONNX graph: its operator, inputs, outputs and float attributes (e.g. a batch norm's epsilon).</summary>
public sealed record OnnxNode(string Op, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyDictionary<string, float> Floats);

/// <summary>A float initializer of an ONNX graph (a weight).</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Data);

/// <summary>
/// Reads the nodes (in graph order) and float initializers of an ONNX model with just enough of the protobuf wire format
/// (field numbers of onnx.proto: ModelProto.graph 7; GraphProto.node 1, initializer 5; NodeProto input 1, output 2,
/// op_type 4, attribute 5; AttributeProto name 1, f 2; TensorProto dims 1, data_type 2, float_data 4, name 8, raw_data 9),
/// the counterpart of <see cref="OnnxWriter"/>. Used to start TorchSharp networks from weights shipped as ONNX.
/// </summary>
public sealed class OnnxGraphReader
{
    private const int FloatType = 1;

    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    private OnnxGraphReader(IReadOnlyList<OnnxNode> nodes, IReadOnlyDictionary<string, OnnxTensor> initializers)
    {
        Nodes = nodes;
        Initializers = initializers;
    }

    public static OnnxGraphReader Read(string path) => Parse(File.ReadAllBytes(path));

    public static OnnxGraphReader Parse(byte[] model)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (var m in Fields(model, 0, model.Length))
        {
            if (m.Field != 7 || m.WireType != 2) continue;
            foreach (var g in Fields(model, m.Start, m.Start + m.Length))
            {
                if (g.WireType != 2) continue;
                if (g.Field == 1) nodes.Add(Node(model, g.Start, g.Start + g.Length));
                else if (g.Field == 5 && Tensor(model, g.Start, g.Start + g.Length) is { } t) initializers[t.Name] = t;
            }
        }
        if (nodes.Count == 0) throw new InvalidDataException("no graph nodes found: not an ONNX model");
        return new OnnxGraphReader(nodes, initializers);
    }

    public OnnxTensor Initializer(string name) =>
        Initializers.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"the graph has no float initializer '{name}'");

    private static OnnxNode Node(byte[] b, int start, int end)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var op = "";
        var floats = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var f in Fields(b, start, end))
        {
            if (f.WireType != 2) continue;
            switch (f.Field)
            {
                case 1: inputs.Add(Encoding.UTF8.GetString(b, f.Start, f.Length)); break;
                case 2: outputs.Add(Encoding.UTF8.GetString(b, f.Start, f.Length)); break;
                case 4: op = Encoding.UTF8.GetString(b, f.Start, f.Length); break;
                case 5:
                    string? name = null;
                    float? value = null;
                    foreach (var a in Fields(b, f.Start, f.Start + f.Length))
                    {
                        if (a.Field == 1 && a.WireType == 2) name = Encoding.UTF8.GetString(b, a.Start, a.Length);
                        else if (a.Field == 2 && a.WireType == 5) value = BitConverter.Int32BitsToSingle((int)a.Value);
                    }
                    if (name is not null && value is { } v) floats[name] = v;
                    break;
            }
        }
        return new OnnxNode(op, inputs, outputs, floats);
    }

    private static OnnxTensor? Tensor(byte[] b, int start, int end)
    {
        var dims = new List<long>();
        var name = "";
        var type = 0;
        float[]? data = null;
        var floatList = new List<float>();
        foreach (var f in Fields(b, start, end))
        {
            switch (f.Field)
            {
                case 1 when f.WireType == 0: dims.Add((long)f.Value); break;
                case 1 when f.WireType == 2:
                    for (var p = f.Start; p < f.Start + f.Length;)
                    {
                        var (v, next) = Varint(b, p);
                        dims.Add((long)v);
                        p = next;
                    }
                    break;
                case 2 when f.WireType == 0: type = (int)f.Value; break;
                case 4 when f.WireType == 5: floatList.Add(BitConverter.Int32BitsToSingle((int)f.Value)); break;
                case 4 when f.WireType == 2:
                    floatList.AddRange(FloatsOf(b, f.Start, f.Length)); break;
                case 8 when f.WireType == 2: name = Encoding.UTF8.GetString(b, f.Start, f.Length); break;
                case 9 when f.WireType == 2: data = FloatsOf(b, f.Start, f.Length); break;
            }
        }
        if (type != FloatType) return null;
        data ??= floatList.ToArray();
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (data.Length != count)
            throw new InvalidDataException($"initializer '{name}' holds {data.Length} values for dims [{string.Join(',', dims)}]");
        return new OnnxTensor(name, dims.ToArray(), data);
    }

    private static float[] FloatsOf(byte[] b, int start, int length)
    {
        if (length % 4 != 0) throw new InvalidDataException("float data whose length is not a multiple of 4");
        var result = new float[length / 4];
        Buffer.BlockCopy(b, start, result, 0, length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        return result;
    }

    private readonly record struct WireField(int Field, int WireType, ulong Value, int Start, int Length);

    private static IEnumerable<WireField> Fields(byte[] b, int start, int end)
    {
        var p = start;
        while (p < end)
        {
            var (tag, afterTag) = Varint(b, p);
            p = afterTag;
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    var (v, afterValue) = Varint(b, p);
                    p = afterValue;
                    yield return new WireField(field, wire, v, 0, 0);
                    break;
                case 1:
                    yield return new WireField(field, wire, BitConverter.ToUInt64(b, p), 0, 0);
                    p += 8;
                    break;
                case 2:
                    var (length, afterLength) = Varint(b, p);
                    p = afterLength;
                    if (p + (long)length > end) throw new InvalidDataException("a protobuf field runs past its message");
                    yield return new WireField(field, wire, 0, p, (int)length);
                    p += (int)length;
                    break;
                case 5:
                    yield return new WireField(field, wire, BitConverter.ToUInt32(b, p), 0, 0);
                    p += 4;
                    break;
                default:
                    throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
        }
    }

    private static (ulong Value, int Next) Varint(byte[] b, int p)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var x = b[p++];
            result |= (ulong)(x & 0x7f) << shift;
            if ((x & 0x80) == 0) return (result, p);
        }
        throw new InvalidDataException("a protobuf varint longer than 10 bytes");
    }
}
