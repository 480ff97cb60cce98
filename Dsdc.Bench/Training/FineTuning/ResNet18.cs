using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dsdc.Training.FineTuning;

/// <summary>
/// ResNet18 in TorchSharp, started from the ImageNet weights that the bundled ML.NET DnnImageFeaturizer ONNX graphs
/// carry (<see cref="LoadImageNet"/>), with the same input as those graphs: planar RGB 0-255 of 224x224, turned to BGR
/// minus the package's mean image. <see cref="Features"/> is the 512-value global average pool, the value the ONNX
/// encoder returns before normalisation.
/// </summary>
public sealed class ResNet18 : Module<Tensor, Tensor>
{
    public const int Size = 224, FeatureDimensions = 512;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Parameter mean;
    private readonly BasicBlock[] _blocks;

    /// <summary>A residual network of basic blocks; <paramref name="blocks"/> per stage (64, 128, 256, 512 channels).
    /// The DnnImageFeaturizer "ResNet18" graph has 2, 2, 2, 3 (<see cref="FromOnnx"/> reads them from the graph).</summary>
    public ResNet18(IReadOnlyList<int> blocks) : base(nameof(ResNet18))
    {
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(3, 2, 1);
        if (blocks.Count != 4 || blocks.Any(b => b < 1)) throw new ArgumentException("four stages of at least one block", nameof(blocks));
        var stages = new List<BasicBlock[]>();
        var input = 64;
        for (var s = 0; s < 4; s++)
        {
            var output = 64 << s;
            stages.Add(Enumerable.Range(0, blocks[s]).Select(b => new BasicBlock(b == 0 ? input : output, output, b == 0 && s > 0 ? 2 : 1)).ToArray());
            input = output;
        }
        _blocks = stages.SelectMany(b => b).ToArray();
        layer1 = Sequential(stages[0]);
        layer2 = Sequential(stages[1]);
        layer3 = Sequential(stages[2]);
        layer4 = Sequential(stages[3]);
        mean = Parameter(zeros(1, 3, Size, Size), requires_grad: false);
        RegisterComponents();
    }

    /// <summary>The network of the DnnImageFeaturizer graphs bundled with the encoder (<see cref="Dsdc.Embedding.EncoderCatalog.BundledModelsDir"/>).</summary>
    public static ResNet18 FromBundled()
    {
        var dir = Path.Combine(Dsdc.Embedding.EncoderCatalog.BundledModelsDir, "resnet18");
        return FromOnnx(Path.Combine(dir, "ResNet18.onnx"), Path.Combine(dir, "ResNetPreprocess.onnx"));
    }

    /// <summary>The network of the bundled DnnImageFeaturizer graphs with their ImageNet weights.</summary>
    public static ResNet18 FromOnnx(string networkPath, string preprocessPath)
    {
        var network = OnnxGraphReader.Read(networkPath);
        // Each stage's 3x3 convolutions, two per block, counted by their output channels.
        var blocks = Enumerable.Range(0, 4).Select(s => network.Nodes.Count(n => n.Op == "Conv" && network.Initializer(n.Inputs[1]) is { } w
            && w.Dims[0] == 64 << s && w.Dims[2] == 3) / 2).ToArray();
        var net = new ResNet18(blocks);
        net.LoadImageNet(network, OnnxGraphReader.Read(preprocessPath));
        return net;
    }

    /// <summary>The blocks in order, for freezing the early ones.</summary>
    public IReadOnlyList<Sequential> Layers => [layer1, layer2, layer3, layer4];

