using System.Text;

namespace Dsdc.Tests.Embedding;

/// <summary>
/// Just enough of the protobuf wire format to write small ONNX models (onnx.proto field numbers), so the tests can make
/// stand-in models without Python or a protobuf package.
/// </summary>
internal sealed class OnnxProto
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public OnnxProto Varint(int field, long value) => Tag(field, 0).Raw(value);

    public OnnxProto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public OnnxProto Message(int field, OnnxProto message) => Bytes(field, message.ToArray());

    public OnnxProto Bytes(int field, byte[] value)
    {
        Tag(field, 2).Raw(value.Length);
        _buffer.Write(value);
        return this;
    }

    private OnnxProto Tag(int field, int wireType) => Raw((field << 3) | wireType);

    private OnnxProto Raw(long value)
    {
        var v = (ulong)value;
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
        return this;
    }

    // ---- ONNX messages ----
    public const int Float = 1, Int64 = 7;

    public static OnnxProto Model(OnnxProto graph, int opset = 13) => new OnnxProto()
        .Varint(1, 8)                                   // ir_version
        .String(2, "dsdc-tests")                        // producer_name
        .Message(7, graph)
        .Message(8, new OnnxProto().String(1, "").Varint(2, opset));

    public static OnnxProto Graph(string name, IEnumerable<OnnxProto> nodes, IEnumerable<OnnxProto> initializers,
        IEnumerable<OnnxProto> inputs, IEnumerable<OnnxProto> outputs)
    {
        var g = new OnnxProto();
        foreach (var n in nodes) g.Message(1, n);
        g.String(2, name);
        foreach (var t in initializers) g.Message(5, t);
        foreach (var i in inputs) g.Message(11, i);
        foreach (var o in outputs) g.Message(12, o);
        return g;
    }

    public static OnnxProto Node(string op, string[] inputs, string[] outputs, params OnnxProto[] attributes)
    {
        var n = new OnnxProto();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, $"{op}_{outputs[0]}").String(4, op);
        foreach (var a in attributes) n.Message(5, a);
        return n;
    }

    public static OnnxProto IntsAttribute(string name, params long[] values)
    {
        var a = new OnnxProto().String(1, name);
        foreach (var v in values) a.Varint(8, v);
        return a.Varint(20, 7);                         // AttributeType.INTS
    }

    public static OnnxProto IntAttribute(string name, long value) => new OnnxProto().String(1, name).Varint(3, value).Varint(20, 2);

    public static OnnxProto Tensor(string name, long[] dims, float[] values)
    {
        var t = new OnnxProto();
        foreach (var d in dims) t.Varint(1, d);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return t.Varint(2, Float).String(8, name).Bytes(9, raw);
    }

    public static OnnxProto Tensor(string name, long[] dims, long[] values)
    {
        var t = new OnnxProto();
        foreach (var d in dims) t.Varint(1, d);
        var raw = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return t.Varint(2, Int64).String(8, name).Bytes(9, raw);
    }

    /// <summary>A graph input or output; a string dimension is symbolic (batch, sequence).</summary>
    public static OnnxProto Value(string name, int elementType, params object[] dims)
    {
        var shape = new OnnxProto();
        foreach (var d in dims)
            shape.Message(1, d is string symbol ? new OnnxProto().String(2, symbol) : new OnnxProto().Varint(1, Convert.ToInt64(d)));
        var tensorType = new OnnxProto().Varint(1, elementType).Message(2, shape);
        return new OnnxProto().String(1, name).Message(2, new OnnxProto().Message(1, tensorType));
    }
}
