using System.Text;

namespace Dsdc.Training;

/// <summary>
/// Just enough of the protobuf wire format to write an ONNX model (field numbers of onnx.proto): TorchSharp has no
/// ONNX export, and a dense MLP is a handful of nodes, so the graph is written directly without a protobuf package.
/// </summary>
internal sealed class OnnxWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public OnnxWriter Varint(int field, long value) => Tag(field, 0).Raw((ulong)value);

    public OnnxWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, value);
        _buffer.Write(bytes);
        return this;
    }

    public OnnxWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public OnnxWriter Message(int field, OnnxWriter message) => Bytes(field, message.ToArray());

    public OnnxWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2).Raw((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    private OnnxWriter Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

    private OnnxWriter Raw(ulong v)
    {
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
        return this;
    }

    // ---- onnx.proto messages ----
    private const int FloatType = 1, AttrFloat = 1, AttrInt = 2;

    public static OnnxWriter Node(string op, string name, string[] inputs, string output, params OnnxWriter[] attributes)
    {
        var n = new OnnxWriter();
        foreach (var i in inputs) n.String(1, i);
        n.String(2, output).String(3, name).String(4, op);
        foreach (var a in attributes) n.Message(5, a);
        return n;
    }

    public static OnnxWriter IntAttribute(string name, long value) => new OnnxWriter().String(1, name).Varint(3, value).Varint(20, AttrInt);

    public static OnnxWriter FloatAttribute(string name, float value) => new OnnxWriter().String(1, name).Float(2, value).Varint(20, AttrFloat);

    public static OnnxWriter Tensor(string name, long[] dims, float[] values)
    {
        var t = new OnnxWriter();
        foreach (var d in dims) t.Varint(1, d);
        var raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length); // raw_data is little-endian, as is every platform .NET runs here
        return t.Varint(2, FloatType).String(8, name).Bytes(9, raw);
    }

    /// <summary>A float graph input or output of shape [batch, <paramref name="width"/>] with a symbolic batch.</summary>
    public static OnnxWriter FloatMatrix(string name, int width)
    {
        var shape = new OnnxWriter()
            .Message(1, new OnnxWriter().String(2, "batch"))
            .Message(1, new OnnxWriter().Varint(1, width));
        var tensorType = new OnnxWriter().Varint(1, FloatType).Message(2, shape);
        return new OnnxWriter().String(1, name).Message(2, new OnnxWriter().Message(1, tensorType));
    }

    public static OnnxWriter Entry(string key, string value) => new OnnxWriter().String(1, key).String(2, value);
}