    /// <summary>Everything up to the end of <paramref name="upTo"/> (1-4) from planar RGB 0-255.</summary>
    public Tensor Trunk(Tensor rgb, int upTo)
    {
        using var scope = NewDisposeScope();
        var bgr = rgb.flip(1) - mean;
        var x = maxpool.forward(functional.relu(bn1.forward(conv1.forward(bgr))));
        for (var i = 0; i < upTo; i++) x = Layers[i].forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The feature maps after each stage (1-4) of a planar RGB 0-255 batch of any size; the mean image is resized to it
    /// (bilinear), so a 448x576 page is seen at twice the detail of the 224x224 encoder input.
    /// </summary>
    public Tensor[] Stages(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var size = new[] { rgb.shape[2], rgb.shape[3] };
        var m = size[0] == Size && size[1] == Size ? mean : functional.interpolate(mean, size, mode: InterpolationMode.Bilinear, align_corners: false);
        var x = maxpool.forward(functional.relu(bn1.forward(conv1.forward(rgb.flip(1) - m))));
        var outputs = new Tensor[4];
        for (var i = 0; i < 4; i++) outputs[i] = x = Layers[i].forward(x);
        foreach (var o in outputs) o.MoveToOuterDisposeScope();
        return outputs;
    }

    /// <summary>Interleaved RGB bytes of <paramref name="width"/> x <paramref name="height"/> to a planar float batch 0-255.</summary>
    public static Tensor Input(IReadOnlyList<byte[]> rgb, int width, int height)
    {
        var plane = width * height;
        var data = new float[rgb.Count * 3 * plane];
        for (var n = 0; n < rgb.Count; n++)
        for (var p = 0; p < plane; p++)
        for (var c = 0; c < 3; c++)
            data[(n * 3 + c) * plane + p] = rgb[n][3 * p + c];
        return tensor(data, [rgb.Count, 3, height, width]);
    }

    /// <summary>The blocks after <paramref name="from"/> (0-4) and the global average pool: [N, 512].</summary>
    public Tensor Head(Tensor x, int from)
    {
        using var scope = NewDisposeScope();
        for (var i = from; i < 4; i++) x = Layers[i].forward(x);
        return x.mean([2L, 3L]).MoveToOuterDisposeScope();
    }

    /// <summary>Interleaved RGB 224x224 bytes to a planar float batch 0-255.</summary>
    public static Tensor Input(IReadOnlyList<byte[]> rgb) => Input(rgb, Size, Size);

    public Tensor Features(Tensor rgb) => Head(Trunk(rgb, 0), 0);

    public override Tensor forward(Tensor rgb) => Features(rgb);

    /// <summary>
    /// Copies the ImageNet weights from the DnnImageFeaturizer graphs: each Conv of <paramref name="network"/> and the
    /// BatchNormalization after it, in graph order (the graph was converted from CNTK, so names say nothing; the 1x1
    /// convolutions are the shortcut projections), and the mean image of <paramref name="preprocess"/>. Every shape is checked.
    /// </summary>
    public void LoadImageNet(OnnxGraphReader network, OnnxGraphReader preprocess)
    {
        var pairs = new List<(OnnxTensor Conv, OnnxNode Norm)>();
        foreach (var node in network.Nodes.Where(n => n.Op == "Conv"))
        {
            var norm = network.Nodes.Single(n => n.Op == "BatchNormalization" && n.Inputs[0] == node.Outputs[0]);
            pairs.Add((network.Initializer(node.Inputs[1]), norm));
        }
        var projections = new Queue<(OnnxTensor, OnnxNode)>(pairs.Where(p => p.Conv.Dims[2] == 1));
        var others = new Queue<(OnnxTensor, OnnxNode)>(pairs.Where(p => p.Conv.Dims[2] != 1));
        using (no_grad())
        {
            Copy(conv1, bn1, others.Dequeue(), network);
            foreach (var block in _blocks)
                block.Load(others, projections, network);
            if (others.Count + projections.Count != 0) throw new InvalidDataException("the graph has more convolutions than ResNet18");
            var meanImage = preprocess.Initializer("MeanImage");
            Assign(mean, meanImage);
        }
    }

    internal static void Copy(Conv2d conv, BatchNorm2d norm, (OnnxTensor Conv, OnnxNode Norm) source, OnnxGraphReader graph)
    {
        Assign(conv.weight!, source.Conv);
        Assign(norm.weight!, graph.Initializer(source.Norm.Inputs[1]));
        Assign(norm.bias!, graph.Initializer(source.Norm.Inputs[2]));
        Assign(norm.running_mean!, graph.Initializer(source.Norm.Inputs[3]));
        Assign(norm.running_var!, graph.Initializer(source.Norm.Inputs[4]));
        if (source.Norm.Floats.TryGetValue("epsilon", out var eps)) norm.eps = eps;
    }

    private static void Assign(Tensor target, OnnxTensor source)
    {
        var shape = target.shape;
        // A batch norm's vectors may be stored as [C] or [C,1,1]; everything else must match exactly.
        var same = source.Dims.Length == shape.Length ? shape.SequenceEqual(source.Dims) : shape.Length == 1 && shape[0] == source.Data.Length;
        if (!same)
            throw new InvalidDataException($"{source.Name} is [{string.Join(',', source.Dims)}], the network expects [{string.Join(',', shape)}]");
        target.copy_(tensor(source.Data).reshape(shape));
    }

    /// <summary>Two 3x3 convolutions with batch norm and a shortcut (a 1x1 projection where the shape changes).</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Conv2d? downsample_conv;
        private readonly BatchNorm2d? downsample_bn;

        public BasicBlock(int input, int output, int stride) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(output);
            conv2 = Conv2d(output, output, 3, stride: 1, padding: 1, bias: false);
            bn2 = BatchNorm2d(output);
            if (stride != 1 || input != output)
            {
                downsample_conv = Conv2d(input, output, 1, stride: stride, bias: false);
                downsample_bn = BatchNorm2d(output);
            }
            RegisterComponents();
        }

        public void Load(Queue<(OnnxTensor, OnnxNode)> convs, Queue<(OnnxTensor, OnnxNode)> projections, OnnxGraphReader graph)
        {
            Copy(conv1, bn1, convs.Dequeue(), graph);
            Copy(conv2, bn2, convs.Dequeue(), graph);
            if (downsample_conv is not null) Copy(downsample_conv, downsample_bn!, projections.Dequeue(), graph);
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = bn2.forward(conv2.forward(functional.relu(bn1.forward(conv1.forward(x)))));
            var shortcut = downsample_conv is null ? x : downsample_bn!.forward(downsample_conv.forward(x));
            return functional.relu(y + shortcut).MoveToOuterDisposeScope();
        }
    }
}
